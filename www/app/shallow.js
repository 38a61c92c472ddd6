// Wiring of the shallow VQ panel: its buttons to the worker's k-means commands, the worker's
// progress, report and samples to the view, and the run a lecture preset starts.

import { Msg, cmd } from './protocol.js';
import { SHALLOW } from './config.js';
import { ShallowVqView } from '../views/shallowvq.js';

const randomSeed = () => Math.floor(Math.random() * 2 ** 32);

export class ShallowPanel {
  /**
   * @param {HTMLElement} panel the Shallow VQ section
   * @param {(message: object) => void} send a worker command
   */
  constructor(panel, send) {
    this.panel = panel;
    this.send = send;
    this.view = new ShallowVqView(panel, {
      run: (k, images) => send(cmd.kmeansRun(k, images, randomSeed())),
      cancel: () => send(cmd.kmeansCancel()),
      sample: (sigma) => send(cmd.shallowSample(SHALLOW.samples, sigma, randomSeed())),
    });
  }

  /** Shows the panel (its preset opens it) or hides it; a hidden run would only take the worker's time, so it stops. */
  show(on) {
    this.panel.hidden = !on;
    if (!on && this.view.running) this.send(cmd.kmeansCancel());
  }

  /** A preset's run: the default K over the default images, once the data is in (the worker runs commands in order). */
  runDefault() {
    this.view.start(SHALLOW.defaultK, SHALLOW.images[0]);
  }

  /** The worker messages this panel answers, as `{type: handler}` for main.js's table. */
  handlers() {
    return {
      [Msg.KMEANS_PROGRESS]: (m) => this.view.setProgress(m),
      [Msg.SHALLOW_REPORT]: (m) => this.view.setReport(m),
      [Msg.SHALLOW_SAMPLES]: (m) => this.view.setSamples(m),
    };
  }
}
