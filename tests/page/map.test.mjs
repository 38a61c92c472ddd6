// The latent map as a student handles it: zooming with the wheel, panning by dragging and
// returning with Reset view while the model trains; hovering a point for its reconstruction;
// picking points from the keyboard; the σ ellipse of a VAE with more than two latent
// dimensions; and exporting the pictures and the codes. Run from the repository root with
// `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { ARTIFACTS, openLoadedPage, servePage } from './harness.mjs';
import { MANIFOLD, SCATTER } from '../../www/app/config.js';

const TRAIN_MS = 3000;
const env = servePage();

/** A fresh page at 1280×800 (`query` appended to the URL) with the data loaded. */
const openPage = (query = '') => openLoadedPage(env.browser, `${env.server.url}${query}`, { acceptDownloads: true });

/** Trains for `ms`, then pauses and waits until the paused model's map has settled. */
async function trainFor(page, ms) {
  await page.click('#train');
  await page.waitForTimeout(ms);
  // The worker posts "paused" and then the paused model's points, which can take a while on
  // a busy machine. The status text changes when the page handles "paused", so an observer
  // notes how many point sets had arrived by then; the next one is the paused model's.
  await page.evaluate(() => {
    window.pointsAtPause = null;
    const status = document.querySelector('#progress [data-role="status"]');
    const observer = new MutationObserver(() => {
      if (window.latentLab.state().phase !== 'paused') return;
      window.pointsAtPause = window.latentLab.scatter().updates;
      observer.disconnect();
    });
    observer.observe(status, { childList: true, characterData: true, subtree: true });
  });
  await page.click('#train');
  await page.waitForFunction(
    () => window.pointsAtPause !== null && window.latentLab.scatter().updates > window.pointsAtPause,
    null,
    { timeout: 60_000 },
  );
  // Then the view eases onto them.
  await page.waitForFunction(() => {
    const s = window.latentLab.scatter();
    return ['x0', 'x1', 'y0', 'y1'].every((k) => s.bounds[k] === s.fit[k]);
  });
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
  const { page, problems } = await openPage('?model=vae&d=2&manifold=1');
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
  // The pointer leaves, so the picture shows the zoomed map alone.
  await page.mouse.move(5, 5);
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

test('the VQ-VAE’s Voronoi cells are drawn again for the zoomed rectangle', async () => {
  const { page, problems } = await openPage('?model=vqvae&K=16&D=2');
  await trainFor(page, TRAIN_MS);
  const c = await plotCentre(page);
  await page.mouse.move(c.x, c.y);
  for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -100);
  await page.mouse.move(c.x + 60, c.y + 30, { steps: 3 });
  await page.mouse.down();
  await page.mouse.move(c.x, c.y, { steps: 3 });
  await page.mouse.up();
  await page.waitForTimeout(200);
  const shown = await map(page);
  const cells = await page.evaluate(() => window.latentLab.codebook());
  console.log(`VQ zoom: ${cells.cells} cells drawn over width ${width(cells.bounds).toFixed(3)} (fit ${width(shown.fit).toFixed(3)})`);
  assert.ok(shown.zoomed && width(shown.bounds) < width(shown.fit) / 2);
  assert.ok(near(cells.bounds, shown.bounds, 1e-9), 'the cells were drawn with the zoomed and panned rectangle');
  assert.equal(cells.cells, 16, 'every code keeps its cell');
  assert.deepEqual(problems, []);
  await page.close();
});

test('from the keyboard: Tab to the map, arrows step between points, Enter picks, Escape clears', async () => {
  const { page, problems } = await openPage('?model=vae&d=2');
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

  // Each further press lands on a point to the right of the last one (compared after the
  // press: the map pans when the next point is out of view).
  let current = first;
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('ArrowRight');
    const next = (await map(page)).highlight;
    if (next === current) break; // the rightmost point: nothing further
    const [from, to] = [await onScreen(page, current), await onScreen(page, next)];
    assert.ok(to.x > from.x, `ArrowRight went from x ${from.x} to ${to.x}`);
    assert.ok(Math.abs(to.y - from.y) <= to.x - from.x + 1e-6, 'within 45° of the arrow');
    current = next;
  }
  await page.keyboard.press('ArrowDown');
  const below = (await map(page)).highlight;
  if (below !== current) assert.ok((await onScreen(page, below)).y > (await onScreen(page, current)).y, 'ArrowDown goes down');
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
  const { page, problems } = await openPage('?model=vae&d=2');
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
  // The panel's charts stacked into one picture.
  const charts = pngSize(curve.bytes);
  assert.ok(charts.width >= 200 && charts.height >= 150, `loss charts PNG ${charts.width}×${charts.height}`);
  assert.ok(png.bytes.length > 5000 && curve.bytes.length > 1000, 'the images hold pictures');
  assert.deepEqual(problems, []);
  await page.close();
});

