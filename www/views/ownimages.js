// The student's own images: the decoding progress bar, the limits, what the images became
// (classes, counts, split, how many were inverted, every file skipped and why), the first
// images as the model sees them, and the IDX export button.

import { IMAGES } from '../app/config.js';
import { showDigits } from './digits.js';

const count = (n, one, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
/** A path as the student knows it: a dropped folder's paths start with '/'. */
const shown = (path) => path.replace(/^\//, '');

export class OwnImagesView {
  /**
   * @param {HTMLElement} panel holds data-role="decoding", "bar", "count", "summary", "details",
   *   "preview", "limits" and "export"
   * @param {() => void} onExport asks for the IDX export
   */
  constructor(panel, onExport) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.decoding = find('decoding');
    this.bar = find('bar');
    this.counter = find('count');
    this.summary = find('summary');
    this.details = find('details');
    this.preview = find('preview');
    this.limits = find('limits');
    this.exportButton = find('export');
    this.exportButton.addEventListener('click', onExport);
    /** The decoder's result for the images last sent, until Rust says what they became. */
    this.decoded = null;
  }

  /** @param {{maxSide, maxImages, maxClasses}} limits Rust's, with the page's file size limit */
  showLimits({ maxSide, maxImages, maxClasses }) {
    this.limits.textContent =
      `PNG, JPEG or WebP files, a folder of them, or a .zip: up to ${maxImages.toLocaleString('en-US')} images of at most ` +
      `${maxSide} × ${maxSide} pixels and ${IMAGES.maxFileBytes / 2 ** 20} MB each. Subfolders name the classes ` +
      `(up to ${maxClasses}; none: one class); train/ and test/ folders give the split, else one image in seven of each class is held out.`;
  }

  /** Decoding has started or moved on: `done` of `total` images read. */
  showProgress(done, total) {
    this.panel.hidden = false;
    this.decoding.hidden = false;
    this.bar.max = Math.max(total, 1);
    this.bar.value = done;
    this.counter.textContent = `Decoding ${done.toLocaleString('en-US')} of ${count(total, 'image')}…`;
  }

  /** The decoder's result (see protocol.js msg.decodedImages); the summary waits for Rust's answer. */
  showDecoded(result) {
    this.decoding.hidden = true;
    this.decoded = result;
    const n = result.preview.length;
    if (n > 0) {
      const pixels = new Uint8Array(n * 784);
      result.preview.forEach((p, i) => pixels.set(p.pixels, i * 784));
      showDigits(this.preview, pixels, n, Math.min(n, IMAGES.previewColumns), IMAGES.previewZoom);
    }
    this.preview.hidden = n === 0;
    this.summary.textContent = result.paths.length > 0 ? `${count(result.paths.length, 'image')} decoded; building the sets…` : '';
    this.details.textContent = '';
  }

  /**
   * What Rust made of the images (msg.imagesLoaded): the summary sentence, with the decoder's
   * skipped files and Rust's (a file outside the class folders) named together.
   */
  showLoaded(loaded) {
    const decoded = this.decoded ?? { skipped: [], inverted: 0 };
    const total = loaded.trainLength + loaded.testLength;
    const skipped = [...decoded.skipped, ...loaded.skipped];
    const listed = skipped.slice(0, IMAGES.listedSkips).map((s) => `${shown(s.path)} (${s.why})`);
    if (skipped.length > listed.length) listed.push(`and ${skipped.length - listed.length} more`);
    const classes = loaded.classNames.length === 1 ? '1 class (no class folders: one colour)' : count(loaded.classNames.length, 'class', 'classes');
    this.summary.textContent =
      `${count(total, 'image')} in ${classes}` + (skipped.length > 0 ? `; skipped ${count(skipped.length, 'file')}: ${listed.join(', ')}.` : '.');
    const split =
      loaded.split === 'folders'
        ? 'from the train/ and test/ folders'
        : 'one image in seven of each class held out, the same every time';
    const perClass = loaded.classNames.map((name, i) => `${name} (${loaded.classCounts[i].toLocaleString('en-US')})`).join(', ');
    const inverted =
      decoded.inverted > 0
        ? ` ${count(decoded.inverted, 'image')} had a light background and ${decoded.inverted === 1 ? 'was' : 'were'} inverted to light ink on black, as MNIST is.`
        : '';
    this.details.textContent =
      `${loaded.trainLength.toLocaleString('en-US')} to train on, ${loaded.testLength.toLocaleString('en-US')} to test with (${split}). ` +
      `Classes: ${perClass}.${inverted}`;
  }

  /** A refused upload: the decoder's findings stay shown, with what went wrong. */
  showRefused(message) {
    this.decoding.hidden = true;
    this.panel.hidden = false;
    this.summary.textContent = message;
  }

  /** Whether the data in use is the student's images (only then is there something of theirs to export). */
  setInUse(inUse) {
    this.exportButton.disabled = !inUse;
  }

  /** What the panel shows, for tests. */
  snapshot() {
    return {
      hidden: this.panel.hidden,
      decoding: !this.decoding.hidden,
      progress: { value: this.bar.value, max: this.bar.max },
      summary: this.summary.textContent,
      details: this.details.textContent,
      limits: this.limits.textContent,
      preview: this.decoded?.preview.map((p) => ({ path: p.path, inverted: p.inverted, pixels: Array.from(p.pixels) })) ?? [],
      exportEnabled: !this.exportButton.disabled,
    };
  }
}
