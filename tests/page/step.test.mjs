// Step mode: the Step button runs one optimizer step and the step panel shows its batch, its
// ε draws (VAE), its loss terms, and for a VQ-VAE the codes it picked and moved.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { ARTIFACTS, openLoadedPage, servePage, screenshot } from './harness.mjs';

const env = servePage();

// A Step needs a model on loaded data: the Step button is enabled then.
const openReady = (query) => openLoadedPage(env.browser, `${env.server.url}${query}`, { ready: '#step:enabled', timeout: 120_000 });

/** Dark pixels of a canvas (ink on white paper). */
const ink = (page, selector) =>
  page.evaluate((sel) => {
    const c = document.querySelector(sel);
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) n += data[i] < 128 ? 1 : 0;
    return n;
  }, selector);

test('Step on a VAE shows its batch, its ε draws and its loss terms', async () => {
  const { page, problems } = await openReady('?model=vae&d=3');
  assert.ok(await page.locator('#step-mode').isHidden(), 'the panel waits for the first step');
  await page.click('#step');
  await page.waitForFunction(() => window.latentLab.step()?.step === 1);
  await page.click('#step');
  // The step panel's message comes first, then the report for the metrics.
  await page.waitForFunction(() => window.latentLab.step()?.step === 2 && window.latentLab.state().lastReport?.step === 2);
  const shown = await page.evaluate(() => window.latentLab.step());
  assert.equal(shown.images, 16);
  assert.ok((await ink(page, '#step-mode [data-role="batch"]')) > 16 * 40, 'sixteen digits drawn');
  const eps = await page.$$eval('#step-mode table[data-role="epsilon"] tbody tr', (rows) =>
    rows.map((r) => [...r.querySelectorAll('td')].map((td) => Number(td.textContent))),
  );
  assert.equal(eps.length, 4);
  assert.ok(eps.every((row) => row.length === 3 && row.every(Number.isFinite)), `3 ε numbers per row: ${eps}`);
  assert.ok(eps.flat().some((e) => e !== 0), 'ε is drawn, not zero');
  // The panel's loss is the step's report, the same number the metrics table got.
  const { lastReport } = await page.evaluate(() => window.latentLab.state());
  assert.equal(lastReport.step, 2);
  const terms = await page.locator('#step-mode [data-role="terms"]').textContent();
  assert.ok(terms.includes(lastReport.loss.toFixed(2)), `${terms} shows loss ${lastReport.loss}`);
  assert.ok(terms.includes(lastReport.kl.toFixed(2)));
  await mkdir(ARTIFACTS, { recursive: true });
  await screenshot(page, 'lab-step-vae', { selector: '#step-mode' });
  assert.deepEqual(problems, []);
  await page.close();
});

test('Step on a VQ-VAE shows which codes the batch picked and arrows for the codes that moved', async () => {
  const { page, problems } = await openReady('?model=vqvae&K=16&D=2&update=ema');
  await page.waitForFunction(() => window.latentLab.codebook()?.cells > 0);
  await page.click('#step');
  await page.waitForFunction(() => window.latentLab.step()?.step === 1);
  const { codesMoved } = await page.evaluate(() => window.latentLab.step());
  const text = await page.locator('#step-mode [data-role="codes"]').textContent();
  const [, picked, of] = text.match(/picked (\d+) of (\d+) codes/).map(Number);
  assert.equal(of, 16);
  assert.ok(picked >= 1 && picked <= 16, text);
  // The EMA update moves every code the batch picked towards its assignments.
  assert.ok(codesMoved >= picked, `${codesMoved} codes moved, ${picked} picked: ${text}`);
  assert.ok(await page.locator('#step-mode table[data-role="epsilon"]').isHidden(), 'no ε in a VQ-VAE');
  await screenshot(page, 'lab-step-vq-map', { selector: '.scatter-panel' });

  // Snap lines: every encoder output on the map joined to its nearest code.
  await page.getByLabel("Show each z_e's snap to its nearest code").check();
  await page.waitForFunction(() => window.latentLab.codebook()?.snapLines > 0);
  const { snap, snapLines } = await page.evaluate(() => window.latentLab.codebook());
  const { points, codebook, nearest } = snap;
  assert.equal(snapLines, points.length / 2, 'one line per point');
  assert.ok(points.length / 2 >= 1000, `${points.length / 2} points on the map`);
  for (let i = 0; i < points.length / 2; i += 7) {
    const d = (j) => (points[2 * i] - codebook[2 * j]) ** 2 + (points[2 * i + 1] - codebook[2 * j + 1]) ** 2;
    const best = Math.min(...Array.from({ length: 16 }, (_, j) => d(j)));
    assert.equal(d(nearest[i]), best, `point ${i} snaps to its nearest code`);
  }
  assert.ok(new Set(nearest).size > 1, 'the points snap to several codes');
  await screenshot(page, 'lab-vq-snap', { selector: '.scatter-panel' });
  assert.deepEqual(problems, []);
  await page.close();
});
