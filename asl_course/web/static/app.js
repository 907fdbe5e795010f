// The page: camera (or a photo) -> the training preparation (prepare.js) -> the ONNX model in
// onnxruntime-web (WebAssembly, served from /ort/, no CDN) -> the top 3 letters.
import * as ort from "/ort/ort.wasm.min.mjs";
import { prepareRGBA, centreSquare, SIZE } from "./prepare.js";

const LETTERS = "ABCDEFGHIKLMNOPQRSTUVWXY"; // 24 static letters: no J, no Z (they need motion)
const $ = (id) => document.getElementById(id);
const video = $("video"), photo = $("photo"), frame = $("frame"), seen = $("seen");
const frameCtx = frame.getContext("2d", { willReadFrequently: true });
const seenCtx = seen.getContext("2d");
const asl = (window.asl = { session: null, stats: { frames: 0, fps: 0, prepareMs: 0, modelMs: 0, prepareTotal: 0, modelTotal: 0 }, shown: null });
let busy = false, stream = null;

function status(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

async function loadModel() {
  ort.env.wasm.wasmPaths = "/ort/";
  ort.env.wasm.numThreads = 1; // a 28x28 model: one thread, no cross-origin isolation needed
  asl.session = await ort.InferenceSession.create("/model.onnx", { executionProviders: ["wasm"] });
}

async function classify(input) {
  const t = performance.now();
  const tensor = new ort.Tensor("float32", input, [1, SIZE, SIZE, 1]);
  const out = await asl.session.run({ image: tensor });
  asl.stats.modelMs = performance.now() - t;
  asl.stats.modelTotal += asl.stats.modelMs;
  const probs = Array.from(out.probabilities.data);
  return probs.map((p, i) => [LETTERS[i], p]).sort((a, b) => b[1] - a[1]).slice(0, 3);
}

function show(gray, top, image, input) {
  const pixels = seenCtx.createImageData(SIZE, SIZE);
  for (let i = 0; i < gray.length; i++) {
    pixels.data.set([gray[i], gray[i], gray[i], 255], i * 4);
  }
  seenCtx.putImageData(pixels, 0, 0);
  $("top").querySelectorAll("li").forEach((li, i) => {
    li.querySelector(".letter").textContent = top[i][0];
    li.querySelector(".bar span").style.width = `${(100 * top[i][1]).toFixed(1)}%`;
    li.querySelector(".prob").textContent = `${(100 * top[i][1]).toFixed(1)}%`;
  });
  asl.shown = { top, image, input }; // what is on screen, and the frame it came from (for tests)
}

// One picture (a video frame or a photo), drawn whole into the frame canvas -> letters.
async function read(source, w, h, white = false) {
  frame.width = w; frame.height = h;
  if (white) { frameCtx.fillStyle = "#fff"; frameCtx.fillRect(0, 0, w, h); } // transparency on white
  frameCtx.drawImage(source, 0, 0, w, h);
  const image = frameCtx.getImageData(0, 0, w, h);
  const t = performance.now();
  const { input, gray } = prepareRGBA(image.data, w, h);
  asl.stats.prepareMs = performance.now() - t;
  asl.stats.prepareTotal += asl.stats.prepareMs;
  const top = await classify(input);
  show(gray, top, image, input);
  return top;
}

function placeGuide(w, h) { // the centre square the model sees, over the shown picture
  const stage = $("stage").getBoundingClientRect();
  const scale = Math.min(stage.width / w, stage.height / h);
  const [left, top, side] = centreSquare(w, h);
  const g = $("guide").style;
  g.left = `${(stage.width - w * scale) / 2 + left * scale}px`;
  g.top = `${(stage.height - h * scale) / 2 + top * scale}px`;
  g.width = g.height = `${side * scale}px`;
}

let second = performance.now(), inSecond = 0;
async function onFrame() {
  if (!stream) return;
  if (!busy && video.videoWidth) {
    busy = true;
    try {
      await read(video, video.videoWidth, video.videoHeight);
      asl.stats.frames++; inSecond++;
      const now = performance.now();
      if (now - second >= 1000) {
        asl.stats.fps = (inSecond * 1000) / (now - second);
        second = now; inSecond = 0;
        $("speed").textContent = `${asl.stats.fps.toFixed(0)} frames/s · model ${asl.stats.modelMs.toFixed(1)} ms`;
      }
    } catch (err) {
      status(`Could not read the frame: ${err.message}`, true); console.error(err);
    } finally { busy = false; }
  }
  if ("requestVideoFrameCallback" in video) video.requestVideoFrameCallback(onFrame);
  else requestAnimationFrame(onFrame);
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    status("This browser gives no camera here: the camera needs https:// or http://localhost. Choose a photo instead.");
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (err) {
    stream = null;
    status(`No camera (${err.name}): allow the camera, or choose a photo instead.`);
    return;
  }
  photo.hidden = true; video.hidden = false;
  video.srcObject = stream;
  await video.play();
  placeGuide(video.videoWidth, video.videoHeight);
  status("Camera on: sign a letter inside the box.");
  onFrame();
}

function stopCamera() {
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
}

async function readPhoto(file) {
  if (!file || !file.type.startsWith("image/")) { status("That is not a picture: choose a PNG or JPEG photo.", true); return; }
  stopCamera();
  let bitmap;
  try { bitmap = await createImageBitmap(file, { imageOrientation: "from-image" }); }
  catch (err) { status(`Cannot read ${file.name} as a picture: save it again as PNG or JPEG.`, true); return; }
  photo.src = URL.createObjectURL(file); photo.hidden = false; video.hidden = true;
  const top = await read(bitmap, bitmap.width, bitmap.height, true);
  placeGuide(bitmap.width, bitmap.height);
  status(`${file.name}: most likely ${top[0][0]} (${(100 * top[0][1]).toFixed(1)}%).`);
}

$("start").addEventListener("click", startCamera);
$("file").addEventListener("change", (e) => readPhoto(e.target.files[0]));
document.addEventListener("dragover", (e) => { e.preventDefault(); document.body.classList.add("dragging"); });
document.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
document.addEventListener("drop", (e) => {
  e.preventDefault(); document.body.classList.remove("dragging");
  readPhoto(e.dataTransfer.files[0]);
});
window.addEventListener("resize", () => {
  if (stream) placeGuide(video.videoWidth, video.videoHeight);
  else if (!photo.hidden) placeGuide(photo.naturalWidth, photo.naturalHeight);
});
asl.prepareRGBA = prepareRGBA; // for the tests: the page's own preparation

try {
  await loadModel();
  status("Model loaded. Starting the camera…");
  asl.ready = true;
  if (!new URLSearchParams(location.search).has("nocamera")) await startCamera();
} catch (err) {
  status(`The model could not be loaded (${err.message}). Is asl-course serve running with a model?`, true);
  console.error(err);
}
