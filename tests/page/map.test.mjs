// The latent map as a student moves it: zooming with the wheel, panning by dragging and
// returning with Reset view while the model trains; the VQ-VAE's cells for a zoomed view;
// picking points from the keyboard. Run from the repository root with `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openLoadedPage, servePage, screenshot } from './harness.mjs';
import { MANIFOLD, SCATTER } from '../../www/app/config.js';
import { TRAIN_MS, trainFor, map, width, near, plotCentre, visiblePoint, onScreen } from './map-helpers.mjs';

const env = servePage();

/** A fresh page at 1280×800 (`query` appended to the URL) with the data loaded. */
const openPage = (query = '') => openLoadedPage(env.browser, `${env.server.url}${query}`, { acceptDownloads: true });

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
  // The decoded manifold is asked for the zoomed rectangle; paused, it comes in two parts, the
  // training worker's rows and the replica's, their pixels wrapped as they arrive.
  await page.waitForFunction(
    (n) => {
      const m = window.latentLab.manifold();
      const t = window.latentLab.scatter().target;
      return m.n === n && m.parts === 2 && Math.abs(m.rect.x0 - t.x0) < 1e-6 && Math.abs(m.rect.y1 - t.y1) < 1e-6;
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
  // The map's last toggle, then the map itself.
  await page.getByLabel('Colour tiles by digit').focus();
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
