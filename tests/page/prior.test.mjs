// The learned prior over VQ code grids: the "Learned prior" lecture opens from its URL with the
// shipped prior, shows the test NLL Rust computed (and the native trainer recorded), samples
// from it beside uniform grids, completes a grid keeping the codes the student set, and a new
// prior trained in the page beats the per-position unigram baseline.
// Run from the repository root with `node --test tests/page/prior.test.mjs`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { greys, openLoadedPage, screenshot, servePage } from './harness.mjs';
import { manifest } from './lecture-helpers.mjs';
import { PRIOR } from '../../www/app/config.js';

const env = servePage();
const prior = () => window.latentLab.prior();
const bits = (v) => `${v.toFixed(2)} bits`;

/** Dark pixels in each of `count` 28×28 tiles laid in a row on canvas `selector`. */
async function inkPerTile(page, selector, count) {
  const pixels = await greys(page, selector);
  const width = 28 * count;
  assert.equal(pixels.length, width * 28, `${selector} holds ${count} images in a row`);
  return Array.from({ length: count }, (_, k) => pixels.filter((v, p) => Math.floor((p % width) / 28) === k && v < 128).length);
}

test('the Learned prior lecture: shipped prior, its numbers, samples, completion, and training in the page', async () => {
  const { page, problems } = await openLoadedPage(env.browser, `${env.server.url}?lecture=learned-prior`);
  const shipped = manifest.priors.find((p) => p.name === 'vq-l16-prior');

  // The shipped prior opens with the checkpoint: the table shows the Rust reply's numbers.
  await page.waitForFunction(() => {
    const p = window.latentLab.prior();
    return p.visible && p.report && !p.training && p.samples;
  }, null, { timeout: 60_000 });
  const opened = await page.evaluate(prior);
  const r = opened.report;
  assert.equal(r.step, shipped.steps, 'the shipped prior, at its step');
  assert.deepEqual(opened.cells, { learned: bits(r.testNllBits), unigram: bits(r.unigramBits), uniform: bits(r.uniformBits) });
  assert.equal(r.uniformBits, r.positions * Math.log2(r.codebookSize));
  // The page's wasm scores the test set as the native trainer did when it made the file.
  for (const key of ['testNllBits', 'unigramBits', 'uniformBits']) assert.ok(Math.abs(r[key] - shipped.test[key]) < 0.01, `${key}: ${r[key]} vs ${shipped.test[key]}`);
  assert.ok(r.testNllBits < r.unigramBits && r.unigramBits < r.uniformBits, 'learned < unigram < uniform');
  console.log(`shipped prior: test NLL ${r.testNllBits.toFixed(2)} bits/image, unigram ${r.unigramBits.toFixed(2)}, uniform ${r.uniformBits}`);

  // Samples from the prior and uniform ones, drawn and decoded.
  const { samples } = opened;
  assert.equal(samples.codes.length, PRIOR.samples * r.positions);
  assert.equal(samples.uniformCodes.length, PRIOR.samples * r.positions);
  assert.ok(samples.codes.every((c) => c >= 0 && c < r.codebookSize));
  for (const role of ['samples', 'uniform-samples']) {
    const selector = `#learned-prior [data-role="${role}"]`;
    assert.ok(await page.locator(selector).isVisible(), `${role} shown`);
    const ink = await inkPerTile(page, selector, PRIOR.samples);
    assert.ok(ink.some((n) => n > 0), `${role} decode to something`);
  }

  // Complete the rest: set cell 3 (index 2), keep up to it, and the prior draws the others.
  await page.waitForFunction(() => window.latentLab.symbolic().hasPrior && window.latentLab.symbolic().grid);
  const before = (await page.evaluate(() => window.latentLab.symbolic())).grid;
  const cell = page.locator('#symbolic .code-cell').nth(2);
  await cell.fill(String((before[2] + 5) % r.codebookSize));
  assert.equal(await page.locator('#symbolic [data-role="keep"]').inputValue(), '3', 'keep runs to the last code set');
  await page.getByRole('button', { name: 'Complete the rest from the prior' }).click();
  await page.waitForFunction(() => window.latentLab.symbolic().completed, null, { timeout: 20_000 });
  const { completed, grid } = await page.evaluate(() => window.latentLab.symbolic());
  assert.equal(completed.keep, 3);
  assert.deepEqual(completed.grid, grid);
  assert.equal(completed.codes.length, PRIOR.completions * r.positions);
  for (let k = 0; k < completed.count; k++) {
    assert.deepEqual(completed.codes.slice(k * r.positions, k * r.positions + 3), grid.slice(0, 3), `completion ${k} keeps the set codes`);
  }
  assert.ok(await page.locator('#symbolic [data-role="completions"]').isVisible());
  await screenshot(page, 'prior-completion', { selector: '#symbolic' });

  // A new prior trained here, timed from the click to its final report.
  const started = Date.now();
  await page.getByRole('button', { name: 'Train prior' }).click();
  await page.waitForFunction(() => window.latentLab.prior().training, null, { timeout: 30_000 });
  await page.waitForFunction(() => {
    const p = window.latentLab.prior();
    return p.report && !p.training && p.report.step > 0 && p.samples;
  }, null, { timeout: 600_000 });
  const seconds = (Date.now() - started) / 1000;
  const trained = await page.evaluate(prior);
  const t = trained.report;
  console.log(
    `trained in the page: ${t.step} steps (${PRIOR.epochs} epochs) in ${seconds.toFixed(1)} s from the click ` +
      `(${t.trainSeconds.toFixed(1)} s in training steps); test NLL ${t.testNllBits.toFixed(2)} bits/image, unigram ${t.unigramBits.toFixed(2)}`,
  );
  assert.equal(t.step, PRIOR.epochs * t.stepsPerEpoch);
  assert.ok(t.testNllBits < t.unigramBits, 'the prior trained in the page beats the unigram baseline');
  assert.equal(trained.tests.length, PRIOR.epochs + 1, 'a test point at the start and after every epoch');
  assert.ok(trained.losses > 0);
  assert.deepEqual(trained.cells.learned, bits(t.testNllBits));
  await page.locator('#learned-prior').scrollIntoViewIfNeeded();
  await screenshot(page, 'learned-prior', { selector: '#learned-prior' });

  // Training the VQ-VAE changes its codes: the prior goes, and completion waits for a new one.
  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.prior().report === null && !window.latentLab.symbolic().hasPrior);
  await page.click('#train');
  assert.ok(await page.getByRole('button', { name: 'Complete the rest from the prior' }).isDisabled());
  assert.deepEqual(problems, []);
  await page.close();
});

test('the Learned prior preset opens from the Lecture menu', async () => {
  const { page, problems } = await openLoadedPage(env.browser, env.server.url);
  await page.getByLabel('Lecture').selectOption('learned-prior');
  await page.waitForFunction(() => window.latentLab.prior().report?.step > 0 && window.latentLab.prior().samples, null, { timeout: 60_000 });
  assert.equal(new URL(page.url()).searchParams.get('lecture'), 'learned-prior');
  assert.deepEqual(problems, []);
  await page.close();
});
