// The latent map as a student handles it: zooming with the wheel, panning by dragging and
// returning with Reset view while the model trains; hovering a point for its reconstruction;
// picking points from the keyboard; the σ ellipse of a VAE with more than two latent
// dimensions; and exporting the pictures and the codes. Run from the repository root with
// `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { ARTIFACTS, servePage } from './harness.mjs';
import { MANIFOLD, SCATTER } from '../../www/config.js';

const TRAIN_MS = 3000;
const env = servePage();

/** A fresh page at 1280×800 (`query` appended to the URL) with the data loaded. */
async function openLoadedPage(query = '') {
  const page = await env.browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console.error: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${env.server.url}${query}`);
  await page.locator('#train:enabled').waitFor({ timeout: 60_000 });
  return { page, problems };
}

/** Trains for `ms`, then pauses and waits until the paused model's map has settled. */
async function trainFor(page, ms) {
  await page.click('#train');
  await page.waitForTimeout(ms);
  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.state().phase === 'paused', null, { timeout: 60_000 });
  await page.waitForTimeout(1200);
}

async function screenshot(page, name, options = {}) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, ...options });
}

const map = (page) => page.evaluate(() => window.latentLab.scatter());
const width = (b) => b.x1 - b.x0;
/** Two rectangles agree to `share` of the first one's width. */
function near(a, b, share = 1e-3) {
  const tol = share * width(a);
  return ['x0', 'x1', 'y0', 'y1'].every((k) => Math.abs(a[k] - b[k]) <= tol);
}

/** The map's canvas box and the centre of its plot area, in viewport pixels. */
async function plotCentre(page) {
  const box = await page.locator('#scatter').boundingBox();
  // PAD in views/scatter.js: 44 left, 12 right, 12 top, 36 bottom.
  return { box, x: box.x + (44 + box.width - 12) / 2, y: box.y + (12 + box.height - 36) / 2 };
}

/** A point drawn well inside the plot, away from `avoid`, for watching it move. */
async function visiblePoint(page, avoid) {
  return page.evaluate(
    ({ ax, ay }) => {
      const { labels } = window.latentLab.scatter();
      const box = document.querySelector('#scatter').getBoundingClientRect();
      for (let i = 0; i < labels.length; i++) {
        const p = window.latentLab.pointOnScreen(i);
        const inside = p.x > box.left + 120 && p.x < box.right - 80 && p.y > box.top + 80 && p.y < box.bottom - 120;
        if (inside && Math.hypot(p.x - ax, p.y - ay) > 60) return i;
      }
      return -1;
    },
    { ax: avoid.x, ay: avoid.y },
  );
}

const onScreen = (page, i) => page.evaluate((index) => window.latentLab.pointOnScreen(index), i);

test('the wheel zooms about the cursor, a drag pans, training keeps the view and Reset view fits again', async () => {
  const { page, problems } = await openLoadedPage('?model=vae&d=2&manifold=1');
  await trainFor(page, TRAIN_MS);
  const fitted = await map(page);
  assert.equal(fitted.zoomed, false);
  assert.ok(near(fitted.bounds, fitted.fit), 'before any zoom the map shows the fitted rectangle');

  // Three wheel notches in, about the plot's centre.
  const c = await plotCentre(page);
  const watched = await visiblePoint(page, c);
  assert.ok(watched >= 0, 'a point inside the plot to watch');
  const before = await onScreen(page, watched);
  await page.mouse.move(c.x, c.y);
  for (let i = 0; i < 3; i++) await page.mouse.wheel(0, -100);
  await page.waitForFunction(() => window.latentLab.scatter().zoomed);
  await page.waitForTimeout(100);
  const zoomed = await map(page);
  const factor = width(fitted.bounds) / width(zoomed.bounds);
  console.log(`zoom: 3 notches, width ${width(fitted.bounds).toFixed(3)} → ${width(zoomed.bounds).toFixed(3)} (×${factor.toFixed(2)})`);
  assert.ok(Math.abs(factor - SCATTER.zoomStep ** 3) < 0.05, `zoomed in by ${factor}`);
  // The plane point under the cursor stays there: the watched point's offset from it grows by the factor.
  const after = await onScreen(page, watched);
  const grow = Math.hypot(after.x - c.x, after.y - c.y) / Math.hypot(before.x - c.x, before.y - c.y);
  assert.ok(Math.abs(grow - factor) < 0.05, `point ${watched} moved from ${JSON.stringify(before)} to ${JSON.stringify(after)}: ×${grow}`);
  // The decoded manifold is asked for the zoomed rectangle.
  await page.waitForFunction(
    (n) => {
      const m = window.latentLab.manifold();
      const t = window.latentLab.scatter().target;
      return m.n === n && Math.abs(m.rect.x0 - t.x0) < 1e-6 && Math.abs(m.rect.y1 - t.y1) < 1e-6;
    },
    MANIFOLD.tiles,
    { timeout: 30_000 },
  );
  await page.waitForTimeout(200);
  await screenshot(page, 'map-zoomed', { clip: c.box });

  // Drag 90 px right and 40 px down: everything moves with the hand, nothing gets picked.
  const start = await onScreen(page, watched);
  await page.mouse.move(c.x, c.y);
  await page.mouse.down();
  await page.mouse.move(c.x + 45, c.y + 20, { steps: 4 });
  await page.mouse.move(c.x + 90, c.y + 40, { steps: 4 });
  await page.mouse.up();
  await page.waitForTimeout(100);
  const panned = await map(page);
  const moved = await onScreen(page, watched);
  assert.ok(Math.abs(moved.x - start.x - 90) < 1 && Math.abs(moved.y - start.y - 40) < 1, `pan moved the point by ${moved.x - start.x}, ${moved.y - start.y}`);
  assert.ok(Math.abs(width(panned.bounds) - width(zoomed.bounds)) < 1e-9, 'a pan keeps the scale');
  assert.ok(panned.bounds.x0 < zoomed.bounds.x0 && panned.bounds.y1 > zoomed.bounds.y1, 'dragging right and down shows what was left and above');
  assert.equal(await page.evaluate(() => window.latentLab.reparam()), null, 'a drag is not a click');

  // Training moves the codes but not the view the student chose.
  const planeBefore = panned.plane;
  await page.click('#train');
  await page.waitForFunction(
    (p0) => window.latentLab.scatter().plane.some((v, i) => Math.abs(v - p0[i]) > 1e-4),
    Array.from(planeBefore),
    { timeout: 60_000 },
  );
  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.state().phase === 'paused');
  await page.waitForTimeout(600);
  const trained = await map(page);
  assert.ok(near(trained.bounds, panned.bounds, 1e-6), 'training updates keep the zoomed view');
  assert.equal(trained.zoomed, true);

  await page.getByRole('button', { name: 'Reset view' }).click();
  await page.waitForFunction(() => {
    const s = window.latentLab.scatter();
    const tol = 2e-3 * (s.fit.x1 - s.fit.x0);
    return !s.zoomed && ['x0', 'x1', 'y0', 'y1'].every((k) => Math.abs(s.bounds[k] - s.fit[k]) < tol);
  });
  const reset = await map(page);
  console.log(`reset view: width ${width(reset.bounds).toFixed(3)}, fit ${width(reset.fit).toFixed(3)}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('from the keyboard: Tab to the map, arrows step between points, Enter picks, Escape clears', async () => {
  const { page, problems } = await openLoadedPage('?model=vae&d=2');
  await trainFor(page, TRAIN_MS);
  await page.getByLabel('Decoded manifold').focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'scatter', 'Tab reaches the map');
  const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.equal(ring, 'solid', 'the focused map shows a focus ring');

  await page.keyboard.press('ArrowRight');
  const first = (await map(page)).highlight;
  assert.ok(first >= 0, 'the first arrow highlights a point');
  const labels = (await map(page)).labels;
  const status = page.locator('#map-status');
  assert.equal(await status.getAttribute('aria-live'), 'polite');
  assert.equal(await status.textContent(), `test image ${first}, digit ${labels[first]}`);

  // Each further press lands on a point to the right of the last one.
  let at = await onScreen(page, first);
  let current = first;
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('ArrowRight');
    const next = (await map(page)).highlight;
    if (next === current) break; // the rightmost point: nothing further
    const p = await onScreen(page, next);
    assert.ok(p.x > at.x, `ArrowRight went from x ${at.x} to ${p.x}`);
    assert.ok(Math.abs(p.y - at.y) <= p.x - at.x + 1e-6, 'within 45° of the arrow');
    [at, current] = [p, next];
  }
  await page.keyboard.press('ArrowDown');
  const below = (await map(page)).highlight;
  if (below !== current) assert.ok((await onScreen(page, below)).y > at.y, 'ArrowDown goes down');
  const chosen = (await map(page)).highlight;
  assert.equal(await status.textContent(), `test image ${chosen}, digit ${labels[chosen]}`);

  await page.keyboard.press('Enter');
  await page.waitForFunction((i) => window.latentLab.reparam()?.index === i, chosen);
  const hint = await page.locator('#reparam [data-role="hint"]').textContent();
  assert.match(hint, new RegExp(`Test image #${chosen} \\(class ${labels[chosen]}\\)`));

  // + zooms about the highlight, 0 fits again.
  await page.keyboard.press('+');
  await page.waitForFunction(() => window.latentLab.scatter().zoomed);
  await page.keyboard.press('0');
  await page.waitForFunction(() => !window.latentLab.scatter().zoomed);

  await page.keyboard.press('Escape');
  await page.waitForFunction(() => window.latentLab.reparam() === null);
  assert.equal((await map(page)).highlight, -1);
  assert.deepEqual(problems, []);
  await page.close();
});

