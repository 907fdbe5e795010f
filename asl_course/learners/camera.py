"""Your own hand: a picture from the camera, or an uploaded photo, for notebook 5 (issue 22).

:func:`capture` shows what the front end running the notebook can offer and **never waits**
where nobody can answer:

- **JupyterLab 4, Jupyter Notebook 7, VS Code**: one small widget (on `anywidget`_) shows the
  camera with a guide box (the centre square: exactly what :func:`predict.prepare_image`
  keeps) and a *Take picture* button; an ipywidgets ``FileUpload`` beside it takes a photo
  instead. The cell returns at once; the picture reaches the kernel when the learner clicks,
  and the next cell reads it with :meth:`Capture.picture`. (VS Code's notebook view gives no
  camera to any output, its issue 119127: the widget says so, and the upload button works.)
- **Google Colab**: Colab's own route, as in its camera snippet: JavaScript shown in the
  output, then ``google.colab.output.eval_js`` waits for the click and returns the picture as
  a data URL; *Upload a photo instead*, a camera error or a refused permission go on to
  ``google.colab.files.upload``.
- **No front end** (nbval, the autograder, the Colab-equivalent CI runtime, ``asl-course run``:
  :func:`notebook.interactive` is false there; or no IPython kernel at all): nothing is shown,
  the call returns at once with a one-line note, and :meth:`Capture.picture` gives the test
  image the notebook passes as its fallback.

.. _anywidget: https://anywidget.dev
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np

from asl_course.i18n import drawing, lookup, mark, t
from asl_course.learners import notebook, predict

#: Where each picture came from, as :attr:`Capture.source` says it (a note says it in the learner's language).
SOURCES = (mark("camera"), mark("upload"), mark("test image"))
#: The name a camera picture goes by in the notes.
CAMERA_FRAME = mark("camera frame")
#: The advice shown under the camera (the training images: a hand filling the frame, a plain wall).
ADVICE = mark("Hold your hand inside the yellow box, filling it, in front of a plain light wall, in good "
          "light. The model sees only what is inside the box, in gray, at 28x28 pixels.")
#: Said when no front end can answer (the notebook goes on with its test image).
NO_LEARNER = mark("No camera here: this notebook runs without a browser (an automated run: nbval, the "
              "grader, `asl-course run`), so nothing waits for a click; the next cells use a test image.")

#: The camera view's button labels (the page shows them in the learner's language).
TAKE_LABEL = mark("Take picture")
SKIP_LABEL = mark("Upload a photo instead")
#: What :meth:`Capture.picture` calls its fallback when the notebook names none.
TEST_IMAGE_NAME = mark("a test image")

#: The camera view, shared by the widget and Colab's route: a video with the guide box over
#: its centre square, the advice, and buttons. ``handlers.picture(canvas)`` gets the frame at
#: the camera's own size (it may return a promise: "picture taken" is said once it resolves);
#: ``handlers.status(text)`` says what happened ("error: ..." on failure).
VIEW_JS = r"""
function aslCameraView(el, handlers, options) {
  const box = document.createElement("div");
  box.className = "asl-camera";
  const stage = document.createElement("div");
  stage.style.cssText = "position:relative;display:inline-block;line-height:0;background:#222";
  const video = document.createElement("video");
  video.autoplay = true; video.muted = true; video.playsInline = true;
  video.style.cssText = "width:480px;max-width:100%;min-height:120px";
  const guide = document.createElement("div");
  guide.className = "asl-camera-guide";
  guide.style.cssText = "position:absolute;top:0;bottom:0;left:50%;transform:translateX(-50%);" +
    "aspect-ratio:1;border:3px dashed #f5c518;box-sizing:border-box;pointer-events:none";
  stage.append(video, guide);
  const advice = document.createElement("p");
  advice.textContent = options.advice;
  advice.style.cssText = "max-width:480px;margin:4px 0";
  const take = document.createElement("button");
  take.textContent = options.take || "Take picture"; take.className = "asl-camera-take"; take.disabled = true;
  const note = document.createElement("span");
  note.className = "asl-camera-status"; note.style.marginLeft = "8px";
  const row = document.createElement("div");
  row.append(take);
  if (options.skip) {
    const skip = document.createElement("button");
    skip.textContent = options.skip; skip.style.marginLeft = "8px";
    skip.onclick = () => handlers.skip();
    row.append(skip);
  }
  row.append(note);
  box.append(stage, advice, row);
  el.append(box);
  const say = (text) => { note.textContent = text; handlers.status(text); };
  let stream = null;
  if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
    say("error: this page gets no camera from the browser (it needs https:// or localhost, " +
        "and VS Code gives none to notebooks): upload a photo instead.");
  } else {
    navigator.mediaDevices.getUserMedia({video: {width: {ideal: 640}, height: {ideal: 480}}, audio: false})
      .then((s) => { stream = s; video.srcObject = s; return video.play(); })
      .then(() => { take.disabled = false; say("camera on: " + video.videoWidth + "x" + video.videoHeight); })
      .catch((err) => say("error: no camera (" + err.name + ": " + err.message +
                          "): allow (or connect) a camera, or upload a photo instead."));
  }
  take.onclick = () => {
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth; canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    Promise.resolve(handlers.picture(canvas))
      .then(() => say("picture taken (" + canvas.width + "x" + canvas.height + "): run the next cell."));
  };
  return () => { if (stream) stream.getTracks().forEach((t) => t.stop()); };
}
"""

#: The widget's front end (an ES module, as anywidget loads it): the frame goes to the kernel
#: as PNG bytes (lossless), the status as text.
WIDGET_ESM = VIEW_JS + r"""
export default {
  render({ model, el }) {
    return aslCameraView(el, {
      status(text) { model.set("status", text); model.save_changes(); },
      picture(canvas) {  // resolves once the frame is on its way to the kernel
        return new Promise((resolve) => canvas.toBlob(async (blob) => {
          model.set("frame", new DataView(await blob.arrayBuffer()));
          model.save_changes();
          resolve();
        }, "image/png"));
      },
    }, { advice: model.get("advice"), take: model.get("take") });
  },
};
"""

#: Colab's route: the view in the cell's output; the promise gives a PNG data URL, "" for the
#: upload button, or "error: ..." (eval_js returns what it resolves to).
COLAB_JS = VIEW_JS + r"""
async function aslTakePhoto(advice, take, skip) {
  const el = document.createElement("div");
  document.body.appendChild(el);
  const fit = () => google.colab.output.setIframeHeight(document.documentElement.scrollHeight, true);
  let stop = () => {};
  const answer = await new Promise((resolve) => {
    stop = aslCameraView(el, {
      status(text) { fit(); if (text.startsWith("error:")) resolve(text); },
      picture(canvas) { resolve(canvas.toDataURL("image/png")); },
      skip() { resolve(""); },
    }, { advice: advice, take: take, skip: skip || "Upload a photo instead" });
    fit();
  });
  stop();
  el.remove();
  return answer;
}
"""


class Capture:
    """One learner's picture: from the camera, an upload, or (none given) the notebook's test image.

    :func:`capture` returns it at once; a widget fills it when the learner clicks or uploads.
    """

    def __init__(self, note: str = "", *, waiting: bool = True):
        self.image = None  #: the learner's picture (a Pillow RGB image), or None
        self.source = None  #: "camera" or "upload" once a picture arrived
        self.note = note  #: what happened (a camera error, an unreadable upload, no front end)
        self.waiting = waiting  #: a widget shown above can still deliver a picture
        self.widgets = ()  #: what was shown (the camera widget, the upload button), for tests

    def receive(self, data: bytes, source: str, name: str = "the picture") -> bool:
        """Take a picture's file bytes; an unreadable file keeps what was there and says why."""
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(bytes(data))) as opened:
                image = notebook_image(opened)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            self.note = t("{name} is not a picture Pillow can read ({error}): "
                          "take another picture, or upload a PNG or JPEG.", name=name, error=type(exc).__name__)
            return False
        self.image, self.source = image, source
        self.note = t("{source}: {name}, {width}x{height}", source=lookup(source), name=name,
                      width=image.width, height=image.height)
        return True

    def array(self):
        """The picture as a ``(H, W, 3)`` uint8 array, or None."""
        return None if self.image is None else np.asarray(self.image)

    def picture(self, fallback, fallback_name: str = TEST_IMAGE_NAME):
        """The learner's picture, else ``fallback`` (a path or Pillow image), saying which: ``(image, source)``."""
        from PIL import Image

        if self.image is not None:
            print(t("Your picture ({note}).", note=self.note))
            return self.image, self.source
        note = self.note or t("No picture taken yet")
        if self.waiting:
            print(t("{note}. Using {fallback} instead (take a picture or upload one above, then run this cell again).",
                    note=note, fallback=lookup(fallback_name)))
        else:
            print(t("{note}. Using {fallback} instead.", note=note, fallback=lookup(fallback_name)))
        image = fallback if isinstance(fallback, Image.Image) else predict.open_image(fallback)
        return image.convert("RGB"), "test image"

    def camera_status(self, change) -> None:
        """The widget's status: a camera error becomes the note (until a picture arrives)."""
        text = change["new"] or ""
        if text.startswith("error:") and self.image is None:
            self.note = t("Camera: {error}", error=text[len("error:"):].strip())

    def camera_frame(self, change) -> None:
        """The widget's frame (PNG bytes) after the learner clicked *Take picture*."""
        if change["new"]:
            self.receive(change["new"], "camera", lookup(CAMERA_FRAME))


