// 28×28 greyscale images as pixels: shared by every view that shows digits.

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;

/**
 * Paints `count` images from `pixels` (count·784 values; Float32Array in [0, 1] or Uint8Array
 * in [0, 255]) into an ImageData of `cols` images per row. Ink is dark on white paper, so
 * coloured points and outlines drawn over the images stay visible.
 */
export function digitsImage(pixels, count, cols) {
  if (pixels.length !== count * PIXELS) {
    throw new RangeError(`digits: ${pixels.length} values for ${count} images; expected ${count * PIXELS}`);
  }
  const rows = Math.ceil(count / cols);
  const out = new ImageData(cols * SIDE, Math.max(1, rows) * SIDE);
  // One 32-bit write per pixel (RGBA bytes, little-endian as every browser's typed arrays
  // are): the manifold's 20 × 20 tiles are 313,600 pixels, painted while training runs, and
  // per-byte writes with per-pixel index arithmetic took tens of milliseconds of the page's thread.
  const rgba = new Uint32Array(out.data.buffer);
  rgba.fill(0xffffffff);
  const bytes = pixels instanceof Uint8Array;
  for (let k = 0; k < count; k++) {
    const origin = Math.floor(k / cols) * SIDE * out.width + (k % cols) * SIDE;
    for (let y = 0; y < SIDE; y++) {
      const from = k * PIXELS + y * SIDE;
      const to = origin + y * out.width;
      for (let x = 0; x < SIDE; x++) {
        rgba[to + x] = PAPER[bytes ? pixels[from + x] : inkLevel(pixels[from + x])];
      }
    }
  }
  return out;
}

/** A value in [0, 1] as ink on the 0–255 scale (clamped; NaN is no ink). */
const inkLevel = (v) => (v > 0 ? (v < 1 ? Math.round(255 * v) : 255) : 0);

/** Opaque grey RGBA for each ink level: 255 − level on every channel. */
const PAPER = Uint32Array.from({ length: 256 }, (_, level) => (0xff000000 | ((255 - level) * 0x010101)) >>> 0);

/**
 * Shows `count` images in `canvas`, `cols` per row, at `zoom` CSS pixels per image pixel; the
 * stylesheet may shrink the canvas to its panel (height follows the width).
 */
export function showDigits(canvas, pixels, count, cols, zoom) {
  const image = digitsImage(pixels, count, cols);
  sizeCanvas(canvas, image.width, image.height);
  const cssWidth = `${image.width * zoom}px`;
  if (canvas.style.width !== cssWidth) canvas.style.width = cssWidth;
  canvas.getContext('2d').putImageData(image, 0, 0);
}

/** The grey levels (0 ink … 255 paper) of a 2-D context's whole canvas, one byte per pixel. */
export function greyLevels(context) {
  const { width, height } = context.canvas;
  const { data } = context.getImageData(0, 0, width, height);
  return Uint8Array.from({ length: width * height }, (_, p) => data[4 * p]);
}

/**
 * Gives `canvas` a backing store of `width` × `height` unless it has one already: assigning
 * either, even the same value, makes the browser allocate a new surface (5–6 ms in Chromium's
 * traces, in the frame) and drop the old one to the GC. Callers that redraw the whole canvas
 * (putImageData) need no clearing in between.
 */
export function sizeCanvas(canvas, width, height) {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
}
