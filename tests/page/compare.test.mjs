// Side by side and the rest of the model form: a second model of another kind trained next to
// the main one (its own worker, same data and seed), and the architecture, batch size, seed,
// l and commitment β set from the form or the URL. Run from the repository root with
// `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { openLoadedPage, servePage, screenshot } from './harness.mjs';
import { MANIFOLD, PALETTE } from '../../www/app/config.js';

const TRAINING_TIMEOUT = 120_000;
const MIN_PIXELS = 30;

const env = servePage();

/** A fresh page at 1280×800 (`query` appended to the URL) with the data loaded. */
const openPage = (query = '') => openLoadedPage(env.browser, `${env.server.url}${query}`);

/** Palette pixels (points) and grey levels (decoded tiles) in a map's plot area. */
async function mapPixels(page, selector) {
  return page.evaluate(
    ([sel, palette]) => {
      const canvas = document.querySelector(sel);
      const dpr = canvas.width / canvas.clientWidth;
      // Inside the plot frame (the scatter's padding), clear of axes and labels.
      const [l, t, r, b] = [47, 15, 15, 39].map((v) => Math.round(v * dpr));
      const { data } = canvas.getContext('2d').getImageData(l, t, canvas.width - l - r, canvas.height - t - b);
      const colours = new Set(palette.map((hex) => parseInt(hex.slice(1), 16)));
      const shades = new Set();
      let points = 0;
      for (let p = 0; p < data.length; p += 4) {
        const [red, green, blue] = [data[p], data[p + 1], data[p + 2]];
        if (colours.has((red << 16) | (green << 8) | blue)) points++;
        if (red === green && green === blue && red < 220) shades.add(red);
      }
      return { points, shades: shades.size };
    },
    [selector, PALETTE],
  );
}

const compareState = (page) => page.evaluate(() => window.latentLab.compare());

test('Compare trains a VAE beside an autoencoder on the same data and seed, both maps labelled with their manifolds', async () => {
  const { page, problems } = await openPage('?model=ae&d=2');
  // The training worker and the replica that answers the sliders.
  const ownWorkers = page.workers().length;
  assert.equal(ownWorkers, 2);
  await page.getByLabel('Compare', { exact: true }).check();
  await page.waitForFunction(() => {
    const c = window.latentLab.compare();
    return c.phase === 'ready' && c.labels.length > 0;
  }, null, { timeout: 60_000 });
  assert.equal(page.workers().length, ownWorkers + 1, 'the comparison model runs in a worker of its own');
  assert.match(await page.locator('#scatter-caption').textContent(), /^Autoencoder \(main model\) · Latent space/);
  assert.equal(await page.locator('#compare [data-role="caption"]').textContent(), 'Comparison: VAE');
  const main = await page.evaluate(() => window.latentLab.state());
  let other = await compareState(page);
  assert.equal(main.settings.model.kind, 'ae');
  assert.equal(other.settings.model.kind, 'vae');
  assert.equal(other.dataset, main.dataset);
  for (const field of ['hidden', 'latentDim', 'arch']) assert.equal(other.settings.model[field], main.settings.model[field], field);
  assert.deepEqual(other.settings.train, main.settings.train, 'same seed, batch size, learning rate and subset');
  assert.equal(await page.getByLabel('Decoded manifold').isChecked(), true, 'comparing shows the manifold on both maps');

  await page.click('#train');
  await page.waitForFunction(
    () => window.latentLab.state().step >= 150 && window.latentLab.compare().step >= 150,
    null,
    { timeout: TRAINING_TIMEOUT },
  );
  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.compare().phase === 'paused' && window.latentLab.state().phase === 'paused');
  await page.waitForFunction(
    (n) => window.latentLab.manifold().n === n && window.latentLab.compare().manifold.n === n,
    MANIFOLD.tiles,
  );
  await page.waitForTimeout(1500);
  other = await compareState(page);
  const spread = (plane) => {
    const xs = plane.filter((_, i) => i % 2 === 0);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  };
  const mainPlane = await page.evaluate(() => Array.from(window.latentLab.scatter().plane));
  console.log(
    `steps ${await page.evaluate(() => window.latentLab.state().step)} (AE) and ${other.step} (VAE); ` +
      `std of z₁: AE ${spread(mainPlane).toFixed(2)}, VAE ${spread(other.plane).toFixed(2)}`,
  );
  assert.equal(other.labels.length, 3000, 'the comparison map shows the test codes');
  for (const selector of ['#scatter', '#compare [data-role="map"]']) {
    const { points, shades } = await mapPixels(page, selector);
    assert.ok(points >= 10 * MIN_PIXELS, `${selector}: ${points} point pixels`);
    assert.ok(shades >= 50, `${selector}: ${shades} grey levels of decoded tiles`);
  }
  await page.locator('#compare').scrollIntoViewIfNeeded();
  await screenshot(page, 'compare-ae-vae');

  // VAE against VQ-VAE: the main model becomes a VAE, the comparison a VQ-VAE of the same size.
  await page.getByLabel('Model', { exact: true }).selectOption('vae');
  await page.click('#apply');
  await page.waitForFunction(() => window.latentLab.compare().settings?.model.kind === 'ae', null, { timeout: 60_000 });
  await page.getByLabel('Compare with').selectOption('vqvae');
  await page.waitForFunction(() => {
    const c = window.latentLab.compare();
    return c.settings?.model.kind === 'vqvae' && c.phase === 'ready' && c.labels.length > 0;
  }, null, { timeout: 60_000 });
  other = await compareState(page);
  assert.match(await page.locator('#scatter-caption').textContent(), /^VAE \(main model\)/);
  assert.equal(other.caption, 'Comparison: VQ-VAE');
  assert.equal(other.settings.model.codeDim * other.settings.model.codesPerImage, 2, 'l·D equals the VAE’s d');
  assert.equal(new URL(page.url()).searchParams.get('compare'), 'vqvae');

  await page.getByLabel('Compare', { exact: true }).uncheck();
  await page.waitForFunction(() => !window.latentLab.compare().active);
  // Playwright hears of a terminated worker a moment later.
  for (let i = 0; i < 50 && page.workers().length > ownWorkers; i++) await page.waitForTimeout(100);
  assert.equal(page.workers().length, ownWorkers, 'turning comparison off ends its worker');
  assert.equal(await page.locator('#compare').isVisible(), false);
  assert.match(await page.locator('#scatter-caption').textContent(), /^Latent space/, 'alone again, the map needs no model name');
  assert.equal(await page.locator('#error').isVisible(), false);
  assert.deepEqual(problems, []);
  await page.close();
});

