// Offline, in each engine: after the first visit the service worker holds the page, the wasm,
// the data and the checkpoints, so with the server stopped a reload trains and opens a preset's
// checkpoint. The worker keeps only this origin's successful answers.
// Run from the repository root: `node --test tests/page/engines/` (ENGINE=chromium for Chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINE, WWW, launchBrowser, openLoadedPage, screenshot, sleep, state, trainFor, waitUntil } from './harness.mjs';
import { startServer } from '../server.mjs';
import { offlineReady } from '../lecture-helpers.mjs';

test(`${ENGINE}: after the first visit the page reloads, trains and opens a checkpoint with the server stopped`, async () => {
  const server = await startServer(WWW);
  const browser = await launchBrowser();
  try {
    const { page, problems } = await openLoadedPage(browser, server.url);
    for (let tries = 0; !(await page.evaluate(offlineReady)); tries++) {
      assert.ok(tries < 240, 'the service worker is active and has cached the page within 60 s');
      await sleep(250);
    }
    // A missing file answers 404 through the worker, and the worker does not keep the answer.
    const missing = await page.evaluate(async () => {
      const { status } = await fetch('no-such-file.json');
      return { status, cached: Boolean(await caches.match('no-such-file.json', { ignoreSearch: true })) };
    });
    assert.deepEqual(missing, { status: 404, cached: false });
    await server.close();

    await page.reload();
    await page.waitForSelector('#train:enabled', { timeout: 60_000 });
    await trainFor(page, 1500);
    const { step } = await state(page);
    console.log(`${ENGINE}: offline reload trained ${step} steps`);
    assert.ok(step > 0, 'the reloaded page trains offline');
    assert.ok((await page.evaluate(() => window.latentLab.scatter().plane.length)) > 0, 'the map draws');

    // A checkpoint never loaded before comes from the cache too (precached at install).
    await page.goto(`${server.url}?checkpoint=vq-k128-ema-restart`);
    await waitUntil(page, () => window.latentLab.state().loaded?.name === 'vq-k128-ema-restart', null, 60_000);
    await screenshot(page, 'engine-offline');
    // The 404 asked for above is the only error the console may show.
    assert.deepEqual(
      problems.filter((p) => !p.includes('no-such-file.json') && !/\b404\b/.test(p)),
      [],
    );
  } finally {
    await browser.close();
  }
});
