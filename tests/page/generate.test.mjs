// Generating with a trained VAE: the grid of prior samples and its Resample button, and a
// traversal slider moving z and the decoder's image with it. Run from the repository root
// with `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACTS, greys, openLoadedPage, servePage, screenshot } from './harness.mjs';
import { mkdir } from 'node:fs/promises';

const TRAIN_MS = 4000;
// A picture counts as drawn when at least this many pixels are ink, and as changed when at
// least this many differ.
const MIN_PIXELS = 30;

const env = servePage();

const ink = (pixels) => pixels.filter((v) => v < 128).length;
const differing = (a, b) => a.filter((v, i) => Math.abs(v - b[i]) > 8).length;

test('a trained VAE generates digits from the prior, and its sliders move the decoded z', async () => {
  const { page, problems } = await openLoadedPage(env.browser, `${env.server.url}?model=vae&d=2`);
  await page.waitForFunction(() => window.latentLab.generation() !== null);
  assert.equal(await page.locator('#generation [data-role="caption"]').textContent(), 'z ~ N(0, I), decoded.');

  await page.click('#train');
  await page.waitForTimeout(TRAIN_MS);
  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.state().phase === 'paused');
  await page.waitForTimeout(500);

  const grid = '#generation [data-role="grid"]';
  const first = await greys(page, grid);
  assert.equal(first.length, 36 * 784, 'a 6 × 6 grid of 28 × 28 images');
  assert.ok(ink(first) >= 36 * MIN_PIXELS, `generation grid: ${ink(first)} dark pixels`);
  const { seed } = await page.evaluate(() => window.latentLab.generation());
  await page.locator('#generation').getByRole('button', { name: 'Resample' }).click();
  await page.waitForFunction((s) => window.latentLab.generation().seed !== s, seed);
  const second = await greys(page, grid);
  console.log(`generation: ${ink(first)} → ${ink(second)} dark pixels; Resample changed ${differing(first, second)} pixels`);
  assert.ok(differing(first, second) >= 36 * MIN_PIXELS, 'Resample draws new samples');

  await page.waitForFunction(() => window.latentLab.traversal().shownZ !== null);
  assert.equal(await page.locator('#traversal input[type="range"]').count(), 2, 'one slider per latent dimension');
  const atZero = await page.evaluate(() => window.latentLab.traversalImage());
  const slider = page.getByRole('slider', { name: 'z1', exact: true });
  await slider.focus();
  for (let i = 0; i < 40; i++) await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => {
    const t = window.latentLab.traversal();
    return !t.inFlight && t.shownZ[0] === t.z[0];
  });
  const { z, shownZ } = await page.evaluate(() => window.latentLab.traversal());
  assert.ok(Math.abs(z[0] - 2) < 1e-6, `40 steps of 0.05 right: z1 = ${z[0]}`);
  assert.deepEqual(shownZ, z);
  const moved = await page.evaluate(() => window.latentLab.traversalImage());
  console.log(`traversal: z1 0 → ${z[0]} changed ${differing(atZero, moved)} of 784 pixels`);
  assert.ok(ink(moved) >= MIN_PIXELS, `decoded z: ${ink(moved)} dark pixels`);
  assert.ok(differing(atZero, moved) >= MIN_PIXELS, 'moving z1 changes the decoded image');

  await mkdir(ARTIFACTS, { recursive: true });
  await page.locator('#generation').scrollIntoViewIfNeeded();
  await screenshot(page, 'lab-generate');
  assert.deepEqual(problems, []);
  await page.close();
});