/**
 * Runs `action` (a click that starts a new model) and waits for the new model, which must have
 * the `model` and `train` settings given, and its untrained test evaluation.
 */
async function freshModel(page, action, { model = {}, train = {} }) {
  // Every new model clears the page's evaluation until its own arrives; checking after each
  // DOM change catches that moment, so the old model's numbers cannot pass for the new one's.
  const cleared = page.evaluate(
    () =>
      new Promise((resolve) => {
        const observer = new MutationObserver(() => {
          if (window.latentLab.state().lastEval !== null) return;
          observer.disconnect();
          resolve();
        });
        observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
      }),
  );
  await action();
  await cleared;
  await page.waitForFunction(
    ([m, t]) => {
      const s = window.latentLab.state();
      const matches = (want, have) => Object.entries(want).every(([k, v]) => have[k] === v);
      return s.phase === 'ready' && s.lastEval !== null && matches(m, s.settings.model) && matches(t, s.settings.train);
    },
    [model, train],
    { timeout: 60_000 },
  );
  return page.evaluate(() => window.latentLab.state());
}

test('architecture, batch size and seed from the form, l and commitment β from the URL, make the model', async () => {
  const { page, problems } = await openPage();
  assert.equal(await page.getByLabel('Batch size').isVisible(), false, 'the rarer settings wait behind More settings');
  await page.getByRole('button', { name: 'More settings' }).click();
  await page.getByLabel('Architecture').selectOption('conv');
  await page.getByLabel('Batch size').fill('32');
  await page.getByLabel('Seed').fill('7');
  const first = await freshModel(page, () => page.click('#apply'), { model: { arch: 'conv' }, train: { batchSize: 32, seed: 7 } });
  const url = new URL(page.url());
  assert.deepEqual(['arch', 'batch', 'seed'].map((k) => url.searchParams.get(k)), ['conv', '32', '7']);

  // The same seed gives the same untrained weights; another seed, others.
  const again = await freshModel(page, () => page.click('#reset'), { train: { seed: 7 } });
  assert.equal(again.lastEval.loss, first.lastEval.loss, 'Reset with seed 7 repeats the untrained model');
  await page.getByLabel('Seed').fill('8');
  const other = await freshModel(page, () => page.click('#apply'), { train: { seed: 8 } });
  console.log(`untrained conv VAE test loss: seed 7 ${first.lastEval.loss.toFixed(3)} (twice), seed 8 ${other.lastEval.loss.toFixed(3)}`);
  assert.notEqual(other.lastEval.loss, first.lastEval.loss);

  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.state().step >= 20, null, { timeout: TRAINING_TIMEOUT });
  await page.click('#train');
  await page.locator('#train', { hasText: 'Train' }).waitFor();
  const trained = await page.evaluate(() => window.latentLab.state());
  assert.equal(trained.settings.model.arch, 'conv');
  assert.ok(trained.lastReport.loss < first.lastEval.loss, `the conv model learns: ${first.lastEval.loss} → ${trained.lastReport.loss}`);

  // Out of the Rust model's range: the form says so and the model stays.
  await page.getByLabel('Batch size').fill('5000');
  await page.click('#apply');
  await page.locator('#error').waitFor({ state: 'visible' });
  assert.match(await page.locator('#error').textContent(), /Batch size must be 1 to 4096/);
  assert.equal((await page.evaluate(() => window.latentLab.state())).settings.train.batchSize, 32);
  await screenshot(page, 'form-more-settings');
  await page.close();
  assert.deepEqual(problems, []);

  const vq = await openPage('?model=vqvae&K=32&D=2&l=4&commitment=0.5');
  const { model } = await vq.page.evaluate(() => window.latentLab.state().settings);
  assert.deepEqual([model.kind, model.codesPerImage, model.commitment], ['vqvae', 4, 0.5]);
  await vq.page.getByRole('button', { name: 'More settings' }).click();
  assert.equal(await vq.page.getByLabel('l', { exact: true }).inputValue(), '4');
  assert.equal(await vq.page.getByRole('spinbutton', { name: 'Commitment' }).inputValue(), '0.5');
  assert.deepEqual(vq.problems, []);
  await vq.page.close();
});
