// Files the student gives the page: one drop handler for the whole page, which routes a saved
// model (one `.safetensors` file) to the model loader, images (a folder, image files or a
// .zip) to the image upload (imagefiles.js) and anything else to the IDX reader, and the two
// file pickers (Load model…, and "Your own IDX files…" in the dataset list).
// The page reads the files' bytes and nothing else: Rust checks each file, sorts them into
// training and test images and labels, and names what is wrong.

import { cmd, loadModelTransfer } from './protocol.js';
import { isImageUpload } from './imagefiles.js';

const carriesFiles = (event) => event.dataTransfer?.types.includes('Files');
const isModelFile = (files) => files.length === 1 && files[0].name.toLowerCase().endsWith('.safetensors');

export class FileInput {
  /**
   * @param {object} page `{worker, canLoad, onError, clearError, images}`: the training worker,
   *   whether a model and its data exist (files are refused before), the error area's two
   *   calls, and the image upload (imagefiles.js)
   * @param {{modelFile: HTMLInputElement, idxFiles: HTMLInputElement, dropHint: HTMLElement}} elements
   */
  constructor(page, { modelFile, idxFiles, dropHint }) {
    this.page = page;
    this.dropHint = dropHint;
    /** The bytes of the student's own files: sent to the worker, kept once it took them (for the comparison model). */
    this.ownFiles = null;
    this.pendingOwnFiles = null;
    this.dragDepth = 0;
    pick(modelFile, ([file]) => file && this.loadModel(file));
    pick(idxFiles, (files) => this.loadOwnFiles(files));
    document.addEventListener('dragenter', (event) => {
      if (!carriesFiles(event)) return;
      this.dragDepth++;
      dropHint.hidden = !page.canLoad();
    });
    document.addEventListener('dragleave', (event) => {
      if (!carriesFiles(event)) return;
      if (--this.dragDepth <= 0 || event.relatedTarget === null) this.endDrag();
    });
    document.addEventListener('dragover', (event) => {
      if (!carriesFiles(event)) return;
      // The browser would otherwise open the file in place of the page.
      event.preventDefault();
      event.dataTransfer.dropEffect = page.canLoad() ? 'copy' : 'none';
      document.body.classList.add('dropping');
    });
    document.addEventListener('drop', (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      this.endDrag();
      const files = [...event.dataTransfer.files];
      // Entries exist only during the event: a folder's files are read from them later.
      const entries = [...event.dataTransfer.items].filter((item) => item.kind === 'file').map((item) => item.webkitGetAsEntry?.() ?? null);
      const model = isModelFile(files);
      if (!page.canLoad()) {
        page.onError(
          model
            ? 'Wait until the data has loaded, then drop the model again.'
            : 'Wait until the model and its data have loaded, then drop your files again.',
        );
      } else if (model) this.loadModel(files[0]);
      else if (isImageUpload(files, entries)) page.images.fromDrop(entries, files);
      else this.loadOwnFiles(files);
    });
  }

  endDrag() {
    this.dragDepth = 0;
    this.dropHint.hidden = true;
    document.body.classList.remove('dropping');
  }

  /** Sends a checkpoint file (from the picker or a drop) to the worker; Rust checks it. */
  async loadModel(file) {
    this.page.clearError();
    const m = cmd.loadModel(await file.arrayBuffer(), file.name);
    this.page.worker.postMessage(m, loadModelTransfer(m));
  }

  /** Hands the files' names and bytes to the worker, whose Rust reader checks and sorts them. */
  async loadOwnFiles(files) {
    this.page.clearError();
    try {
      this.pendingOwnFiles = await Promise.all(files.map(async (file) => ({ name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) })));
    } catch (err) {
      // A folder, or a file removed since it was picked.
      this.page.onError(`Your files were not loaded: they could not be read (${err.message}).`);
      return;
    }
    // Copied, not transferred: the comparison model needs the same bytes.
    this.page.worker.postMessage(cmd.loadFiles(this.pendingOwnFiles));
  }

  /** The worker took the student's files: they are the ones in use now. */
  ownFilesTaken() {
    if (this.pendingOwnFiles) this.ownFiles = this.pendingOwnFiles;
    this.pendingOwnFiles = null;
    return this.ownFiles;
  }
}

/** Calls `onFiles` with what the student chose in `input`, then clears it so the same choice fires again. */
function pick(input, onFiles) {
  input.addEventListener('change', () => {
    const files = [...input.files];
    input.value = '';
    onFiles(files);
  });
}