def notebook_image(opened):
    """A Pillow image as the kernel keeps it: EXIF orientation applied, RGB, pixels loaded."""
    from PIL import ImageOps

    image = ImageOps.exif_transpose(opened)
    image.load()
    return image.convert("RGB")


def decode_data_url(url: str) -> bytes:
    """The bytes of a ``data:...;base64,...`` URL (what the browser's canvas gives)."""
    head, _, body = str(url).partition(",")
    if not head.startswith("data:") or ";base64" not in head:
        raise ValueError(f"not a base64 data URL: {str(url)[:40]!r}")
    return base64.b64decode(body)


def front_end() -> str:
    """Which route :func:`capture` takes: ``"none"``, ``"colab"`` or ``"widget"``."""
    try:
        from IPython import get_ipython
    except ImportError:
        return "none"
    if get_ipython() is None or not notebook.interactive():
        return "none"
    return "colab" if notebook.in_colab() else "widget"


def capture(*, advice: str = ADVICE) -> Capture:
    """Show the camera (or Colab's, or an upload button) and return a :class:`Capture` at once.

    Where no front end can answer, nothing is shown and the capture says so (:data:`NO_LEARNER`).
    """
    route = front_end()
    if route == "none":
        print(lookup(NO_LEARNER))
        return Capture(t("No camera here (no browser runs this notebook)"), waiting=False)
    if route == "colab":
        return colab_capture(advice)
    return widget_capture(advice)


