// What every page-test file needs: www/ served on a free port and one headless Chromium,
// started before the file's tests and closed after them.

import { after, before } from 'node:test';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { launchChromium } from './browser.mjs';

export const WWW = fileURLToPath(new URL('../../www/', import.meta.url));
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

/**
 * Registers the hooks; `server` and `browser` of the returned object are set once they ran.
 * `launch` starts the browser (Playwright's Chromium unless the engine suite says otherwise);
 * the other options pass to startServer (say `onRequest`).
 */
export function servePage({ launch = launchChromium, ...serverOptions } = {}) {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = await startServer(WWW, serverOptions);
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  return env;
}

/**
 * Console errors and uncaught exceptions of `page` (its workers' included), as they happen; a
 * Playwright or a Puppeteer page alike.
 */
export function collectProblems(page) {
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return problems;
}

/**
 * Opens `url` in a new page of `target` — a Browser (1280×800, plus `pageOptions`) or a
 * BrowserContext — and waits until `ready` is enabled (the data is in and a model exists).
 * `problems` collects console errors.
 */
export async function openLoadedPage(target, url, { ready = '#train:enabled', timeout = 60_000, ...pageOptions } = {}) {
  const isBrowser = typeof target.newContext === 'function';
  const page = isBrowser ? await target.newPage({ viewport: { width: 1280, height: 800 }, ...pageOptions }) : await target.newPage();
  const problems = collectProblems(page);
  await page.goto(url);
  await page.locator(ready).waitFor({ timeout });
  return { page, problems };
}

/** Grey levels (0 ink … 255 paper) of a canvas's backing pixels. */
export async function greys(page, selector) {
  return page.evaluate((sel) => {
    const canvas = document.querySelector(sel);
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    return Array.from({ length: data.length / 4 }, (_, p) => data[4 * p]);
  }, selector);
}

/**
 * Saves a screenshot of `page` as tests/artifacts/<name>.png: of the element `selector` when
 * given, else of the page (`fullPage` and other Playwright options pass through).
 * pkg-config/screenshots.sh copies the ones the README shows to tests/screenshots/.
 */
export async function screenshot(page, name, { selector = null, ...options } = {}) {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = `${ARTIFACTS}${name}.png`;
  if (selector) await page.locator(selector).screenshot({ path });
  else await page.screenshot({ path, ...options });
}
