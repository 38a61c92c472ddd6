// Step mode: what one optimizer step did, in full. The Step button runs a single step on one
// batch; this panel shows that batch, the ε drawn for its reparameterization (VAE), the loss
// terms of that step, and for a VQ-VAE the codes the batch picked and how far each codebook
// vector moved, with arrows from old to new position on the latent map when D = 2.

import { STEP_MODE } from '../app/config.js';
import { showDigits } from './digits.js';

const fixed = (x, digits = 2) => (x == null ? '–' : x.toFixed(digits));

export class StepView {
  /**
   * @param {HTMLElement} panel holds data-role="hint", "batch", "batch-note", "epsilon", "terms", "codes"
   * @param {() => void} redrawMap asks the latent map to redraw (its arrows changed)
   */
  constructor(panel, redrawMap) {
    this.panel = panel;
    this.redrawMap = redrawMap;
    this.el = Object.fromEntries(
      ['hint', 'batch', 'batch-note', 'epsilon', 'terms', 'codes'].map((role) => [role, panel.querySelector(`[data-role="${role}"]`)]),
    );
    /** `{codebookBefore, codebookAfter}` of the last step when D = 2, for the map's arrows. */
    this.moves = null;
    this.shown = null;
  }

  /** @param {object} m a protocol STEP_TRACE message */
  setTrace(m) {
    const { report, images, labels, epsilon, latentDim, beta } = m;
    const shown = labels.length;
    this.panel.hidden = false;
    this.el.hint.textContent = `Step ${report.step}: one AdamW update from one batch of ${m.batchSize} training images.`;
    showDigits(this.el.batch, images, shown, STEP_MODE.columns, STEP_MODE.zoom);
    this.el['batch-note'].textContent = `The first ${shown} images of the batch (classes ${Array.from(labels).join(', ')}).`;
    this.showEpsilon(epsilon, latentDim);
    this.showTerms(report, beta);
    this.showCodes(m);
    this.shown = { step: report.step, images: shown, epsilonRows: epsilon ? epsilon.length : 0, codesMoved: m.codesMoved ?? null };
  }

  /** ε of the first few images, a row each: the noise this step's z = μ + σ ⊙ ε used. */
  showEpsilon(epsilon, latentDim) {
    this.el.epsilon.hidden = !epsilon;
    if (!epsilon) return;
    const dims = Math.min(latentDim, STEP_MODE.epsilonDims);
    const head = `<tr><th scope="col">image</th>${Array.from({ length: dims }, (_, j) => `<th scope="col">ε${j + 1}</th>`).join('')}</tr>`;
    const rows = epsilon
      .slice(0, STEP_MODE.epsilonRows)
      .map((row, i) => `<tr><th scope="row">${i + 1}</th>${row.slice(0, dims).map((e) => `<td>${fixed(e)}</td>`).join('')}</tr>`);
    const more = latentDim > dims ? `<caption>ε drawn for this step (first ${dims} of ${latentDim} dimensions)</caption>` : '<caption>ε drawn for this step</caption>';
    this.el.epsilon.innerHTML = `${more}<thead>${head}</thead><tbody>${rows.join('')}</tbody>`;
  }

  showTerms(report, beta) {
    const terms = [['loss (optimized)', report.loss], ['reconstruction', report.recon]];
    if (report.kl != null) terms.push([`KL (β·KL = ${fixed(beta * report.kl)})`, report.kl]);
    if (report.codebookLoss != null) terms.push(['codebook ‖sg[z_e] − e‖²', report.codebookLoss], ['commitment ‖z_e − sg[e]‖²', report.commitmentLoss]);
    this.el.terms.innerHTML = terms.map(([name, value]) => `<div><dt>${name}</dt><dd>${fixed(value)}</dd></div>`).join('');
  }

  showCodes(m) {
    this.el.codes.hidden = m.codesPicked == null;
    this.moves = m.codeDim === 2 && m.codebookAfter ? { before: m.codebookBefore, after: m.codebookAfter } : null;
    this.redrawMap();
    if (m.codesPicked == null) return;
    const onMap = this.moves ? ' Arrows on the map show the moves.' : '';
    this.el.codes.textContent =
      `The batch picked ${m.codesPicked} of ${m.codebookSize} codes; ${m.codesMoved} codes moved ` +
      `(largest move ${fixed(m.largestMove, 4)}).${onMap}`;
  }

  /** Training went on: the arrows no longer describe the last change. */
  clear() {
    if (!this.moves) return;
    this.moves = null;
    this.redrawMap();
  }

  /** Latent-map layer: an arrow from each moved code's old position to its new one. */
  over(ctx, { px, py }) {
    if (!this.moves) return;
    const { before, after } = this.moves;
    ctx.save();
    ctx.strokeStyle = STEP_MODE.arrowColor;
    ctx.fillStyle = STEP_MODE.arrowColor;
    ctx.lineWidth = 2;
    for (let k = 0; k < before.length / 2; k++) {
      const [x0, y0, x1, y1] = [px(before[2 * k]), py(before[2 * k + 1]), px(after[2 * k]), py(after[2 * k + 1])];
      if (Math.hypot(x1 - x0, y1 - y0) < 0.5) continue;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(x1, y1, 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.restore();
  }

  snapshot() {
    return this.shown;
  }
}
