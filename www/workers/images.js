// Decodes the student's image files for their own dataset: unpacks .zip files (fflate),
// decodes each PNG, JPEG or WebP with createImageBitmap, reads its RGBA pixels from an
// OffscreenCanvas and hands them to Rust (prepareImage), which makes the 28 × 28 MNIST-style
// image. A worker of its own, made for one upload, so neither the page nor training waits.

import { imageLimits, prepareImage } from '../pkg/latent_lab.js';
import loadWasm from '../app/wasm.js';
import { unzipSync } from '../vendor/fflate/browser.js';
import { Cmd, msg } from '../app/protocol.js';
import { IMAGES } from '../app/config.js';

const PIXELS = 784;
const IMAGE_NAME = new RegExp(`\\.(${IMAGES.extensions.join('|')})$`, 'i');
const ZIP_NAME = /\.zip$/i;
const ready = loadWasm();
const messageOf = (err) => (err instanceof Error ? err.message : String(err));

self.onmessage = async ({ data: m }) => {
  try {
    if (m.type !== Cmd.DECODE_IMAGES) throw new Error(`unknown command "${m.type}" for the image decoder`);
    await ready;
    const result = await decodeAll(m.entries);
    self.postMessage(result, [result.pixels.buffer]);
  } catch (err) {
    self.postMessage(msg.error(messageOf(err)));
  }
};

/** What a file manager or an archiver adds beside the images: left out without a word. */
function isClutter(path) {
  return path.split('/').some((part) => part.startsWith('.') || part === '__MACOSX' || part === 'Thumbs.db');
}

/**
 * `entries` `[{path, file}]` (File or Blob) → a DECODED_IMAGES message: the prepared images
 * in `pixels` (n·784 bytes) with their `paths`, and every file left out in `skipped`.
 */
async function decodeAll(entries) {
  const { maxImages, maxSide } = imageLimits();
  const skipped = [];
  const candidates = [];
  for (const entry of entries) {
    if (isClutter(entry.path)) continue;
    if (ZIP_NAME.test(entry.path)) candidates.push(...(await unzip(entry, skipped)));
    else if (!IMAGE_NAME.test(entry.path)) skipped.push({ path: entry.path, why: 'not an image' });
    else if (entry.file.size > IMAGES.maxFileBytes) skipped.push({ path: entry.path, why: tooBig(entry.file.size) });
    else candidates.push(entry);
  }
  for (const { path } of candidates.splice(maxImages)) {
    skipped.push({ path, why: `beyond the first ${maxImages.toLocaleString('en-US')} images` });
  }

  const pixels = new Uint8Array(candidates.length * PIXELS);
  const paths = [];
  const preview = [];
  let inverted = 0;
  let canvas = null;
  let shownAt = 0;
  for (const [done, { path, file }] of candidates.entries()) {
    if (performance.now() - shownAt > IMAGES.progressMs) {
      self.postMessage(msg.decodeProgress(done, candidates.length));
      shownAt = performance.now();
    }
    let bitmap;
    try {
      // No colour conversion or premultiplying: the pixels as the file stores them.
      bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    } catch {
      skipped.push({ path, why: 'could not be decoded' });
      continue;
    }
    const { width, height } = bitmap;
    if (width > maxSide || height > maxSide) {
      bitmap.close();
      skipped.push({ path, why: `${width} × ${height} pixels, over the limit of ${maxSide} on a side` });
      continue;
    }
    if (!canvas) canvas = new OffscreenCanvas(width, height);
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.clearRect(0, 0, width, height);
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    const rgba = ctx.getImageData(0, 0, width, height).data;
    let prepared;
    try {
      prepared = prepareImage(new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.length), width, height);
    } catch (err) {
      skipped.push({ path, why: messageOf(err) });
      continue;
    }
    pixels.set(prepared.pixels, paths.length * PIXELS);
    if (prepared.inverted) inverted++;
    if (preview.length < IMAGES.previewCount) preview.push({ path, pixels: prepared.pixels, inverted: prepared.inverted });
    paths.push(path);
  }
  return msg.decodedImages({ pixels: pixels.slice(0, paths.length * PIXELS), paths, inverted, skipped, preview });
}

/** The members of one .zip file as entries (path = the zip's folder + the member's path); what is not an image is skipped. */
async function unzip({ path, file }, skipped) {
  const folder = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
  const refused = [];
  let members;
  try {
    // The filter sees each member's name and size before it is inflated: only images are.
    members = unzipSync(new Uint8Array(await file.arrayBuffer()), {
      filter: ({ name, originalSize }) => {
        if (name.endsWith('/') || isClutter(name)) return false;
        if (!IMAGE_NAME.test(name)) refused.push({ path: folder + name, why: 'not an image' });
        else if (originalSize > IMAGES.maxFileBytes) refused.push({ path: folder + name, why: tooBig(originalSize) });
        else return true;
        return false;
      },
    });
  } catch (err) {
    skipped.push({ path, why: `not a readable zip file (${messageOf(err)})` });
    return [];
  }
  skipped.push(...refused);
  return Object.entries(members).map(([name, bytes]) => ({ path: folder + name, file: new Blob([bytes]) }));
}

function tooBig(bytes) {
  return `${(bytes / 2 ** 20).toFixed(1)} MB, over the limit of ${IMAGES.maxFileBytes / 2 ** 20} MB a file`;
}
