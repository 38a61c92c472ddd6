// A student's own digits: drawing a digit on the pad puts its code on the map as a star and
// shows the model's reconstruction, following the model as it trains. (Uploaded IDX files:
// uploads.test.mjs.)
// Run from the repository root with `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openLoadedPage, servePage, screenshot } from './harness.mjs';
import { DRAWPAD } from '../../www/app/config.js';

// A picture counts as drawn when at least this many pixels show it.
const MIN_PIXELS = 30;
const TRAINING_TIMEOUT = 90_000;

const env = servePage();

/** A fresh page at 1280×800 with the data loaded; `problems` collects console errors (its workers' too). */
const openPage = () => openLoadedPage(env.browser, env.server.url);

/** Pixels of a canvas with exactly colour `hex`, and pixels darker than mid-grey. */
async function canvasCounts(page, selector, hex) {
  return page.evaluate(
    ([sel, colour]) => {
      const canvas = document.querySelector(sel);
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      const want = parseInt(colour.slice(1), 16);
      let exact = 0;
      let dark = 0;
      for (let p = 0; p < data.length; p += 4) {
        if (((data[p] << 16) | (data[p + 1] << 8) | data[p + 2]) === want) exact++;
        if (data[p] < 128) dark++;
      }
      return { exact, dark };
    },
    [selector, hex],
  );
}

/** Draws a "7" on the pad with the mouse: one stroke across and down. */
async function drawSeven(page) {
  const pad = page.locator('#drawpad [data-role="pad"]');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  const at = (fx, fy) => [box.x + fx * box.width, box.y + fy * box.height];
  await page.mouse.move(...at(0.25, 0.22));
  await page.mouse.down();
  await page.mouse.move(...at(0.72, 0.22), { steps: 12 });
  await page.mouse.move(...at(0.45, 0.85), { steps: 15 });
  await page.mouse.up();
}

