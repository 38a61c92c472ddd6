// The student's own images: gathers the files of a drop (folders walked through their
// entries) or a picker (files, a .zip, or a folder), runs the image decoder
// (workers/images.js) with a progress bar, hands the prepared images to the training worker,
// and packs the IDX export into one zip. Rust prepares, labels and splits; this only routes.

import { imageLimits } from '../pkg/latent_lab.js';
import { Msg, cmd } from './protocol.js';
import { IMAGES, OWN_IMAGES } from './config.js';
import { strToU8, zipSync } from '../vendor/fflate/browser.js';
import { downloadBlob } from '../views/export.js';

const IMAGE_OR_ZIP = new RegExp(`\\.(${[...IMAGES.extensions, 'zip'].join('|')})$`, 'i');

/**
 * Whether dropped or picked files are images for a dataset (a folder, an image or a zip)
 * rather than a model or IDX files.
 * @param {File[]} files
 * @param {(FileSystemEntry|null)[]} entries the drop's entries, where the browser gives them
 */
export function isImageUpload(files, entries = []) {
  return entries.some((e) => e?.isDirectory) || files.some((f) => IMAGE_OR_ZIP.test(f.name));
}

export class ImageUpload {
  /**
   * @param {object} page `{send, onError, clearError}`: the training worker's command and the error area
   * @param {import('../views/ownimages.js').OwnImagesView} view
   * @param {{folderInput: HTMLInputElement, filesInput: HTMLInputElement}} elements the two pickers
   */
  constructor(page, view, { folderInput, filesInput }) {
    this.page = page;
    this.view = view;
    this.folderInput = folderInput;
    this.filesInput = filesInput;
    /** The dataset list's entry for the images once loaded. */
    this.option = new Option(OWN_IMAGES.label, OWN_IMAGES.key);
    this.option.hidden = true;
    this.decoder = null;
    /** The images sent to the worker; `kept` once it took them (for the comparison model, and to load them again). */
    this.pending = null;
    this.kept = null;
    // The page's thread has the wasm module once the settings schema has come.
    view.showLimits(imageLimits());
    for (const input of [folderInput, filesInput]) {
      input.addEventListener('change', () => {
        const files = [...input.files];
        input.value = '';
        // A folder's files carry their path inside it; single files only their name.
        this.decode(files.map((file) => ({ path: file.webkitRelativePath || file.name, file })));
      });
    }
  }

  /** Adds the dataset list's entries for images: the images once loaded, and the two pickers. */
  addOptions(select) {
    select.add(this.option);
    select.add(new Option(OWN_IMAGES.folderLabel, OWN_IMAGES.folderKey));
    select.add(new Option(OWN_IMAGES.filesLabel, OWN_IMAGES.filesKey));
  }

  /** What those entries do when chosen: a picker opens, or the images already loaded load again. */
  datasetChoices() {
    return {
      [OWN_IMAGES.folderKey]: () => this.folderInput.click(),
      [OWN_IMAGES.filesKey]: () => this.filesInput.click(),
      [OWN_IMAGES.key]: () => this.kept && this.send(this.kept),
    };
  }

  /**
   * A drop: with a folder among them, `entries` (webkitGetAsEntry of each item, read during
   * the drop event) are walked; otherwise the files are taken by name.
   */
  async fromDrop(entries, files) {
    this.page.clearError();
    const found = [];
    try {
      if (entries.some((e) => e?.isDirectory)) for (const entry of entries.filter(Boolean)) await walk(entry, found);
      else found.push(...files.map((file) => ({ path: file.name, file })));
    } catch (err) {
      this.page.onError(`Your folder could not be read: ${err.message}`);
      return;
    }
    this.decode(found);
  }

  /** Decodes `entries` `[{path, file}]` in a new decoder (a running one is stopped), then sends the images. */
  decode(entries) {
    this.page.clearError();
    this.decoder?.terminate();
    this.view.showProgress(0, entries.length);
    const decoder = new Worker(new URL('../workers/images.js', import.meta.url), { type: 'module' });
    this.decoder = decoder;
    const finish = () => {
      decoder.terminate();
      if (this.decoder === decoder) this.decoder = null;
    };
    decoder.onmessage = ({ data: m }) => {
      if (m.type === Msg.DECODE_PROGRESS) this.view.showProgress(m.done, m.total);
      else if (m.type === Msg.DECODED_IMAGES) {
        finish();
        this.decoded(m);
      } else {
        finish();
        this.refuse(m.type === Msg.ERROR ? m.message : `unexpected message from the image decoder: ${m.type}`);
      }
    };
    decoder.onerror = (event) => {
      event.preventDefault();
      finish();
      this.refuse(event.message || 'the image decoder could not start');
    };
    decoder.postMessage(cmd.decodeImages(entries));
  }

  decoded(result) {
    this.view.showDecoded(result);
    if (result.paths.length === 0) {
      const why = result.skipped.slice(0, IMAGES.listedSkips).map((s) => `${s.path.replace(/^\//, '')} (${s.why})`);
      this.refuse(result.skipped.length > 0 ? `none of the files is an image that could be used: ${why.join(', ')}` : 'there were no files');
      return;
    }
    this.send({ pixels: result.pixels, paths: result.paths });
  }

  /** Copied, not transferred: the comparison model and a later reload need the same images. */
  send(images) {
    this.pending = images;
    this.page.send(cmd.loadImages(images));
  }

  refuse(reason) {
    const message = `Your images were not loaded: ${reason}.`;
    this.view.showRefused(message);
    this.page.onError(message);
  }

  /** The worker took the images (IMAGES_LOADED): they are the ones in use now. */
  loaded(m) {
    this.kept = this.pending ?? this.kept;
    this.pending = null;
    this.option.hidden = false;
    this.view.showLoaded(m);
  }

  /** The images the worker took last (null if none): what the comparison model loads. */
  taken() {
    return this.kept;
  }

  exportIdx() {
    this.page.clearError();
    this.page.send(cmd.exportIdx());
  }
}

/** IDX_EXPORT's four gzipped IDX files (stored, not compressed again) and classes.txt, downloaded as one zip. */
export function saveIdxZip(m) {
  const files = [m.trainImages, m.trainLabels, m.testImages, m.testLabels];
  const entries = Object.fromEntries(m.names.map((name, i) => [name, [files[i], { level: 0 }]]));
  entries['classes.txt'] = strToU8(m.classNames.map((name, label) => `${label} ${name}\n`).join(''));
  downloadBlob(new Blob([zipSync(entries)], { type: 'application/zip' }), 'latent-lab-images-idx.zip');
}

/** Every file under `entry` as `{path, file}` (path: the entry's full path in the drop). */
async function walk(entry, out) {
  if (entry.isFile) {
    out.push({ path: entry.fullPath, file: await new Promise((resolve, reject) => entry.file(resolve, reject)) });
    return;
  }
  const reader = entry.createReader();
  // readEntries answers in batches (100 in Chromium) until an empty one.
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, out);
  }
}
