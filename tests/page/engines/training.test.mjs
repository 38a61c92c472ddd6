// Training and the student's own files, in each engine: the loss falls while the steps rise,
// the map draws every digit in its colour, a good set of IDX files loads and trains, and a
// malformed one is refused while training goes on.
// Run from the repository root: `node --test tests/page/engines/` (ENGINE=chromium for Chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ENGINE, WWW, anonymousFashionFiles, isVisible, openLoadedPage, screenshot, servePage, sleep, state, text, toggleTraining, trainFor, waitUntil } from './harness.mjs';
import { knnAccuracy, paletteCounts, scatterPoints } from '../measure.mjs';
import { IDX_FILES, PALETTE } from '../../../www/app/config.js';

// As in ../first-page.test.mjs: four times chance after 15 s on a busy machine.
const KNN_K = 5;
const KNN_MIN_ACCURACY = 0.4;
const SEPARATION_BUDGET_MS = 15_000;
const MIN_PIXELS_PER_COLOUR = 20;
const TRAINING_TIMEOUT = 90_000;
const trainLossCell = '#metrics td[data-source="train"][data-metric="loss"]';
const displayedTrainLoss = async (page) => Number(await text(page, trainLossCell));

const env = servePage();

test(`${ENGINE}: training lowers the loss, the steps rise and the map draws every digit in its colour`, async () => {
  const { page, problems } = await openLoadedPage(env.browser, env.server.url);
  assert.equal((await state(page)).phase, 'ready');
  await toggleTraining(page, 'training');
  const started = Date.now();
  await waitUntil(page, (sel) => Number(document.querySelector(sel).textContent) > 0, trainLossCell);
  const firstLoss = await displayedTrainLoss(page);

  const steps = [];
  let accuracy = 0;
  while (Date.now() - started < SEPARATION_BUDGET_MS) {
    await sleep(1000);
    steps.push((await state(page)).step);
    const { plane, labels } = await scatterPoints(page);
    accuracy = knnAccuracy(plane, labels, KNN_K);
    if (accuracy >= KNN_MIN_ACCURACY && steps.length >= 5) break;
  }
  await toggleTraining(page, 'paused');
  const lastLoss = await displayedTrainLoss(page);
  const { lastReport } = await state(page);
  await sleep(500);
  const counts = await paletteCounts(page);
  console.log(
    `${ENGINE}: steps ${steps.join(' → ')}; ${KNN_K}-NN accuracy ${accuracy.toFixed(3)}; ` +
      `${Math.round(lastReport.imagesPerSec)} images/s; displayed train loss ${firstLoss} → ${lastLoss} nats`,
  );
  await screenshot(page, 'engine-training');

  assert.ok(
    steps.every((s, i) => i === 0 || s > steps[i - 1]),
    `the step count rises every second: ${steps}`,
  );
  assert.ok(lastLoss < firstLoss, `displayed loss did not fall: ${firstLoss} → ${lastLoss}`);
  assert.ok(accuracy >= KNN_MIN_ACCURACY, `codes not separated by digit: ${KNN_K}-NN accuracy ${accuracy}`);
  counts.forEach((count, digit) =>
    assert.ok(count >= MIN_PIXELS_PER_COLOUR, `digit ${digit}'s colour ${PALETTE[digit]} has ${count} pixels on the map`),
  );
  assert.equal(await isVisible(page, '#error'), false);
  assert.deepEqual(problems, []);
  await page.close();
});

