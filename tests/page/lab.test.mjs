// The interactive lab as a student uses it: switching the model to a VQ-VAE and watching its
// codebook's Voronoi cells and usage, tiling the map with the decoded manifold, and drawing ε
// for a picked digit of a VAE. Run from the repository root with `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openLoadedPage, servePage, screenshot } from './harness.mjs';

import { MANIFOLD, PALETTE } from '../../www/app/config.js';

// Long enough for a few hundred steps here: the codes spread and the clusters form.
const TRAIN_MS = 4000;
// A fill colour, tile or sample counts as drawn when at least this many pixels show it.
const MIN_PIXELS = 30;

const env = servePage();

/** A fresh page at 1280×800 (`query` appended to the URL) with the data loaded. */
const openPage = (query = '') => openLoadedPage(env.browser, `${env.server.url}${query}`);

/** Trains for `ms`, then pauses and waits until the paused model's pictures are in. */
async function trainFor(page, ms) {
  await page.click('#train');
  await page.waitForTimeout(ms);
  await page.click('#train');
  await page.locator('#train', { hasText: 'Train' }).waitFor();
  await page.waitForFunction(() => window.latentLab.state().phase === 'paused');
  // The pause sends a last scatter; let the map's view settle on it.
  await page.waitForTimeout(1200);
}

/** RGB pixels of a canvas as the page shows them; `inset` trims the scatter's axes and ticks. */
async function canvasPixels(page, selector, inset = null) {
  return page.evaluate(
    ([sel, pad]) => {
      const canvas = document.querySelector(sel);
      const dpr = canvas.width / canvas.clientWidth;
      const [l, t, r, b] = (pad ?? [0, 0, 0, 0]).map((v) => Math.round(v * dpr));
      const w = canvas.width - l - r;
      const h = canvas.height - t - b;
      const { data } = canvas.getContext('2d').getImageData(l, t, w, h);
      const rgb = [];
      for (let p = 0; p < data.length; p += 4) rgb.push((data[p] << 16) | (data[p + 1] << 8) | data[p + 2]);
      return rgb;
    },
    [selector, inset],
  );
}

// The scatter's plot area (PAD in views/scatter.js) shrunk by 3 px so its frame stays out.
const PLOT_INSET = [47, 15, 15, 39];

