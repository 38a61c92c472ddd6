// Shallow VQ on pixels: the lecture opens from its URL with the K = 128, l = 1 VQ-VAE and starts
// k-means; Cancel stops it; a run with K = 16 shows its progress (k-means++ seeds, then Lloyd
// iterations whose objective never rises), and the table, the test digits and the samples show
// the numbers Rust returned, checked against a recomputation from the centroids and against the
// VQ-VAE's test cost the native trainer recorded.
// Run from the repository root with `node --test tests/page/shallow-vq.test.mjs`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { greys, openLoadedPage, screenshot, servePage } from './harness.mjs';
import { manifest } from './lecture-helpers.mjs';
import { SHALLOW } from '../../www/app/config.js';

const env = servePage();
const shallow = () => window.latentLab.shallow();
const PIXELS = 784;

test('the Shallow VQ lecture: k-means in the worker, its table, digits and samples', async () => {
  const { page, problems } = await openLoadedPage(env.browser, `${env.server.url}?lecture=shallow-vq`);
  const vqVae = manifest.checkpoints.find((c) => c.name === 'vq-k128-ema-restart');

  // The preset starts K = 128 once the VQ-VAE is in; Cancel throws that run away.
  await page.waitForFunction(() => window.latentLab.shallow().running && window.latentLab.shallow().progress.length > 0, null, { timeout: 60_000 });
  const opened = await page.evaluate(shallow);
  assert.ok(opened.visible);
  assert.equal(opened.progress[0].codebookSize, SHALLOW.defaultK);
  await page.locator('#shallow-vq').getByRole('button', { name: 'Cancel' }).click();
  await page.waitForFunction(() => !window.latentLab.shallow().running);
  assert.equal((await page.evaluate(shallow)).report, null, 'a cancelled run reports nothing');

  // K = 16 on the first 10,000 training images.
  await page.locator('#shallow-vq [data-role="k"]').selectOption('16');
  await page.locator('#shallow-vq [data-role="images"]').selectOption('10000');
  const started = Date.now();
  await page.locator('#shallow-vq').getByRole('button', { name: 'Run k-means' }).click();
  await page.waitForFunction(() => window.latentLab.shallow().report?.codebookSize === 16 && window.latentLab.shallow().samples, null, { timeout: 300_000 });
  const seconds = (Date.now() - started) / 1000;
  const s = await page.evaluate(shallow);
  const r = s.report;

  // The progress bar ran: seeding, then Lloyd iterations one per message, the objective never rising.
  const stages = s.progress.map((p) => p.stage);
  assert.equal(stages[0], 'seeding');
  assert.equal(stages.at(-1), 'finished');
  const lloyd = s.progress.filter((p) => p.iterations > 0);
  assert.deepEqual(lloyd.map((p) => p.iterations), lloyd.map((_, i) => i + 1), 'one Lloyd iteration per chunk');
  for (let i = 1; i < lloyd.length; i++) assert.ok(lloyd[i].objectivePerImage <= lloyd[i - 1].objectivePerImage * (1 + 1e-6), `J rose at iteration ${i + 1}`);
  assert.deepEqual(s.bar, { value: 16 + lloyd[0].maxIterations, max: 16 + lloyd[0].maxIterations }, 'the bar full at the end');
  assert.equal(r.iterations, lloyd.length);
  console.log(
    `k-means K = 16 on ${r.trainImages} images in the page: ${r.iterations} iterations (converged: ${r.converged}) in ${r.seconds.toFixed(1)} s ` +
      `of k-means calls, ${seconds.toFixed(1)} s from the click; test NLL ${r.testNllNats.toFixed(2)} nats/image at ${r.rateBits} bits; ` +
      `VQ-VAE K = ${r.vq.codebookSize}, l = ${r.vq.codesPerImage}: ${r.vq.reconNats.toFixed(2)} nats at ${r.vq.rateBits} bits`,
  );

  // The table shows the reply's numbers: the shallow VQ at log₂ K bits, the VQ-VAE at l·log₂ K.
  assert.equal(r.trainImages, 10_000);
  assert.equal(r.rateBits, 4);
  assert.deepEqual(s.cells, [
    ['shallow VQ (k-means on pixels)', '16', '1', '4', r.testNllNats.toFixed(1)],
    [`VQ-VAE in the page (D = ${vqVae.model.codeDim})`, '128', '1', '7', r.vq.reconNats.toFixed(1)],
  ]);
  // The page's wasm scores the VQ-VAE on the test set as the native trainer did.
  assert.ok(Math.abs(r.vq.reconNats - vqVae.test.recon) < 0.01, `${r.vq.reconNats} vs ${vqVae.test.recon}`);
  assert.equal(r.testImages, vqVae.test.images);

  // The test digits: each one's centroid is its nearest by brute force, at the NLL Rust gave.
  const mu = (z) => r.centroids.slice(z * PIXELS, (z + 1) * PIXELS);
  for (let i = 0; i < r.shown; i++) {
    const x = r.shownPixels.slice(i * PIXELS, (i + 1) * PIXELS).map((p) => p / 255);
    const distances = Array.from({ length: 16 }, (_, z) => mu(z).reduce((sum, m, p) => sum + (x[p] - m) ** 2, 0));
    assert.equal(r.shownCodes[i], distances.indexOf(Math.min(...distances)), `test image ${i}'s nearest centroid`);
    const clamp = (m) => Math.min(1 - r.epsilon, Math.max(r.epsilon, m));
    const nll = -mu(r.shownCodes[i]).reduce((sum, m, p) => sum + x[p] * Math.log(clamp(m)) + (1 - x[p]) * Math.log(1 - clamp(m)), 0);
    assert.ok(Math.abs(nll - r.shownNll[i]) < 1e-3, `test image ${i}: ${nll} vs ${r.shownNll[i]}`);
    assert.equal(s.shownNllText[i], `${r.shownNll[i].toFixed(1)} (z=${r.shownCodes[i]})`);
  }
  assert.equal((await greys(page, '#shallow-vq [data-role="centroids"]')).length, 16 * PIXELS, 'a 16 × 1 grid of centroids');

  // Samples beside the VQ-VAE's; σ = 1 (the lecture's N(μ_z, I)) drowns the centroid.
  assert.equal(s.samples.codes.length, SHALLOW.samples);
  assert.equal(s.samples.vqCodes.length, SHALLOW.samples);
  assert.equal(s.samples.sigma, Math.fround(SHALLOW.defaultSigma), "σ as Rust's f32");
  await page.locator('#shallow-vq').scrollIntoViewIfNeeded();
  await screenshot(page, 'shallow-vq', { selector: '#shallow-vq' });
  await page.locator('#shallow-vq [data-role="sigma"]').fill('1');
  await page.waitForFunction(() => window.latentLab.shallow().samples?.sigma === 1);
  assert.ok(await page.locator('#shallow-vq [data-role="vq-samples"]').isVisible());
  assert.deepEqual(problems, []);
  await page.close();
});

test('the Shallow VQ preset opens from the Lecture menu', async () => {
  const { page, problems } = await openLoadedPage(env.browser, env.server.url);
  assert.ok(await page.locator('#shallow-vq').isHidden(), 'the panel belongs to its preset');
  await page.getByLabel('Lecture').selectOption('shallow-vq');
  await page.waitForFunction(() => window.latentLab.shallow().progress.length > 0, null, { timeout: 60_000 });
  assert.equal(new URL(page.url()).searchParams.get('lecture'), 'shallow-vq');
  assert.ok(await page.locator('#shallow-vq').isVisible());
  await page.locator('#shallow-vq').getByRole('button', { name: 'Cancel' }).click();
  assert.deepEqual(problems, []);
  await page.close();
});