/** Whether canvas pixels near viewport point (x, y) are dark: the black of the reparameterization marks. */
async function darkNear(page, points, radius = 2) {
  return page.evaluate(
    ({ points, radius }) => {
      const canvas = document.querySelector('#scatter');
      const box = canvas.getBoundingClientRect();
      const dpr = canvas.width / canvas.clientWidth;
      const ctx = canvas.getContext('2d');
      return points.map(({ x, y }) => {
        const r = Math.ceil(radius * dpr);
        const cx = Math.round((x - box.left) * dpr);
        const cy = Math.round((y - box.top) * dpr);
        const { data } = ctx.getImageData(cx - r, cy - r, 2 * r + 1, 2 * r + 1);
        for (let p = 0; p < data.length; p += 4) if (data[p] < 70 && data[p + 1] < 70 && data[p + 2] < 70) return true;
        return false;
      });
    },
    { points, radius },
  );
}

test('hovering a point shows its image, the model’s reconstruction and its class beside the pointer', async () => {
  const { page, problems } = await openPage('?model=vae&d=2');
  await trainFor(page, TRAIN_MS);
  const c = await plotCentre(page);
  const i = await visiblePoint(page, c);
  // Sweep across the map first: only the point where the pointer rests ends up on the card.
  await page.mouse.move(c.box.x + 60, c.box.y + 30);
  await page.mouse.move(c.box.x + c.box.width - 30, c.box.y + c.box.height - 50, { steps: 40 });
  const p = await onScreen(page, i);
  await page.mouse.move(p.x, p.y, { steps: 5 });
  const hovered = (await map(page)).hovered;
  assert.ok(hovered >= 0, 'the pointer rests on a point');
  await page.waitForFunction((h) => window.latentLab.hover()?.index === h, hovered);
  const card = await page.evaluate(() => window.latentLab.hover());
  const labels = (await map(page)).labels;
  assert.equal(card.label, labels[hovered], 'the card names the point’s class');
  assert.equal(card.title, `Test image ${hovered} · digit ${labels[hovered]}`);
  assert.equal(card.recon.length, 784);
  const [lo, hi] = [Math.min(...card.recon), Math.max(...card.recon)];
  console.log(`hover: test image ${hovered} (digit ${card.label}), reconstruction in [${lo.toFixed(3)}, ${hi.toFixed(3)}]`);
  assert.ok(hi - lo > 0.3, 'the reconstruction has ink and paper');
  // The card sits next to the pointer and shows both images.
  const where = await page.locator('#hover-card').boundingBox();
  assert.ok(Math.abs(where.x - p.x) < 250 && Math.abs(where.y - p.y) < 250, `card at ${where.x}, ${where.y}; pointer at ${p.x}, ${p.y}`);
  for (const role of ['input', 'recon']) {
    const ink = await page.locator(`#hover-card [data-role="${role}"]`).evaluate((canvas) => {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let q = 0; q < data.length; q += 4) n += data[q] < 200 ? 1 : 0;
      return n;
    });
    // Early reconstructions are faint grey: count anything clearly off the white paper.
    assert.ok(ink >= 30, `${role}: ${ink} inked pixels`);
  }
  const box = await page.locator('.scatter-panel').boundingBox();
  await screenshot(page, 'map-hover', { clip: box });
  await page.mouse.move(5, 5);
  await page.waitForFunction(() => window.latentLab.hover() === null);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a VAE with d = 4 draws the projected σ ellipse and the projected ε samples of a picked digit', async () => {
  const { page, problems } = await openPage('?model=vae&d=4');
  assert.equal((await page.evaluate(() => window.latentLab.state().settings)).model.latentDim, 4);
  await trainFor(page, TRAIN_MS);
  const c = await plotCentre(page);
  const i = await visiblePoint(page, c);
  const p = await onScreen(page, i);
  await page.mouse.click(p.x, p.y);
  await page.waitForFunction(() => window.latentLab.reparam() !== null);
  await page.getByRole('button', { name: 'Draw ε' }).click();
  await page.getByRole('button', { name: 'Draw 10' }).click();
  await page.waitForFunction(() => window.latentLab.reparam().zs.length === 11);
  // The buttons scrolled the page: bring the map back, with pointer and focus off it so that
  // only the selection's marks are black there.
  await page.locator('#scatter').scrollIntoViewIfNeeded();
  await page.mouse.move(5, 5);
  await page.evaluate(() => document.activeElement.blur());
  await page.waitForTimeout(200);
  const s = await page.evaluate(() => window.latentLab.reparam());
  assert.equal(s.mu.length, 4);
  assert.equal(s.zsPlane.length, 22, 'every z has a place on the map');
  // Projection: each z lands at μ's place plus A (z − μ).
  for (let k = 0; k < 11; k++) {
    for (const row of [0, 1]) {
      const expected = s.muPlane[row] + s.zs[k].reduce((sum, z, j) => sum + s.axes[row * 4 + j] * (z - s.mu[j]), 0);
      assert.ok(Math.abs(s.zsPlane[2 * k + row] - expected) < 1e-3, `z ${k} row ${row}: ${s.zsPlane[2 * k + row]} vs ${expected}`);
    }
  }
  const { r1, r2, angle, cov } = s.ellipse;
  assert.ok(r1 >= r2 && r2 > 0, `semi-axes ${r1}, ${r2}`);
  // Projected draws are N(Aμ, C): inside the 2σ ellipse for 86 % of them.
  const det = cov[0] * cov[2] - cov[1] * cov[1];
  const radii = s.zs.map((_, k) => {
    const dx = s.zsPlane[2 * k] - s.muPlane[0];
    const dy = s.zsPlane[2 * k + 1] - s.muPlane[1];
    return Math.sqrt((cov[2] * dx * dx - 2 * cov[1] * dx * dy + cov[0] * dy * dy) / det);
  });
  const inside = radii.filter((r) => r <= 2).length;
  console.log(`d = 4: ellipse semi-axes ${r1.toFixed(3)}, ${r2.toFixed(3)} at ${((angle * 180) / Math.PI).toFixed(0)}°; ${inside} of 11 projected samples inside 2σ`);
  assert.ok(inside >= 5, `only ${inside} of 11 inside: ${radii.map((r) => r.toFixed(2))}`);

  // The 1σ ellipse is drawn: dark pixels all along it, and at every projected sample.
  const along = await page.evaluate(
    ({ mu, r1, r2, angle }) =>
      Array.from({ length: 24 }, (_, k) => {
        const a = (2 * Math.PI * k) / 24;
        const [u, v] = [r1 * Math.cos(a), r2 * Math.sin(a)];
        return window.latentLab.planeOnScreen(mu[0] + u * Math.cos(angle) - v * Math.sin(angle), mu[1] + u * Math.sin(angle) + v * Math.cos(angle));
      }),
    { mu: s.muPlane, r1, r2, angle },
  );
  const plot = await page.locator('#scatter').boundingBox();
  const inView = along.filter((q) => q.x > plot.x + 46 && q.x < plot.x + plot.width - 14 && q.y > plot.y + 14 && q.y < plot.y + plot.height - 38);
  const onCurve = (await darkNear(page, inView)).filter(Boolean).length;
  assert.ok(inView.length >= 12 && onCurve >= 0.8 * inView.length, `${onCurve} of ${inView.length} points on the 1σ ellipse are dark`);
  const marks = await page.evaluate((zp) => Array.from({ length: zp.length / 2 }, (_, k) => window.latentLab.planeOnScreen(zp[2 * k], zp[2 * k + 1])), s.zsPlane);
  const marked = (await darkNear(page, marks.filter((q) => q.x > plot.x + 46 && q.y > plot.y + 14 && q.x < plot.x + plot.width - 14 && q.y < plot.y + plot.height - 38))).filter(Boolean).length;
  assert.ok(marked >= 5, `${marked} sample marks drawn`);
  assert.match(await page.locator('#reparam [data-role="hint"]').textContent(), /projected/);
  await screenshot(page, 'map-reparam-d4', { clip: plot });
  assert.deepEqual(problems, []);
  await page.close();
});