test('a VQ-VAE with K = 16, D = 2 draws one Voronoi cell per code and counts every test image', async () => {
  const { page, problems } = await openPage();
  await page.getByLabel('Model', { exact: true }).selectOption('vqvae');
  await page.getByLabel('K', { exact: true }).fill('16');
  await page.getByLabel('D', { exact: true }).fill('2');
  assert.equal(await page.getByLabel('Latent dim').isVisible(), false, 'the VQ-VAE has no latent-dim field');
  await page.click('#apply');
  await page.waitForFunction(() => {
    const s = window.latentLab.state();
    return s.phase === 'ready' && s.settings.model.kind === 'vqvae';
  });
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('model'), 'vqvae');
  assert.equal(url.searchParams.get('K'), '16');
  assert.equal(url.searchParams.get('D'), '2');
  assert.equal(url.searchParams.get('d'), null, 'the latent dimension of an AE/VAE does not belong in a VQ-VAE link');

  await trainFor(page, TRAIN_MS);
  const view = await page.evaluate(() => window.latentLab.codebook());
  const testLength = 10000; // MNIST's test set
  console.log(`VQ-VAE after ${TRAIN_MS / 1000} s: ${view.used} of ${view.codes} codes used, perplexity ${view.perplexity.toFixed(2)}`);
  assert.equal(view.codes, 16);
  assert.equal(view.cells, 16, 'one Voronoi cell per code');
  assert.equal(view.usage.reduce((a, b) => a + b, 0), testLength, 'the usage histogram counts every test image once');
  assert.ok(view.perplexity >= 1 && view.perplexity <= 16);

  // The cell colour of every used code is on the map (a dead code may sit out of view), and
  // the histogram and the decoded codes are drawn.
  const map = await canvasPixels(page, '#scatter', PLOT_INSET);
  for (const fill of new Set(view.fills.filter((_, code) => view.usage[code] > 0))) {
    const [r, g, b] = fill.match(/\d+/g).map(Number);
    const count = map.filter((v) => v === ((r << 16) | (g << 8) | b)).length;
    assert.ok(count >= MIN_PIXELS, `cell fill ${fill} has ${count} pixels on the map`);
  }
  const bars = await canvasPixels(page, '#codebook [data-role="usage"]');
  assert.ok(bars.filter((v) => PALETTE.includes(`#${v.toString(16).padStart(6, '0')}`)).length >= MIN_PIXELS, 'usage bars drawn');
  const strip = await page.locator('#codebook [data-role="strip"]').evaluate((c) => ({ w: c.width, h: c.height }));
  assert.deepEqual(strip, { w: 16 * 28, h: 28 });

  // The loss table shows the VQ terms and hides the KL.
  assert.equal(await page.getByRole('rowheader', { name: /codebook/ }).isVisible(), true);
  assert.equal(await page.getByRole('rowheader', { name: /KL/ }).isVisible(), false);
  const perplexityCell = await page.locator('td[data-source="test"][data-metric="perplexity"]').textContent();
  assert.ok(Number(perplexityCell) >= 1, `test perplexity cell shows "${perplexityCell}"`);
  await screenshot(page, 'lab-vqvae');
  await screenshot(page, 'lab-vqvae-full', { fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('an autoencoder from the URL shows its loss and tiles its map with the decoded manifold', async () => {
  const { page, problems } = await openPage('?model=ae&d=2');
  const { model } = await page.evaluate(() => window.latentLab.state().settings);
  assert.equal(model.kind, 'ae');
  assert.equal(await page.getByLabel('Model', { exact: true }).inputValue(), 'ae');
  assert.equal(await page.getByLabel('β', { exact: true }).isVisible(), false, 'an autoencoder has no β');
  // An autoencoder's loss is its reconstruction error alone.
  const rows = await page.locator('#metrics tbody tr:visible th').allTextContents();
  assert.deepEqual(rows, ['reconstruction']);
  await trainFor(page, TRAIN_MS);
  const greys = async () => {
    const pixels = await canvasPixels(page, '#scatter', PLOT_INSET);
    // Tiles are shades of grey (r = g = b) of every level; points, grid and paper are a few.
    const shades = new Set();
    let count = 0;
    for (const v of pixels) {
      const [r, g, b] = [v >> 16, (v >> 8) & 255, v & 255];
      if (r === g && g === b && r < 220) {
        shades.add(r);
        count++;
      }
    }
    return { share: count / pixels.length, shades: shades.size };
  };
  const before = await greys();
  await page.getByLabel('Decoded manifold').check();
  await page.waitForFunction((n) => window.latentLab.manifold().n === n, MANIFOLD.tiles);
  await page.waitForTimeout(200);
  const after = await greys();
  console.log(`manifold: grey pixels ${(before.share * 100).toFixed(1)} % → ${(after.share * 100).toFixed(1)} %, shades ${before.shades} → ${after.shades}`);
  assert.ok(after.shades >= before.shades + 50, `the tiles should add grey levels: ${before.shades} → ${after.shades}`);
  assert.ok(after.share > before.share + 0.05, `grey share ${before.share} → ${after.share}`);
  assert.equal(new URL(page.url()).searchParams.get('manifold'), '1');
  await screenshot(page, 'lab-manifold');

  await page.getByLabel('Decoded manifold').uncheck();
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => window.latentLab.manifold().n), 0);
  assert.deepEqual(problems, []);
  await page.close();
});

test('drawing ε for a picked VAE digit puts z = μ + σ ⊙ ε on the map and decodes it', async () => {
  const { page, problems } = await openPage();
  await trainFor(page, TRAIN_MS);
  // A 2-D latent space is its own map: the axes are z₁ and z₂, not principal components.
  assert.deepEqual((await page.evaluate(() => window.latentLab.scatter())).axisNames, ['z₁', 'z₂']);
  const at = await page.evaluate(() => window.latentLab.pointOnScreen(0));
  await page.mouse.click(at.x, at.y);
  await page.waitForFunction(() => window.latentLab.reparam() !== null);
  const picked = await page.evaluate(() => window.latentLab.reparam());
  assert.equal(picked.mu.length, 2);
  assert.equal(picked.zs.length, 0);

  await page.getByRole('button', { name: 'Draw ε' }).click();
  await page.waitForFunction(() => window.latentLab.reparam().zs.length === 1);
  await page.getByRole('button', { name: 'Draw 10' }).click();
  await page.waitForFunction(() => window.latentLab.reparam().zs.length === 11);
  const s = await page.evaluate(() => window.latentLab.reparam());
  // Each z is at Mahalanobis distance |ε| from μ: inside the 2σ ellipse exactly when |ε| ≤ 2,
  // which holds for 86 % of draws; eleven draws all outside would be a bug, not bad luck.
  const radii = s.zs.map((z) => Math.hypot((z[0] - s.mu[0]) / s.sigma[0], (z[1] - s.mu[1]) / s.sigma[1]));
  const inside = radii.filter((r) => r <= 2).length;
  console.log(`reparameterization: digit ${s.label}, μ = (${s.mu.map((v) => v.toFixed(2))}), σ = (${s.sigma.map((v) => v.toFixed(2))}); ${inside} of 11 samples inside 2σ`);
  assert.ok(s.sigma.every((v) => v > 0 && v < 5));
  assert.ok(inside >= 5, `only ${inside} of 11 samples inside the 2σ ellipse: radii ${radii.map((r) => r.toFixed(2))}`);
  assert.equal(s.samplesShown, 11);

  // The decoded samples and the input are drawn: dark ink on white.
  for (const role of ['samples', 'input', 'recon']) {
    const pixels = await canvasPixels(page, `#reparam [data-role="${role}"]`);
    const ink = pixels.filter((v) => (v & 255) < 128).length;
    assert.ok(ink >= MIN_PIXELS, `${role}: ${ink} dark pixels`);
  }
  const formula = await page.locator('#reparam [data-role="formula"]').textContent();
  assert.match(formula, /z = μ \+ σ ⊙ ε.*draw 11/s);
  await screenshot(page, 'lab-reparam', { fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});