/** Bounding box and centre of mass of a 28 × 28 image (values in [0, 1]). */
function geometry(pixels) {
  let [x0, x1, y0, y1, mass, mx, my] = [28, -1, 28, -1, 0, 0, 0];
  pixels.forEach((v, p) => {
    if (v <= 0) return;
    const x = p % 28;
    const y = Math.floor(p / 28);
    [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
    mass += v;
    mx += v * (x + 0.5);
    my += v * (y + 0.5);
  });
  return { width: x1 - x0 + 1, height: y1 - y0 + 1, cx: mx / mass, cy: my / mass };
}

test('a digit drawn with the mouse gets a star on the map and a reconstruction, and follows training', async () => {
  const { page, problems } = await openPage();
  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.state().step >= 30, null, { timeout: TRAINING_TIMEOUT });
  assert.equal((await canvasCounts(page, '#scatter', DRAWPAD.markerFill)).exact, 0, 'no star before drawing');

  await drawSeven(page);
  await page.waitForFunction(() => window.latentLab.drawing().plane !== null);
  const first = await page.evaluate(() => window.latentLab.drawing());
  assert.equal(first.strokes, 1);
  assert.ok(first.plane.every(Number.isFinite), `position on the map: ${first.plane}`);
  // MNIST's preprocessing: the ink fills a 20-pixel box on its longer side, and its centre of
  // mass sits at the middle of the 28 × 28 frame (to the nearest whole pixel).
  const g = geometry(first.input);
  console.log(`drawn 7: ${g.width}×${g.height} px box, centre of mass (${g.cx.toFixed(2)}, ${g.cy.toFixed(2)}), code ${first.plane.map((v) => v.toFixed(2))}`);
  assert.ok(Math.max(g.width, g.height) >= 20 && Math.max(g.width, g.height) <= 21, `ink box ${g.width}×${g.height}`);
  assert.ok(Math.abs(g.cx - 14) <= 0.5 && Math.abs(g.cy - 14) <= 0.5, `centre of mass (${g.cx}, ${g.cy})`);
  assert.ok(first.input.every((v) => v >= 0 && v <= 1));
  assert.equal(first.recon.length, 784);

  // The star is on the map, and the preprocessed input and the reconstruction are drawn.
  // The map redraws on its next frame, which a busy machine delays: poll for up to 10 s.
  let star = await canvasCounts(page, '#scatter', DRAWPAD.markerFill);
  for (let waited = 0; star.exact < MIN_PIXELS && waited < 10_000; waited += 250) {
    await page.waitForTimeout(250);
    star = await canvasCounts(page, '#scatter', DRAWPAD.markerFill);
  }
  assert.ok(star.exact >= MIN_PIXELS, `star: ${star.exact} pixels of ${DRAWPAD.markerFill}`);
  const { dark } = await canvasCounts(page, '#drawpad [data-role="input"]', '#000000');
  assert.ok(dark >= MIN_PIXELS, `input: ${dark} dark pixels`);
  // The reconstruction shown is Rust's, pixel for pixel (ink dark on white). How much ink it
  // has depends on how far training got, so its darkness is no test of the view.
  const shown = await page.evaluate(() => {
    const canvas = document.querySelector('#drawpad [data-role="recon"]');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    return { greys: Array.from({ length: data.length / 4 }, (_, p) => data[4 * p]), recon: window.latentLab.drawing().recon };
  });
  assert.equal(shown.greys.length, 784, 'the reconstruction is one 28 × 28 image');
  const worst = Math.max(...shown.recon.map((v, p) => Math.abs(shown.greys[p] - Math.round(255 * (1 - Math.min(1, Math.max(0, v)))))));
  assert.ok(worst <= 1, `recon: the canvas differs from Rust's reconstruction by up to ${worst} grey levels`);
  assert.match(await page.locator('#drawpad [data-role="code"]').textContent(), /μ = \(-?\d+\.\d\d, -?\d+\.\d\d\)/);

  // Training goes on, and the worker re-encodes the drawing with the new weights.
  const { step } = await page.evaluate(() => window.latentLab.state());
  await page.waitForFunction(
    ([from, plane]) => {
      const d = window.latentLab.drawing();
      return window.latentLab.state().step > from + 50 && (d.plane[0] !== plane[0] || d.plane[1] !== plane[1]);
    },
    [step, first.plane],
    { timeout: TRAINING_TIMEOUT },
  );
  const later = await page.evaluate(() => window.latentLab.drawing());
  console.log(`code while training: (${first.plane.map((v) => v.toFixed(2))}) → (${later.plane.map((v) => v.toFixed(2))})`);
  await page.click('#train');
  await page.locator('#train', { hasText: 'Train' }).waitFor();
  await page.waitForTimeout(1000);
  await screenshot(page, 'draw-digit');

  await page.getByRole('button', { name: 'Clear' }).click();
  await page.waitForTimeout(300);
  assert.equal((await page.evaluate(() => window.latentLab.drawing())).plane, null);
  assert.equal((await canvasCounts(page, '#scatter', DRAWPAD.markerFill)).exact, 0, 'Clear removes the star');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a finger draws on the pad too, without scrolling the page', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, hasTouch: true });
  const { page, problems } = await openLoadedPage(context, env.server.url);
  // Panels above the pad grow as training pictures arrive; without scroll anchoring that moves
  // content, not scrollY, so scrollY changes only if the stroke itself scrolled the page.
  await page.evaluate(() => {
    document.documentElement.style.overflowAnchor = 'none';
  });
  const pad = page.locator('#drawpad [data-role="pad"]');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  const scrolled = await page.evaluate(() => window.scrollY);
  // Raw touch input, as a touch screen sends it; the browser turns it into pointer events.
  const cdp = await context.newCDPSession(page);
  const point = (fy) => ({ x: box.x + box.width / 2, y: box.y + fy * box.height });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point(0.15)] });
  for (let i = 1; i <= 10; i++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [point(0.15 + 0.07 * i)] });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await page.waitForFunction(() => window.latentLab.drawing().recon !== null);
  const drawn = await page.evaluate(() => window.latentLab.drawing());
  const g = geometry(drawn.input);
  console.log(`drawn 1 by touch: ${g.width}×${g.height} px box`);
  assert.equal(drawn.strokes, 1);
  assert.equal(g.height, 20, 'a vertical stroke fills the box top to bottom');
  assert.ok(g.width < 10, `a vertical stroke stays narrow: ${g.width} px`);
  assert.equal(await page.evaluate(() => window.scrollY), scrolled, 'the stroke does not scroll the page');
  assert.deepEqual(problems, []);
  await context.close();
});
