// The judge of samples: one table row per kind of sample with the classifier's mean top-class
// probability, the entropy of the classes it sees (and how many of the ten), their histogram,
// and the first samples with the digit seen in each. All numbers arrive from Rust; this view
// formats and draws them.

import { JUDGE, classColor } from '../app/config.js';
import { SIDE, showDigits } from './digits.js';

const HISTOGRAM = { width: 100, height: 28 };
const MAX_BITS = Math.log2(10);

/** The cell texts of one judged row: what the table shows, for the page test to compare. */
export function formatScores(s) {
  return {
    confidence: s.confidence.toFixed(3),
    entropy: `${s.entropyBits.toFixed(2)} bits`,
    classes: `${s.classesHit} of 10`,
  };
}

export class JudgeView {
  /**
   * @param {HTMLElement} panel holds data-role="about", "run", "progress", "rows"
   * @param {() => void} run asks for the table to be judged
   */
  constructor(panel, run) {
    const find = (role) => panel.querySelector(`[data-role="${role}"]`);
    this.panel = panel;
    this.about = find('about');
    this.progress = find('progress');
    this.runButton = find('run');
    this.runButton.addEventListener('click', run);
    this.body = find('rows');
    this.info = null;
    this.rows = JUDGE.rows.map((row) => this.addRow(row));
    this.clear();
  }

  addRow({ label }) {
    const tr = this.body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = label;
    tr.append(th);
    const cell = (className) => Object.assign(tr.insertCell(), { className });
    const cells = { confidence: cell('number'), entropy: cell('number'), classes: cell('number') };
    const histogram = Object.assign(document.createElement('canvas'), { width: HISTOGRAM.width, height: HISTOGRAM.height });
    histogram.setAttribute('role', 'img');
    cell('histogram').append(histogram);
    const examples = document.createElement('canvas');
    examples.setAttribute('role', 'img');
    cell('examples').append(examples);
    return { cells, histogram, examples };
  }

  show() {
    this.panel.hidden = false;
  }

  /** No scores yet: dashes. */
  clear() {
    this.replies = JUDGE.rows.map(() => null);
    this.running = false;
    for (const { cells, histogram, examples } of this.rows) {
      for (const td of Object.values(cells)) td.textContent = '–';
      histogram.getContext('2d').clearRect(0, 0, histogram.width, histogram.height);
      examples.hidden = true;
    }
    this.update();
  }

  /** @param {object} m a protocol JUDGE_LOADED message */
  setInfo(m) {
    this.info = { hidden: m.hidden, step: m.step, testAccuracy: m.testAccuracy };
    this.update();
  }

  /** @param {object} m a protocol JUDGE_PROGRESS message */
  setProgress(m) {
    if (m.index === 0) this.clear();
    this.running = m.index < m.total;
    this.progress.textContent = this.running
      ? `Judging row ${m.index + 1} of ${m.total}: ${JUDGE.rows[m.index].label}…`
      : `Judged ${m.total} kinds of sample, ${JUDGE.count.toLocaleString('en-US')} each (seed ${JUDGE.seed}).`;
    this.update();
  }

  /** @param {object} m a protocol JUDGE_ROW message */
  setRow(m) {
    const row = this.rows[m.index];
    const { scores } = m;
    this.replies[m.index] = { source: m.source, seed: m.seed, scores, exampleClasses: Array.from(m.exampleClasses) };
    Object.entries(formatScores(scores)).forEach(([key, text]) => (row.cells[key].textContent = text));
    row.cells.entropy.title = `at most log₂ 10 = ${MAX_BITS.toFixed(2)} bits, when every digit is as common`;
    this.drawHistogram(row.histogram, scores.histogram, scores.count);
    row.histogram.setAttribute('aria-label', `Samples per digit 0 to 9: ${scores.histogram.join(', ')}`);
    const shown = m.exampleClasses.length;
    showDigits(row.examples, m.examples, shown, shown, JUDGE.zoom);
    this.markClasses(row.examples, m.exampleClasses);
    row.examples.setAttribute('aria-label', `The first ${shown} samples; the judge sees the digits ${Array.from(m.exampleClasses).join(', ')}`);
    row.examples.hidden = false;
  }

  /** Ten bars, one per digit in its map colour, the tallest filling the height. */
  drawHistogram(canvas, histogram, count) {
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const top = Math.max(1, ...histogram);
    const w = canvas.width / histogram.length;
    histogram.forEach((h, c) => {
      ctx.fillStyle = classColor(c);
      const barHeight = count ? (h / top) * canvas.height : 0;
      ctx.fillRect(c * w + 1, canvas.height - barHeight, w - 2, barHeight);
    });
  }

  /** A bar in the judged digit's colour under each example. */
  markClasses(canvas, classes) {
    const ctx = canvas.getContext('2d');
    classes.forEach((c, k) => {
      ctx.fillStyle = classColor(c);
      ctx.fillRect(k * SIDE, SIDE - 3, SIDE, 3);
    });
  }

  update() {
    this.runButton.disabled = this.running;
    const info = this.info;
    this.about.textContent = info
      ? `The judge: an MLP 784–${info.hidden}–10 trained natively for ${info.step.toLocaleString('en-US')} steps; ${(100 * info.testAccuracy).toFixed(2)} % right on the 10,000 MNIST test digits.`
      : 'The judge: an MNIST classifier, loaded when the table is judged.';
  }

  snapshot() {
    return {
      visible: !this.panel.hidden,
      running: this.running,
      info: this.info,
      done: this.replies.every((r) => r !== null),
      replies: this.replies,
      cells: this.rows.map(({ cells }) => Object.fromEntries(Object.entries(cells).map(([k, td]) => [k, td.textContent]))),
    };
  }
}
