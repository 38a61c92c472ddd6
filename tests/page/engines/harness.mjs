// The engine suite: page tests written once against puppeteer-core, which drives Firefox ESR
// over WebDriver BiDi (the default) and Chromium over CDP (ENGINE=chromium). Each file gets
// www/ served on a free port and one headless browser, started before its tests and closed
// after them.
//
// Why a suite of its own rather than the Playwright suite in Firefox: Playwright drives only
// its own patched Firefox build, which cannot be downloaded here, and the Playwright tests use
// far more of its API (locators, roles, downloads, CDP) than a thin adapter could honestly
// reproduce. These tests cover what must work in every engine; the rest stays in ../.

import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { ARTIFACTS, WWW, collectProblems, servePage as serveWith } from '../harness.mjs';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../browser.mjs';
import { IDX_FILES } from '../../../www/app/config.js';

// puppeteer-core lives in pkg-config/node_modules; see ../browser.mjs.
const require = createRequire(new URL('../../../pkg-config/package.json', import.meta.url));
const puppeteer = require('puppeteer-core');

export { WWW };
export const ENGINE = process.env.ENGINE ?? 'firefox';
if (!['firefox', 'chromium'].includes(ENGINE)) throw new Error(`ENGINE=${ENGINE}: expected firefox or chromium`);
// Debian's Firefox ESR, as installed by pkg-config/test-setup.sh.
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const VIEWPORT = { width: 1280, height: 800 };

/**
 * Launches the headless browser of `ENGINE`. `relaxedSimd: false` turns relaxed SIMD off, as in
 * a browser without it (Firefox only: Chromium has no switch for it any more).
 */
export function launchBrowser({ relaxedSimd = true } = {}) {
  if (ENGINE === 'chromium') {
    // Chromium's autofill asks a Google server about every form it sees; that is the browser,
    // not the page, and the privacy test would count it (Puppeteer merges this flag with its own).
    const args = [...CHROMIUM_ARGS, '--disable-features=AutofillServerCommunication'];
    return puppeteer.launch({ browser: 'chrome', executablePath: CHROMIUM_PATH, headless: true, args });
  }
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    protocol: 'webDriverBiDi',
    headless: true,
    // Firefox sends requests to 127.0.0.1 past any proxy unless told otherwise; the privacy
    // test's recording proxy must see them.
    extraPrefsFirefox: { 'network.proxy.allow_hijacking_localhost': true, 'javascript.options.wasm_relaxed_simd': relaxedSimd },
  });
}

/** The shared harness's hooks, with this suite's browser; `serverOptions` pass to startServer. */
export const servePage = (serverOptions = {}) => serveWith({ launch: launchBrowser, ...serverOptions });

/**
 * A new page of `target` (the browser, or a browser context of its own) at 1280×800, opened at
 * `url`, once `ready` matches (the data is in and a model exists). `problems` collects console
 * errors; `beforeOpen(page)` runs before the first navigation (to attach listeners).
 */
export async function openLoadedPage(target, url, { ready = '#train:enabled', timeout = 60_000, beforeOpen = null } = {}) {
  const page = await target.newPage();
  await page.setViewport(VIEWPORT);
  const problems = collectProblems(page);
  await beforeOpen?.(page);
  await page.goto(url);
  await page.waitForSelector(ready, { timeout });
  return { page, problems };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const state = (page) => page.evaluate(() => window.latentLab.state());
export const text = (page, selector) => page.$eval(selector, (el) => el.textContent);
export const isVisible = (page, selector) => page.$eval(selector, (el) => el.checkVisibility());

/** Waits until `fn(arg)` is truthy in the page; Puppeteer's order of arguments, in one place. */
export function waitUntil(page, fn, arg = null, timeout = 30_000) {
  return page.waitForFunction(fn, { timeout, polling: 100 }, arg);
}

/** Presses Train (or Pause) and waits until the page is in `phase`. */
export async function toggleTraining(page, phase) {
  await page.click('#train');
  await waitUntil(page, (want) => window.latentLab.state().phase === want, phase);
}

/** Trains for `ms`, then pauses and waits for the paused model's pictures. */
export async function trainFor(page, ms) {
  await toggleTraining(page, 'training');
  await sleep(ms);
  await toggleTraining(page, 'paused');
  await sleep(500);
}

/** Saves tests/artifacts/<name>-<engine>.png. */
export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}-${ENGINE}.png` });
}

/** The bytes of `name` once the browser has finished downloading it into `dir` (20 s at most). */
export async function downloaded(dir, name) {
  for (let tries = 0; tries < 100; tries++) {
    // Browsers write to a temporary name and rename the file when it is complete.
    if ((await readdir(dir)).includes(name)) return readFile(join(dir, name));
    await sleep(200);
  }
  throw new Error(`${name} was not downloaded within 20 s; ${dir} holds ${await readdir(dir)}`);
}

/** Writes Fashion-MNIST's four files into `dir` under names that say nothing; returns their paths. */
export async function anonymousFashionFiles(dir) {
  const paths = [];
  for (const [i, name] of IDX_FILES.entries()) {
    const path = join(dir, `file-${'dcba'[i]}.gz`);
    await writeFile(path, await readFile(`${WWW}data/fashion/${name}`));
    paths.push(path);
  }
  return paths;
}
