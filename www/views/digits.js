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
  const scale = pixels instanceof Uint8Array ? 1 / 255 : 1;
  const rows = Math.ceil(count / cols);
  const out = new ImageData(cols * SIDE, Math.max(1, rows) * SIDE);
  out.data.fill(255);
  for (let k = 0; k < count; k++) {
    const ox = (k % cols) * SIDE;
    const oy = Math.floor(k / cols) * SIDE;
    for (let p = 0; p < PIXELS; p++) {
      const v = Math.min(1, Math.max(0, pixels[k * PIXELS + p] * scale));
      const grey = Math.round(255 * (1 - v));
      const at = 4 * ((oy + Math.floor(p / SIDE)) * out.width + ox + (p % SIDE));
      out.data[at] = grey;
      out.data[at + 1] = grey;
      out.data[at + 2] = grey;
    }
  }
  return out;
}

/**
 * Shows `count` images in `canvas`, `cols` per row, at `zoom` CSS pixels per image pixel; the
 * stylesheet may shrink the canvas to its panel (height follows the width).
 */
export function showDigits(canvas, pixels, count, cols, zoom) {
  const image = digitsImage(pixels, count, cols);
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.style.width = `${image.width * zoom}px`;
  canvas.getContext('2d').putImageData(image, 0, 0);
}