# --- JupyterLab, Notebook 7, VS Code: the widget --------------------------------------------


def camera_widget_class():
    """The anywidget class (made on first use: anywidget is imported only where it is shown)."""
    global _CameraWidget
    if _CameraWidget is None:
        import anywidget
        import traitlets
        from ipywidgets.widgets.trait_types import bytes_serialization

        class CameraWidget(anywidget.AnyWidget):
            """The camera with its guide box; ``frame`` holds the PNG the learner took."""

            _esm = WIDGET_ESM
            frame = traitlets.Bytes(b"").tag(sync=True, **bytes_serialization)
            status = traitlets.Unicode("").tag(sync=True)
            advice = traitlets.Unicode(ADVICE).tag(sync=True)
            take = traitlets.Unicode(TAKE_LABEL).tag(sync=True)

        _CameraWidget = CameraWidget
    return _CameraWidget


_CameraWidget = None


def upload_widget(shot: Capture):
    """An ipywidgets ``FileUpload`` (one image) that hands its file to ``shot``."""
    import ipywidgets

    button = ipywidgets.FileUpload(accept="image/*", multiple=False, description=t("Upload a photo"),
                                   layout=ipywidgets.Layout(width="auto"))

    def uploaded(change):
        for name, content in uploaded_files(change["new"]):
            shot.receive(content, "upload", name)

    button.observe(uploaded, names="value")
    return button