test(`${ENGINE}: a traversal slider redraws the decoder's image, drawn by the replica worker`, async () => {
  const { page, problems } = await openLoadedPage(env.browser, env.server.url);
  await trainFor(page, 3000);
  const settled = () => {
    const t = window.latentLab.traversal();
    return t.shownZ !== null && !t.inFlight && t.shownZ.every((v, j) => v === t.z[j]);
  };
  await waitUntil(page, settled);
  const atZero = await page.evaluate(() => window.latentLab.traversalImage());
  await page.focus('#traversal input[type="range"]');
  for (let i = 0; i < 40; i++) await page.keyboard.press('ArrowRight');
  await waitUntil(page, settled);
  const { z } = await page.evaluate(() => window.latentLab.traversal());
  const moved = await page.evaluate(() => window.latentLab.traversalImage());
  const ink = (greys) => greys.filter((v) => v < 128).length;
  const changed = moved.filter((v, p) => v !== atZero[p]).length;
  console.log(`${ENGINE}: traversal z1 0 → ${z[0]}: ${ink(atZero)} → ${ink(moved)} dark pixels, ${changed} of ${moved.length} changed`);
  assert.equal(moved.length, 784, 'one 28 × 28 image');
  assert.ok(Math.abs(z[0] - 2) < 1e-6, `40 steps of 0.05 right: z1 = ${z[0]}`);
  assert.ok(ink(moved) >= 20 && changed >= 20, 'the image shows a digit, and moving z1 changed it');
  assert.deepEqual(problems, []);
  await page.close();
});

test(`${ENGINE}: a malformed IDX file is refused while training goes on, and a good set loads and trains`, async () => {
  const { page, problems } = await openLoadedPage(env.browser, env.server.url);
  await toggleTraining(page, 'training');
  await waitUntil(page, () => window.latentLab.state().step >= 20, null, TRAINING_TIMEOUT);
  const mnistHead = await page.evaluate(() => window.latentLab.scatter().labels.slice(0, 200).join());
  const input = await page.$('#idx-files');

  const dir = await mkdtemp(join(tmpdir(), 'latent-lab-engine-idx-'));
  try {
    // Three good MNIST files and a training-image file cut short after 1,000 images.
    const raw = gunzipSync(await readFile(`${WWW}data/mnist/${IDX_FILES[2]}`));
    const broken = join(dir, 'train-images-idx3-ubyte');
    await writeFile(broken, raw.subarray(0, 16 + 784 * 1000));
    await input.uploadFile(broken, ...IDX_FILES.slice(1).map((name) => `${WWW}data/mnist/${name}`));
    await waitUntil(page, () => document.getElementById('error').checkVisibility());
    const refusal = (await text(page, '#error [data-role="messages"]')).trim();
    console.log(`${ENGINE}: refused: ${refusal}`);
    assert.ok(refusal.length > 0, 'the refusal says why');
    const { step } = await state(page);
    await waitUntil(page, (from) => window.latentLab.state().step >= from + 30, step, TRAINING_TIMEOUT);
    const after = await state(page);
    assert.equal(after.phase, 'training');
    assert.equal(after.dataset, 'mnist');
    assert.equal(await page.evaluate(() => window.latentLab.scatter().labels.slice(0, 200).join()), mnistHead, 'the map still shows MNIST');
    await toggleTraining(page, 'paused');

    // Fashion-MNIST under names that say nothing: the page sorts the files by their headers.
    await input.uploadFile(...(await anonymousFashionFiles(dir)));
    await waitUntil(page, () => window.latentLab.state().dataset === 'own' && window.latentLab.state().phase === 'ready', null, 60_000);
  } finally {
    await rm(dir, { recursive: true });
  }
  assert.equal(await isVisible(page, '#error'), false, 'the good set clears the refusal');
  await waitUntil(page, (before) => window.latentLab.scatter().labels.slice(0, 200).join() !== before, mnistHead);
  // The map's labels are the uploaded test labels, in file order.
  const fashionLabels = gunzipSync(await readFile(`${WWW}data/fashion/${IDX_FILES[3]}`)).subarray(8, 208);
  assert.equal(await page.evaluate(() => window.latentLab.scatter().labels.slice(0, 200).join()), Array.from(fashionLabels).join());

  await toggleTraining(page, 'training');
  await waitUntil(page, () => window.latentLab.state().step >= 50, null, TRAINING_TIMEOUT);
  await toggleTraining(page, 'paused');
  const trained = await state(page);
  console.log(`${ENGINE}: own data: step ${trained.step}, test loss ${trained.lastEval?.loss.toFixed(1)} nats`);
  assert.equal(trained.dataset, 'own');
  assert.deepEqual(problems, []);
  await page.close();
});
