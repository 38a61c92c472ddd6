// The judge of samples: the "A judge of samples" lecture opens from its URL, the worker judges
// every kind of sample in config.JUDGE with the shipped classifier, and the table shows exactly
// the scores Rust computes for the same checkpoints, counts and seed (recomputed here by a second
// wasm Session on the page's thread). The map's tiles take the colours of the classes Rust
// returns for them, and turning the toggle off takes the colours away.
// Run from the repository root with `node --test tests/page/judge.test.mjs`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openLoadedPage, screenshot, servePage } from './harness.mjs';
import { manifest } from './lecture-helpers.mjs';
import { JUDGE, MANIFOLD, classColor } from '../../www/app/config.js';
import { formatScores } from '../../www/views/judge.js';

const env = servePage();
const judge = () => window.latentLab.judge();

/**
 * In the page, on its own thread: a fresh Session on MNIST with the shipped judge, scoring
 * every row as the table's worker was asked to, and the judged manifold of `vae-2d` over `rect`.
 */
function recompute({ rows, count, seed, judgeUrl, rect, n }) {
  return (async () => {
    const wasm = await import('./pkg/latent_lab.js');
    await wasm.default();
    const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
    const names = ['train-images-idx3', 'train-labels-idx1', 't10k-images-idx3', 't10k-labels-idx1'];
    const files = await Promise.all(names.map((name) => bytes(`data/mnist/${name}-ubyte.gz`)));
    const session = new wasm.Session();
    session.setData(...files);
    session.loadJudge(await bytes(judgeUrl));
    const scores = [];
    for (const { source, url, priorUrl } of rows) {
      const prior = priorUrl ? await bytes(priorUrl) : undefined;
      scores.push(session.judgeCheckpoint(source, await bytes(url), prior, count, BigInt(seed)).scores);
    }
    session.load(await bytes(rows.find((r) => r.checkpoint === 'vae-2d').url));
    const tiles = session.judgeManifold(rect, n);
    session.free();
    return { scores, classes: Array.from(tiles.classes), confidence: Array.from(tiles.confidence) };
  })();
}

/** `#rrggbb` as [r, g, b]. */
const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

/**
 * The map canvas's colour near the top-left corner of every tile (MNIST's corners are blank, so
 * it is the paper under the tile's tint), in the manifold's row order.
 */
function tileCorners({ rect, n }) {
  const canvas = document.getElementById('scatter');
  const ctx = canvas.getContext('2d');
  const box = canvas.getBoundingClientRect();
  const scale = canvas.width / box.width;
  const out = [];
  for (let k = 0; k < n * n; k++) {
    const [col, row] = [k % n, Math.floor(k / n)];
    // 12 % into the tile from its top-left corner: inside its blank border.
    const x = rect.x0 + ((col + 0.12) * (rect.x1 - rect.x0)) / n;
    const y = rect.y1 - ((row + 0.12) * (rect.y1 - rect.y0)) / n;
    const at = window.latentLab.planeOnScreen(x, y);
    const px = Math.round((at.x - box.left) * scale);
    const py = Math.round((at.y - box.top) * scale);
    const inside = px >= 0 && py >= 0 && px < canvas.width && py < canvas.height;
    out.push(inside ? Array.from(ctx.getImageData(px, py, 1, 1).data.slice(0, 3)) : null);
  }
  return out;
}

