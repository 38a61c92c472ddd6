// The page cross-origin isolated, as `pkg-config/serve.sh` serves it (COOP/COEP): nothing it
// loads is blocked, it trains with two workers, and after the first visit it reloads offline
// still isolated, because the service worker's cached answers keep their headers. The other
// page tests serve it without the headers, so both kinds of page stay tested.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WWW, openLoadedPage } from './harness.mjs';
import { launchChromium } from './browser.mjs';
import { startServer } from './server.mjs';
import { offlineReady, trainFor } from './lecture-helpers.mjs';

test('served with COOP/COEP the page is isolated, trains in two workers, and stays isolated offline', async () => {
  const server = await startServer(WWW, { isolated: true });
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const { page, problems } = await openLoadedPage(context, `${server.url}?workers=2&quick=1&hidden=128`, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'isolated over the network');
    await trainFor(page, 1500);
    const online = await page.evaluate(() => window.latentLab.state().lastReport);
    assert.equal(online?.workers, 2, 'the helper worker started under require-corp');
    assert.ok(online.step > 0);

    for (let tries = 0; !(await page.evaluate(offlineReady)); tries++) {
      assert.ok(tries < 240, 'the service worker is active and has cached the page within 60 s');
      await page.waitForTimeout(250);
    }
    await server.close();
    await context.setOffline(true);
    await page.reload();
    await page.locator('#train:enabled').waitFor({ timeout: 60_000 });
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'isolated when the service worker answers');
    await trainFor(page, 1500);
    const offline = await page.evaluate(() => window.latentLab.state().lastReport);
    console.log(`offline, isolated: trained ${offline?.step} steps in ${offline?.workers} workers`);
    assert.ok(offline?.step > 0, 'the reloaded page trains offline');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
