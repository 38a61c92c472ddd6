// The page served cross-origin isolated (COOP/COEP, as `pkg-config/serve.sh` serves it), in
// each engine: it trains in two workers, which exchange gradients through shared memory, and
// once paused a zoom of the map brings a new 20 × 20 manifold, decoded in two parts (the
// training worker's rows and the replica's) and drawn whole. The rest of the suite serves the
// page without the headers, so both kinds stay tested.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINE, openLoadedPage, servePage, state, trainFor, waitUntil } from './harness.mjs';

// Must match GRID_MEASURE in www/views/manifold.js.
const GRID_MEASURE = 'latent-lab:map-to-grid';

const env = servePage({ isolated: true });

test(`${ENGINE}: isolated, the page trains in two workers and a paused zoom's grid comes from two workers, drawn whole`, async () => {
  const url = `${env.server.url}?workers=2&quick=1&hidden=128&manifold=1`;
  const { page, problems } = await openLoadedPage(env.browser, url, { timeout: 120_000 });
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'served with COOP/COEP the page is isolated');
  await trainFor(page, 2000);
  const { lastReport } = await state(page);
  assert.equal(lastReport?.workers, 2, 'the helper worker started under require-corp');
  assert.equal(lastReport.exchange, 'shared memory', 'isolated, the workers exchange gradients through SharedArrayBuffers');
  assert.match(await page.$eval('[data-role="speed"]', (el) => el.title), /through shared memory/);
  assert.ok(lastReport.step > 0);

  const before = await page.evaluate(() => window.latentLab.manifold());
  await page.evaluate(() => performance.clearMeasures());
  await page.focus('#scatter');
  await page.keyboard.press('=');
  await waitUntil(page, (name) => performance.getEntriesByName(name).length > 0, GRID_MEASURE);
  const after = await page.evaluate(() => window.latentLab.manifold());
  const [ms] = await page.evaluate((name) => performance.getEntriesByName(name).map((e) => e.duration), GRID_MEASURE);
  console.log(`${ENGINE}: zoom → grid drawn in ${ms.toFixed(1)} ms from ${after.parts} parts; width ${(before.rect.x1 - before.rect.x0).toFixed(3)} → ${(after.rect.x1 - after.rect.x0).toFixed(3)}`);
  assert.equal(after.n, 20);
  assert.equal(after.parts, 2, 'the paused grid was decoded in two parts, one by each worker');
  assert.ok(after.rect.x1 - after.rect.x0 < before.rect.x1 - before.rect.x0, 'the new grid covers the zoomed-in view');
  assert.deepEqual(problems, []);
  await page.close();
});
