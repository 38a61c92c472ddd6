// Data-parallel training in the page: with ?workers=2 the training worker and one helper each
// take half of every batch; the status says so, the loss falls, Step still works after a
// pause (training alone again), and the Workers field changes the count and the link.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openLoadedPage, servePage } from './harness.mjs';

const env = servePage();

const report = (page) => page.evaluate(() => window.latentLab.state().lastReport);

/** Trains until `predicate(arg)` holds in the page, then pauses. */
async function trainUntil(page, predicate, arg = null) {
  await page.click('#train');
  await page.waitForFunction(predicate, arg, { timeout: 120_000, polling: 250 });
  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.state().phase === 'paused');
  // The report of the steps since the last chunk's follows the status.
  for (let last = null; ; await page.waitForTimeout(300)) {
    const step = (await report(page)).step;
    if (step === last) return;
    last = step;
  }
}

test('two workers train one model: the status shows both, the loss falls, Step and W = 1 still work', async () => {
  const { page, problems } = await openLoadedPage(env.browser, `${env.server.url}?workers=2&quick=1&hidden=128`, { timeout: 120_000 });
  assert.equal(await page.inputValue('#workers'), '2');
  await trainUntil(page, () => {
    const r = window.latentLab.state().lastReport;
    return r?.workers === 2 && r.step >= 150;
  });
  const first = await report(page);
  assert.ok(first.loss < 250, `after ${first.step} steps in two workers the training loss is ${first.loss} nats`);
  const speed = await page.textContent('[data-role="speed"]');
  assert.match(speed, /2 workers, [\d,]+ each/, speed);
  // Served without COOP/COEP: no shared memory, and the speed's tooltip says how they talk instead.
  assert.match(await page.getAttribute('[data-role="speed"]', 'title'), /as messages: the page is not cross-origin isolated/);

  // Paused: the session trains alone again, so a single Step works.
  await page.click('#step');
  await page.waitForFunction((s) => window.latentLab.state().lastReport?.step === s + 1, first.step);

  await page.fill('#workers', '1');
  await page.dispatchEvent('#workers', 'change');
  assert.match(page.url(), /workers=1/);
  const before = (await report(page)).step;
  await trainUntil(page, (s) => window.latentLab.state().lastReport?.step >= s + 50, before);
  const alone = await report(page);
  assert.equal(alone.workers, 1);
  assert.ok(alone.loss < first.loss + 20, `training alone goes on from the parallel run: ${first.loss} → ${alone.loss}`);
  console.log(`two workers: ${Math.round(first.imagesPerSec)} img/s; one: ${Math.round(alone.imagesPerSec)} img/s`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('with no workers in the link, the page takes two from four cores up and one below', async () => {
  for (const [cores, workers] of [[8, '2'], [4, '2'], [2, '1']]) {
    const page = await env.browser.newPage();
    await page.addInitScript((n) => Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => n }), cores);
    await page.goto(`${env.server.url}?quick=1&hidden=128`);
    await page.locator('#train:enabled').waitFor({ timeout: 60_000 });
    assert.equal(await page.inputValue('#workers'), workers, `${cores} cores`);
    if (workers === '2') {
      await trainUntil(page, () => (window.latentLab.state().lastReport?.step ?? 0) >= 20);
      assert.equal((await report(page)).workers, 2, `${cores} cores: the training report counts two workers`);
      assert.doesNotMatch(page.url(), /workers=/, 'the default is not written into the link');
    }
    await page.close();
  }
});