def uploaded_files(value) -> list[tuple[str, bytes]]:
    """``(name, content)`` of a ``FileUpload``'s value: ipywidgets 8's tuple of dicts, or 7's dict by name."""
    if isinstance(value, dict):
        return [(name, item["content"]) for name, item in value.items()]
    return [(item.get("name", "the upload"), item["content"]) for item in value or ()]


def widget_capture(advice: str = ADVICE) -> Capture:
    """The camera widget and an upload button; no anywidget: the upload button alone."""
    from IPython.display import display

    shot = Capture()
    try:
        camera = camera_widget_class()(advice=lookup(advice), take=lookup(TAKE_LABEL))
    except ImportError:
        camera = None
        print(t("The camera widget needs anywidget (pip install anywidget); upload a photo instead."))
    else:
        camera.observe(shot.camera_frame, names="frame")
        camera.observe(shot.camera_status, names="status")
    upload = upload_widget(shot)
    shot.widgets = tuple(w for w in (camera, upload) if w is not None)
    for widget in shot.widgets:
        display(widget)
    return shot


# --- Google Colab: its own route -----------------------------------------------------------


def colab_capture(advice: str = ADVICE) -> Capture:
    """Colab's camera snippet's way: show the view, wait in ``eval_js`` for the click; else upload."""
    from google.colab import output
    from IPython.display import Javascript, display

    shot = Capture()
    display(Javascript(COLAB_JS))
    try:
        words = ", ".join(json.dumps(lookup(text)) for text in (advice, TAKE_LABEL, SKIP_LABEL))
        answer = output.eval_js(f"aslTakePhoto({words})")
    except Exception as exc:  # noqa: BLE001 - Colab raises its own error types; the upload follows
        answer = f"error: {type(exc).__name__}: {exc}"
    if answer and not str(answer).startswith("error:"):
        try:
            data = decode_data_url(answer)
        except ValueError as exc:
            shot.note = t("the camera gave no picture ({error})", error=exc)
        else:
            shot.receive(data, "camera", lookup(CAMERA_FRAME))
            return shot
    if str(answer).startswith("error:"):
        shot.camera_status({"new": str(answer)})
        print(shot.note)
    return colab_upload(shot)


def colab_upload(shot: Capture) -> Capture:
    """``google.colab.files.upload()``: the learner chooses a photo (the first image is kept)."""
    from google.colab import files

    print(t("Choose a photo of your hand (the Choose Files button below)."))
    try:
        uploaded = files.upload()
    except Exception as exc:  # noqa: BLE001 - a cancelled or failed upload leaves the test image
        shot.note = shot.note or t("No upload ({error}: {problem})", error=type(exc).__name__, problem=exc)
        uploaded = {}
    for name, data in (uploaded or {}).items():
        if shot.receive(data, "upload", name):
            break
    shot.waiting = False  # Colab's route has asked already: run the capture cell again for another try
    return shot


# --- What the model sees -------------------------------------------------------------------


def guide_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The guide box of a ``width`` x ``height`` picture, ``(left, top, side, side)``: its centre
    square, which :func:`predict.prepare_image` keeps (the rest is cut off)."""
    left, top, side = predict.centre_square(width, height)
    return left, top, side, side


@drawing
def show_picture(picture, *, title: str | None = None):
    """The picture as it came, with its guide box drawn: what is outside is not seen."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    left, top, side, _ = guide_box(*picture.size)
    fig, ax = plt.subplots(figsize=(4.0, 4.0 * picture.height / picture.width))
    ax.imshow(np.asarray(picture))
    ax.add_patch(Rectangle((left - 0.5, top - 0.5), side, side, fill=False, edgecolor="#f5c518", linewidth=2, linestyle="--"))
    ax.set_title(lookup(title) if title else t("{width}x{height}: the box is what the model sees",
                                               width=picture.width, height=picture.height), fontsize=9)
    ax.axis("off")
    fig.tight_layout()
    plt.show()
