// The first page as a student meets it: the data downloads, Train starts, and within seconds
// the scatter shows the ten digit classes pulling apart while the loss falls. Run from the
// repository root with `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACTS, WWW, openLoadedPage, servePage, screenshot } from './harness.mjs';
import { mkdir, stat } from 'node:fs/promises';
import { IDX_FILES, PALETTE } from '../../www/app/config.js';
import { knnAccuracy, paletteCounts, scatterPoints } from './measure.mjs';

// "The 2-D scatter separates digits within about 10 seconds": the test allows 15 s for a
// busy machine. Measured here with two cores shared with compile jobs, the 5-NN accuracy of
// the 3,000 codes was 0.40–0.46 at 10 s (about 200 steps of 64 images) and climbs slowly
// after; the bar sits below that, four times chance (0.1).
const GOAL_MS = 10_000;
const SEPARATION_BUDGET_MS = 15_000;
const KNN_K = 5;
const KNN_MIN_ACCURACY = 0.4;
// A colour counts as drawn when this many canvas pixels have it exactly (points are ~3 px wide).
const MIN_PIXELS_PER_COLOUR = 20;

const env = servePage();

/** A fresh page at 1280×800 with the data loaded; `problems` collects console errors (its workers' too). */
const openPage = () => openLoadedPage(env.browser, env.server.url);

const trainLossCell = '#metrics td[data-source="train"][data-metric="loss"]';

async function displayedTrainLoss(page) {
  return Number(await page.locator(trainLossCell).textContent());
}

test('training separates the digits in the scatter within seconds', async () => {
  const { page, problems } = await openPage();
  const initial = await page.evaluate(() => window.latentLab.state());
  assert.equal(initial.phase, 'ready');
  // The download bar counted every byte of the four files against the announced total.
  const sizes = await Promise.all(IDX_FILES.map((name) => stat(`${WWW}data/mnist/${name}`)));
  const bytes = sizes.reduce((sum, s) => sum + s.size, 0);
  const bar = await page.locator('#progress progress').evaluate((p) => ({ value: p.value, max: p.max }));
  assert.deepEqual(bar, { value: bytes, max: bytes });

  await page.click('#train');
  const started = Date.now();
  await page.waitForFunction((sel) => Number(document.querySelector(sel).textContent) > 0, trainLossCell);
  const firstLoss = await displayedTrainLoss(page);

  let separatedAt = null;
  let accuracy = 0;
  const trace = [];
  while (Date.now() - started < SEPARATION_BUDGET_MS) {
    await page.waitForTimeout(1000);
    const { plane, labels } = await scatterPoints(page);
    accuracy = knnAccuracy(plane, labels, KNN_K);
    const { step } = await page.evaluate(() => window.latentLab.state());
    trace.push(`${((Date.now() - started) / 1000).toFixed(1)}s step ${step}: ${accuracy.toFixed(3)}`);
    if (accuracy >= KNN_MIN_ACCURACY && separatedAt === null) separatedAt = Date.now() - started;
    // Past separation, go on to the 10 s mark so the printout shows what a student sees then.
    if (separatedAt !== null && Date.now() - started >= GOAL_MS) break;
  }
  const elapsed = Date.now() - started;
  const state = await page.evaluate(() => window.latentLab.state());
  const counts = await paletteCounts(page);
  const lastLoss = await displayedTrainLoss(page);
  await mkdir(ARTIFACTS, { recursive: true });
  await screenshot(page, 'first-page');

  console.log(`kNN accuracy by time: ${trace.join(', ')}`);
  console.log(
    `${KNN_K}-NN accuracy ≥ ${KNN_MIN_ACCURACY} after ` +
      `${separatedAt === null ? 'never' : `${(separatedAt / 1000).toFixed(1)} s`}; at the end ` +
      `${accuracy.toFixed(3)} after ${(elapsed / 1000).toFixed(1)} s, step ${state.step}, ` +
      `${Math.round(state.lastReport.imagesPerSec)} images/s in the page; ` +
      `displayed train loss ${firstLoss} → ${lastLoss} nats`,
  );

  assert.ok(separatedAt !== null, `no separation within ${SEPARATION_BUDGET_MS / 1000} s: ${trace.join(', ')}`);
  assert.ok(lastLoss < firstLoss, `displayed loss did not fall: ${firstLoss} → ${lastLoss}`);
  counts.forEach((count, digit) =>
    assert.ok(count >= MIN_PIXELS_PER_COLOUR, `digit ${digit}'s colour ${PALETTE[digit]} has ${count} pixels on the scatter`),
  );
  assert.equal(await page.locator('#error').isVisible(), false);
  assert.deepEqual(problems, []);
  await page.close();
});
