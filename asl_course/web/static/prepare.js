// The training preparation, as asl_course.learners.predict.prepare_image does it with Pillow:
// centre square, grayscale (ITU-R 601 luma, Pillow's integer formula), 28x28 with Pillow's
// bicubic resampling (antialiased when shrinking: the filter widens with the scale, 8-bit
// fixed-point coefficients, horizontal pass then vertical), then / 255.
export const SIZE = 28;
const PRECISION_BITS = 22; // Pillow's Resample.c: 32 - 8 - 2

function bicubic(x) {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

const cache = new Map(); // (inSize, outSize) -> coefficients: a camera's frames are all one size

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis: inSize -> outSize.
export function coefficients(inSize, outSize) {
  const key = `${inSize}>${outSize}`;
  if (!cache.has(key)) cache.set(key, computeCoefficients(inSize, outSize));
  return cache.get(key);
}

function computeCoefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Float64Array(outSize * ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let ww = 0;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    const w = new Float64Array(xmax);
    for (let x = 0; x < xmax; x++) { w[x] = bicubic((x + xmin - center + 0.5) / filterscale); ww += w[x]; }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? w[x] / ww : w[x];
      kk[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS)) : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin; bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(ss) {
  const v = Math.floor(ss / (1 << PRECISION_BITS));
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

// One 8-bit gray plane (w x h) -> outW x outH, as Pillow's ImagingResample does for mode "L".
export function resize(gray, w, h, outW, outH) {
  let plane = gray, pw = w;
  if (outW !== w) {
    const { ksize, bounds, kk } = coefficients(w, outW);
    const tmp = new Uint8ClampedArray(outW * h);
    for (let y = 0; y < h; y++) {
      const row = y * w;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2], xmax = bounds[xx * 2 + 1];
        let ss = 1 << (PRECISION_BITS - 1);
        for (let x = 0; x < xmax; x++) ss += plane[row + xmin + x] * kk[xx * ksize + x];
        tmp[y * outW + xx] = clip8(ss);
      }
    }
    plane = tmp; pw = outW;
  }
  if (outH !== h) {
    const { ksize, bounds, kk } = coefficients(h, outH);
    const out = new Uint8ClampedArray(pw * outH);
    for (let yy = 0; yy < outH; yy++) {
      const ymin = bounds[yy * 2], ymax = bounds[yy * 2 + 1];
      for (let x = 0; x < pw; x++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (let y = 0; y < ymax; y++) ss += plane[(ymin + y) * pw + x] * kk[yy * ksize + y];
        out[yy * pw + x] = clip8(ss);
      }
    }
    plane = out;
  }
  return plane;
}

// The centre square of a picture, as prepare_image crops it: [left, top, side].
export function centreSquare(w, h) {
  const side = Math.min(w, h);
  return [Math.floor((w - side) / 2), Math.floor((h - side) / 2), side];
}

// RGBA pixels (an ImageData's data, opaque) of a w x h picture -> the model's 784 inputs in 0..1
// (Float32Array, row by row) and the 28x28 gray bytes (for showing what the model sees).
export function prepareRGBA(data, w, h) {
  const [left, top, side] = centreSquare(w, h);
  const gray = new Uint8ClampedArray(side * side);
  for (let y = 0; y < side; y++) {
    let i = ((top + y) * w + left) * 4, o = y * side;
    for (let x = 0; x < side; x++, i += 4) {
      gray[o + x] = (data[i] * 19595 + data[i + 1] * 38470 + data[i + 2] * 7471 + 0x8000) >> 16;
    }
  }
  const small = side === SIZE ? gray : resize(gray, side, side, SIZE, SIZE);
  const input = new Float32Array(SIZE * SIZE);
  for (let i = 0; i < input.length; i++) input[i] = small[i] / 255;
  return { input, gray: small };
}
