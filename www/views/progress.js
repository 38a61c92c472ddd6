// Where the lab is: the download bar while a dataset arrives, then the training status
// (phase message, epoch, step, throughput).

const MB = 1024 * 1024;
// One formatter for every report: toLocaleString builds a new one per call.
const COUNT = new Intl.NumberFormat('en-US');
/** The speed's tooltip in a data-parallel run: how its workers exchange gradients. */
const EXCHANGE_NOTES = {
  'shared memory':
    'The workers exchange their gradients through shared memory and share the update: each applies AdamW to its own part of the weights and hands it to the others.',
  messages:
    'The workers exchange their gradients as messages: the page is not cross-origin isolated, so shared memory is off ' +
    '(served by pkg-config/serve.sh it is). Three or more workers lose more time this way.',
};

/** What the speed owes to the build this browser loaded (www/app/wasm.js). */
function productsNote(products) {
  if (!products) return '';
  if (!products.relaxedSimd) return 'The matrix products run plain simd128: this browser has no relaxed SIMD, so each step is a multiply, then an add.';
  return products.fused
    ? "The matrix products run relaxed SIMD's fused multiply-add, one instruction per step."
    : "The matrix products run relaxed SIMD's multiply-add, which this machine does as a multiply, then an add.";
}

export class ProgressView {
  /** @param {HTMLElement} root holds the elements marked with data-role below */
  constructor(root) {
    const find = (role) => root.querySelector(`[data-role="${role}"]`);
    this.status = find('status');
    this.download = find('download');
    this.bar = find('download-bar');
    this.bytes = find('download-bytes');
    this.epoch = find('epoch');
    this.step = find('step');
    this.speed = find('speed');
  }

  /** @param {string} message what is happening, for people */
  showStatus(message) {
    this.status.textContent = message;
  }

  /** Bytes downloaded so far; `total` null draws an indeterminate bar. */
  showDownload(loaded, total) {
    this.download.hidden = false;
    if (total) {
      this.bar.max = total;
      this.bar.value = Math.min(loaded, total);
      this.bytes.textContent = `${(loaded / MB).toFixed(1)} of ${(total / MB).toFixed(1)} MB`;
    } else {
      this.bar.removeAttribute('value');
      this.bytes.textContent = `${(loaded / MB).toFixed(1)} MB`;
    }
  }

  hideDownload() {
    this.download.hidden = true;
  }

  /** @param {object|null} report StepReport; null for a model not trained yet */
  showTraining(report) {
    if (!report) {
      this.epoch.textContent = '1 (0 %)';
      this.step.textContent = '0';
      this.speed.textContent = '–';
      this.speed.title = '';
      return;
    }
    // `epoch` counts finished epochs; people count the one in progress from 1.
    this.epoch.textContent = `${report.epoch + 1} (${Math.floor(report.epochProgress * 100)} %)`;
    this.step.textContent = COUNT.format(report.step);
    const total = COUNT.format(Math.round(report.imagesPerSec));
    const workers = report.workers ?? 1;
    this.speed.textContent = workers > 1 ? `${total} (${workers} workers, ${COUNT.format(Math.round(report.imagesPerSec / workers))} each)` : total;
    this.speed.title = [EXCHANGE_NOTES[report.exchange], productsNote(report.products)].filter(Boolean).join(' ');
  }

  /** A model loaded from a checkpoint: its step count, and no epoch or speed of this page's. */
  showLoaded(step) {
    this.epoch.textContent = '–';
    this.step.textContent = COUNT.format(step);
    this.speed.textContent = '–';
    this.speed.title = '';
  }
}
