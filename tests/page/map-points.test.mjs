// What the latent map tells about its points: hovering one for its reconstruction, the σ
// ellipse of a VAE with more than two latent dimensions, and exporting the pictures and the
// codes. Run from the repository root with `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { openLoadedPage, servePage, screenshot } from './harness.mjs';
import { TRAIN_MS, trainFor, map, plotCentre, visiblePoint, onScreen } from './map-helpers.mjs';

const env = servePage();

/** A fresh page at 1280×800 (`query` appended to the URL) with the data loaded. */
const openPage = (query = '') => openLoadedPage(env.browser, `${env.server.url}${query}`, { acceptDownloads: true });

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
  // The map is the PCA plane, and its axes say so.
  assert.deepEqual((await page.evaluate(() => window.latentLab.scatter())).axisNames, ['PC1', 'PC2']);
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
