// The two builds of the model code (pkg-config/build.sh), in each engine: a browser with relaxed
// SIMD loads the relaxed build, whose products use its multiply-add, and says so beside the
// speed; Firefox with relaxed SIMD turned off, as a browser without it, loads the plain simd128
// build and trains all the same. The offline cache keeps the module the browser runs, and only
// that one. Whether a browser "has" relaxed SIMD is checked against the
// relaxed module itself, not only the page's small probe.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINE, launchBrowser, openLoadedPage, servePage, sleep, state, trainFor } from './harness.mjs';
import { offlineReady } from '../lecture-helpers.mjs';

const withRelaxed = servePage();
// Chromium cannot turn relaxed SIMD off; Firefox can.
const withoutRelaxed = ENGINE === 'firefox' ? servePage({ launch: () => launchBrowser({ relaxedSimd: false }) }) : null;

/** Trains a small model briefly and returns what the page and its browser say about the build. */
async function trainAndAsk(env) {
  const { page, problems } = await openLoadedPage(env.browser, `${env.server.url}?quick=1&hidden=64`);
  await trainFor(page, 1500);
  const { lastReport } = await state(page);
  // Before this test's own fetches below, which the service worker would cache as they pass.
  for (let tries = 0; !(await page.evaluate(offlineReady)); tries++) {
    assert.ok(tries < 240, 'the service worker is active and has cached the page within 60 s');
    await sleep(250);
  }
  const cached = (name) => page.evaluate(async (path) => Boolean(await caches.match(path)), `pkg/${name}`);
  const offline = { relaxed: await cached('latent_lab_relaxed_bg.wasm'), plain: await cached('latent_lab_bg.wasm') };
  const facts = await page.evaluate(async () => {
    // Before this test's own fetches below.
    const loaded = performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).filter((p) => p.endsWith('.wasm'));
    const valid = async (name) => WebAssembly.validate(await (await fetch(`pkg/${name}`)).arrayBuffer());
    const { relaxedSimd, wasmUrl } = await import('/app/wasm.js');
    return {
      probe: relaxedSimd,
      loads: wasmUrl.pathname,
      relaxedValid: await valid('latent_lab_relaxed_bg.wasm'),
      plainValid: await valid('latent_lab_bg.wasm'),
      loaded,
    };
  });
  const title = await page.$eval('[data-role="speed"]', (el) => el.title);
  await page.close();
  return { lastReport, facts: { ...facts, offline }, title, problems };
}

test(`${ENGINE}: with relaxed SIMD the page loads the relaxed build, trains, and says so`, async () => {
  const { lastReport, facts, title, problems } = await trainAndAsk(withRelaxed);
  console.log(`${ENGINE}: products ${JSON.stringify(lastReport.products)}, ${Math.round(lastReport.imagesPerSec)} img/s`);
  assert.equal(facts.plainValid, true, 'every engine runs the plain simd128 build');
  assert.equal(facts.relaxedValid, true, `${ENGINE} runs relaxed SIMD`);
  assert.equal(facts.probe, facts.relaxedValid, "the page's probe agrees with the relaxed module");
  assert.equal(facts.loads, '/pkg/latent_lab_relaxed_bg.wasm');
  assert.deepEqual(facts.loaded, ['/pkg/latent_lab_relaxed_bg.wasm'], 'the page fetched the relaxed module only');
  assert.ok(lastReport.step > 0 && Number.isFinite(lastReport.loss), `trained: ${JSON.stringify(lastReport)}`);
  assert.equal(lastReport.products.relaxedSimd, true, 'the training worker runs the relaxed build');
  assert.deepEqual(facts.offline, { relaxed: true, plain: false }, 'the offline cache keeps the module this browser runs, and only it');
  assert.match(title, /relaxed SIMD's (fused )?multiply-add/);
  assert.deepEqual(problems, []);
});

test(`${ENGINE}: without relaxed SIMD the page loads the plain simd128 build and trains`, { skip: withoutRelaxed ? false : 'Chromium has no switch to turn relaxed SIMD off' }, async () => {
  const { lastReport, facts, title, problems } = await trainAndAsk(withoutRelaxed);
  assert.equal(facts.relaxedValid, false, 'with the preference off, Firefox refuses the relaxed module');
  assert.equal(facts.probe, false, "the page's probe agrees");
  assert.equal(facts.plainValid, true);
  assert.deepEqual(facts.loaded, ['/pkg/latent_lab_bg.wasm'], 'the page fetched the plain module only');
  assert.ok(lastReport.step > 0 && Number.isFinite(lastReport.loss), `trained: ${JSON.stringify(lastReport)}`);
  assert.deepEqual(lastReport.products, { relaxedSimd: false, fused: false });
  assert.deepEqual(facts.offline, { relaxed: false, plain: true }, 'the offline cache keeps the plain module, and only it');
  assert.match(title, /plain simd128/);
  assert.deepEqual(problems, []);
});
