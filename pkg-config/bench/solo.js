// A bench worker that trains its own model alone, with no exchange: bench.js `trainSolo` runs W
// of them at once to measure how much parallel compute the machine gives a page right now, the
// ceiling for W data-parallel workers in the same round.

import { Session } from '../pkg/latent_lab.js';
import loadWasm from '../app/wasm.js';

let session = null;

self.onmessage = async ({ data }) => {
  try {
    await loadWasm();
    if (data.settings) {
      session = new Session(data.settings);
      session.setData(...data.files);
      self.postMessage({ ready: true });
      return;
    }
    // Train until the shared deadline (page clock), so every copy measures the same span.
    const { chunk, until } = data;
    const start = performance.timeOrigin + performance.now();
    let steps = 0;
    while (performance.timeOrigin + performance.now() < until) {
      session.trainSteps(chunk);
      steps += chunk;
    }
    self.postMessage({ steps, seconds: (performance.timeOrigin + performance.now() - start) / 1000 });
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