/** The bytes of the download that `click` starts, and its suggested name. */
async function download(page, click) {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), click()]);
  return { name: file.suggestedFilename(), bytes: await readFile(await file.path()) };
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  assert.equal(bytes.subarray(12, 16).toString('latin1'), 'IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test('Export codes writes every test image’s μ and log σ², and Export PNG saves the map and the panels', async () => {
  const { page, problems } = await openLoadedPage('?model=vae&d=2');
  await trainFor(page, TRAIN_MS);
  const csv = await download(page, () => page.getByRole('button', { name: 'Export codes (CSV)' }).click());
  const lines = csv.bytes.toString('utf8').trimEnd().split('\n');
  const header = lines[0].split(',');
  console.log(`codes: ${csv.name}, ${lines.length - 1} rows, header ${header.join(',')}`);
  assert.deepEqual(header, ['index', 'label', 'mu_1', 'mu_2', 'logvar_1', 'logvar_2']);
  assert.equal(lines.length, 10_001, 'a header and one row per test image');
  const rows = lines.slice(1).map((line) => line.split(',').map(Number));
  assert.ok(rows.every((r) => r.length === header.length && r.every(Number.isFinite)), 'every row complete and numeric');
  assert.deepEqual(rows.slice(0, 5).map((r) => r[0]), [0, 1, 2, 3, 4]);
  // The same model and images as the map: for d = 2 the map's points are μ itself.
  const shown = await map(page);
  for (const i of [0, 1, 2, 999]) {
    assert.equal(rows[i][1], shown.labels[i], `label of test image ${i}`);
    assert.ok(Math.abs(rows[i][2] - shown.plane[2 * i]) < 1e-4 && Math.abs(rows[i][3] - shown.plane[2 * i + 1]) < 1e-4, `μ of test image ${i}`);
  }
  assert.ok(rows.some((r) => r[4] !== rows[0][4]), 'log σ² differs between images');

  const canvas = await page.locator('#scatter').evaluate((c) => ({ w: c.width, h: c.height }));
  const png = await download(page, () => page.getByRole('button', { name: 'Export PNG: the latent map' }).click());
  const size = pngSize(png.bytes);
  console.log(`map PNG: ${png.name} ${size.width}×${size.height}, canvas ${canvas.w}×${canvas.h}`);
  assert.equal(png.name, 'latent-lab-map.png');
  assert.equal(size.height, canvas.h, 'the map at device resolution');
  assert.ok(size.width > canvas.w, 'with the colour key beside it');
  const curve = await download(page, () => page.getByRole('button', { name: 'Export PNG: the loss curve' }).click());
  const curveCanvas = await page.locator('#loss-curve').evaluate((c) => ({ w: c.width, h: c.height }));
  assert.deepEqual(pngSize(curve.bytes), { width: curveCanvas.w, height: curveCanvas.h });
  assert.ok(png.bytes.length > 5000 && curve.bytes.length > 1000, 'the images hold pictures');
  assert.deepEqual(problems, []);
  await page.close();
});
