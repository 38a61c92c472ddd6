// What the lecture and checkpoint page tests share: the shipped checkpoints' manifest,
// screenshots, training, waiting for pictures to change, and dropping a file on the page.

import { readFile } from 'node:fs/promises';
import { WWW, greys } from './harness.mjs';
export const TRAIN_MS = 3000;
// A picture counts as changed when at least this many grey levels differ.
export const MIN_PIXELS = 30;

export const manifest = JSON.parse(await readFile(`${WWW}checkpoints/manifest.json`, 'utf8'));

/** Trains for `ms`, then pauses and waits for the paused model's pictures. */
export async function trainFor(page, ms) {
  await page.click('#train');
  await page.waitForTimeout(ms);
  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.state().phase === 'paused');
  await page.waitForTimeout(500);
}

export const differing = (a, b) => a.filter((v, i) => Math.abs(v - b[i]) > 0).length;
export const GRID = '#generation [data-role="grid"]';

/** Polls a canvas until it shows `expected` exactly (or `timeout` ms pass); returns the last pixels. */
export async function waitForPixels(page, selector, expected, timeout = 20_000) {
  const until = Date.now() + timeout;
  let pixels;
  do {
    pixels = await greys(page, selector);
    if (differing(pixels, expected) === 0) return pixels;
    await page.waitForTimeout(100);
  } while (Date.now() < until);
  return pixels;
}

/** The traversal image after moving slider z1 one step right and back: the model decoding z = 0 afresh. */
export async function redecodeTraversal(page) {
  const slider = page.getByRole('slider', { name: 'z1', exact: true });
  await slider.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(() => {
    const t = window.latentLab.traversal();
    return !t.inFlight && t.shownZ !== null && t.shownZ.every((v, j) => v === t.z[j]) && t.z[0] === 0;
  });
  return page.evaluate(() => window.latentLab.traversalImage());
}

/**
 * Drops `bytes` as a file named `name` onto the page, as dragging it from a file manager does;
 * returns whether the page showed its drop hint while the file was over it.
 */
export async function dropFile(page, name, bytes) {
  return page.evaluate(
    ([fileName, base64]) => {
      const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], fileName, { type: 'application/octet-stream' }));
      const fire = (type) => document.body.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
      fire('dragenter');
      fire('dragover');
      const hinted = !document.getElementById('drop-hint').hidden;
      fire('drop');
      return hinted;
    },
    [name, Buffer.from(bytes).toString('base64')],
  );
}

export async function errorText(page) {
  await page.locator('#error').waitFor({ state: 'visible', timeout: 20_000 });
  return page.locator('#error [data-role="messages"]').textContent();
}


/**
 * In the page (pass it to `page.evaluate`): whether the service worker is active, controls the
 * page and has cached everything the page loaded (main.js tells it once it is active).
 */
export async function offlineReady() {
  const registration = await navigator.serviceWorker.getRegistration();
  if (registration?.active?.state !== 'activated' || !navigator.serviceWorker.controller) return false;
  const urls = [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)];
  for (const url of urls) if (!(await caches.match(url, { ignoreSearch: true }))) return false;
  return true;
}
