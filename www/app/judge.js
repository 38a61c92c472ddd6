// Wiring of the judge of samples: the table's button and the lecture preset to the worker's
// JUDGE_TABLE command (the shipped checkpoints' addresses come from the manifest), its messages
// to the table view, and the map's "Colour tiles by digit" toggle, which loads the judge into
// the worker and asks for judged manifolds.

import { Msg, cmd } from './protocol.js';
import { JUDGE } from './config.js';
import { JudgeView } from '../views/judge.js';

export class JudgePanel {
  /**
   * @param {HTMLElement} panel the judge's section
   * @param {HTMLInputElement} toggle the map's "Colour tiles by digit" checkbox
   * @param {object} page `{send, state, checkpoints, onError, setManifold}`
   */
  constructor(panel, toggle, page) {
    this.page = page;
    this.toggle = toggle;
    this.view = new JudgeView(panel, () => this.run());
    /** Whether the worker was asked to load the judge: manifold requests may ask for classes from then on. */
    this.loadSent = false;
    toggle.checked = page.state.url.judge;
    toggle.addEventListener('change', () => this.colourMap(toggle.checked));
  }

  /** Where the shipped judge is (the manifest's `judge`). */
  async judgeUrl() {
    const entry = (await this.page.checkpoints.list()).judge;
    if (!entry) throw new Error('There is no judge among the pretrained models.');
    return `checkpoints/${entry.url}`;
  }

  /** Shows the table and judges every row of config.JUDGE. */
  run() {
    const { checkpoints, send, onError } = this.page;
    this.view.show();
    const rows = JUDGE.rows.map(async ({ source, checkpoint, prior }) => ({
      source,
      url: (await checkpoints.source(checkpoint)).url,
      priorUrl: prior ? await checkpoints.priorSource(prior) : null,
    }));
    Promise.all([this.judgeUrl(), Promise.all(rows)])
      .then(([judgeUrl, resolved]) => send(cmd.judgeTable(judgeUrl, resolved, JUDGE.count, JUDGE.seed)))
      .catch((err) => onError(err.message));
  }

  /** Whether manifold requests ask for the judge's classes. */
  judged() {
    return this.toggle.checked && this.loadSent;
  }

  /** Turns the colouring of the map's tiles on or off (and the manifold on with it). */
  colourMap(on) {
    this.toggle.checked = on;
    this.page.state.set({ judge: on });
    if (!on) {
      this.page.setManifold(this.page.showsManifold());
      return;
    }
    this.judgeUrl()
      .then((url) => {
        // The worker runs commands in order: the judge is in before the manifold asks for it.
        this.page.send(cmd.judgeLoad(url));
        this.loadSent = true;
        this.page.setManifold(true);
      })
      .catch((err) => this.page.onError(err.message));
  }

  /** The worker messages this panel answers, as `{type: handler}` for main.js's table. */
  handlers() {
    return {
      [Msg.JUDGE_LOADED]: (m) => this.view.setInfo(m),
      [Msg.JUDGE_PROGRESS]: (m) => this.view.setProgress(m),
      [Msg.JUDGE_ROW]: (m) => this.view.setRow(m),
    };
  }
}