test('the judge lecture: every row equals Rust’s scores, and the map is coloured by the classes Rust returns', async () => {
  const started = Date.now();
  const { page, problems } = await openLoadedPage(env.browser, `${env.server.url}?lecture=judge`);
  // Progress while it computes, then every row.
  await page.waitForFunction(() => window.latentLab.judge()?.visible && window.latentLab.judge().running, null, { timeout: 60_000 });
  await page.waitForFunction(() => window.latentLab.judge().done && !window.latentLab.judge().running, null, { timeout: 300_000 });
  console.log(`table judged ${((Date.now() - started) / 1000).toFixed(1)} s after the page opened`);
  const table = await page.evaluate(judge);

  assert.equal(table.info.testAccuracy, manifest.judge.testAccuracy, 'the judge the manifest lists, at its accuracy');
  assert.match(await page.locator('#judge [data-role="about"]').textContent(), new RegExp(`${(100 * manifest.judge.testAccuracy).toFixed(2)} %`));
  assert.match(await page.locator('#judge [data-role="progress"]').textContent(), new RegExp(`^Judged ${JUDGE.rows.length} kinds of sample, 1,000 each \\(seed 0\\)\\.$`));
  assert.equal(table.replies.length, JUDGE.rows.length);
  table.replies.forEach((reply, i) => {
    const { label, source } = JUDGE.rows[i];
    assert.equal(reply.source, source, label);
    assert.equal(reply.scores.count, JUDGE.count, label);
    assert.equal(reply.scores.histogram.reduce((a, b) => a + b, 0), JUDGE.count, `${label}: every sample has a class`);
    assert.deepEqual(table.cells[i], formatScores(reply.scores), `${label}: the row shows the reply`);
    console.log(
      `${label.padEnd(40)} confidence ${reply.scores.confidence.toFixed(3)}  entropy ${reply.scores.entropyBits.toFixed(2)} bits  ` +
        `classes ${reply.scores.classesHit}  histogram ${reply.scores.histogram.join(' ')}`,
    );
  });

  // The same numbers from Rust, computed again on the page's thread from the same files.
  const source = (name) => `checkpoints/${manifest.checkpoints.find((c) => c.name === name).url}`;
  const prior = (name) => `checkpoints/${manifest.priors.find((p) => p.name === name).url}`;
  const rows = JUDGE.rows.map((r) => ({ source: r.source, checkpoint: r.checkpoint, url: source(r.checkpoint), priorUrl: r.prior ? prior(r.prior) : null }));
  await page.waitForFunction((n) => window.latentLab.manifold().n === n && window.latentLab.manifold().classes, MANIFOLD.tiles, { timeout: 60_000 });
  await page.waitForTimeout(500);
  const tiles = await page.evaluate(() => window.latentLab.manifold());
  const rust = await page.evaluate(recompute, {
    rows, count: JUDGE.count, seed: JUDGE.seed, judgeUrl: `checkpoints/${manifest.judge.url}`, rect: tiles.rect, n: tiles.n,
  });
  table.replies.forEach((reply, i) => assert.deepEqual(reply.scores, rust.scores[i], `${JUDGE.rows[i].label}: the table is Rust's answer`));

  // The map: the tiles' classes are Rust's, and each tile wears its class's colour.
  assert.deepEqual(tiles.classes, rust.classes, 'the classes of the tiles on the map');
  tiles.confidence.forEach((c, k) => assert.ok(Math.abs(c - rust.confidence[k]) < 1e-6, `tile ${k}`));
  const distinct = new Set(tiles.classes);
  assert.ok(distinct.size >= 6, `the VAE's plane shows many digits: ${[...distinct]}`);
  const corners = await page.evaluate(tileCorners, tiles);
  // The paper under a tile, tinted as views/manifold.js tints it, for each class it could have.
  const tinted = (cls, k) => rgb(classColor(cls)).map((v) => 255 + JUDGE.tint * tiles.confidence[k] * (v - 255));
  const distance = (a, b) => Math.hypot(...a.map((v, i) => v - b[i]));
  let matched = 0;
  let sampled = 0;
  corners.forEach((pixel, k) => {
    if (!pixel) return;
    sampled++;
    const own = distance(pixel, tinted(tiles.classes[k], k));
    if ([...Array(10).keys()].every((c) => own <= distance(pixel, tinted(c, k)))) matched++;
  });
  console.log(`tile corners nearest to their class's tint: ${matched} of ${sampled}; ${distinct.size} digits on the map`);
  // Scatter points drawn over some corners hide the tint; most corners must show it.
  assert.ok(sampled >= 0.9 * tiles.n ** 2 && matched >= 0.7 * sampled, `${matched} of ${sampled} corners wear their class's colour`);
  assert.equal(new URL(page.url()).searchParams.get('judge'), '1');
  await screenshot(page, 'judge-map', { selector: '.scatter-panel' });
  await page.locator('#judge').scrollIntoViewIfNeeded();
  await screenshot(page, 'judge-table', { selector: '#judge' });

  // Off: plain tiles again.
  await page.getByLabel('Colour tiles by digit').uncheck();
  await page.waitForFunction((n) => window.latentLab.manifold().n === n && window.latentLab.manifold().classes === null, MANIFOLD.tiles);
  assert.equal(new URL(page.url()).searchParams.get('judge'), null);
  assert.deepEqual(problems, []);
  await page.close();
});
