// Lecture mode: every preset opens its model, views and caption, and the presenter toggles.
// Run from the repository root with `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { greys, openLoadedPage, servePage, screenshot } from './harness.mjs';
import { LECTURES } from '../../www/app/lectures.js';
import { manifest } from './lecture-helpers.mjs';

const env = servePage();

/** A page at 1280×800 in `context` (a new one by default); `problems` collects console errors. */
const openPage = (url, context = null) => openLoadedPage(context ?? env.browser, url);

async function inkPerTile(page, selector, count) {
  const pixels = await greys(page, selector);
  const width = 28 * count;
  assert.equal(pixels.length, width * 28, `${selector} holds ${count} images in a row`);
  return Array.from({ length: count }, (_, k) => pixels.filter((v, p) => Math.floor((p % width) / 28) === k && v < 128).length);
}

/** What each preset that needs more than a model, a panel and a caption must show. */
const SHOWS = {
  // Two maps, each with its points and its decoded manifold; the second model is the shipped VAE.
  'vae-fills-space': async (page, lecture) => {
    const { checkpoint } = lecture.views.compare;
    const entry = manifest.checkpoints.find((c) => c.name === checkpoint);
    // The checkpoint's step tells it from a partner trained here, which would have the same settings.
    await page.waitForFunction(
      (steps) => {
        const c = window.latentLab.compare();
        return c.active && c.step === steps && c.phase === 'paused' && c.plane.length > 0 && c.manifold.n > 0;
      },
      entry.steps,
      { timeout: 60_000 },
    );
    assert.deepEqual((await page.evaluate(() => window.latentLab.compare())).settings.model, entry.model);
    const points = await page.evaluate(() => [window.latentLab.scatter(), window.latentLab.compare()].map((s) => s.plane.length / 2));
    console.log(`side by side: ${points.join(' and ')} points`);
    assert.ok(points[0] > 0 && points[0] === points[1], 'both maps have the same test images as points');
    assert.ok((await page.evaluate(() => window.latentLab.manifold())).n > 0, 'the main map shows its manifold');
    assert.equal((await page.evaluate(() => window.latentLab.compare())).kind, 'vae');
    assert.match(await page.locator('#compare [data-role="status"]').textContent(), new RegExp(`step ${entry.steps.toLocaleString('en-US')} · test loss`));
    assert.equal(new URL(page.url()).searchParams.get('compare'), 'vae');
  },
  // Each β: its model, ten KL bars from the test images, and prior samples.
  beta: async (page, lecture) => {
    const total = {};
    for (const [i, { label, checkpoint }] of lecture.choices.entries()) {
      // The lecture opened with its first choice: a click on it would load it a second time,
      // and that load could reset the numbers read below after the first one's were waited for.
      if (i > 0) await page.getByRole('button', { name: label, exact: true }).click();
      await page.waitForFunction((n) => window.latentLab.state().loaded?.name === n && window.latentLab.state().lastEval, checkpoint, {
        timeout: 30_000,
      });
      const entry = manifest.checkpoints.find((c) => c.name === checkpoint);
      assert.deepEqual((await page.evaluate(() => window.latentLab.state())).settings.model, entry.model);
      // The bars and the state are read together, once they agree.
      const read = () => page.evaluate(() => ({ bars: window.latentLab.klBars(), evaluation: window.latentLab.state().lastEval }));
      await page
        .waitForFunction(() => {
          const k = window.latentLab.klBars();
          const klPerDim = window.latentLab.state().lastEval?.klPerDim;
          return k.visible && k.bars === 10 && k.test?.length === 10 && k.test.every((v, i) => v === klPerDim?.[i]);
        })
        .catch(() => {}); // the assertion below says what differs
      const { bars, evaluation } = await read();
      assert.deepEqual(bars.test, evaluation?.klPerDim);
      total[checkpoint] = bars.test.reduce((a, b) => a + b, 0);
      console.log(`${label}: KL ${total[checkpoint].toFixed(2)} nats, collapsed ${JSON.stringify(bars.collapsed)} (trainer: ${entry.test.kl.toFixed(2)})`);
      if (checkpoint === 'vae-10d-beta0.1') assert.deepEqual(bars.collapsed, [], 'β = 0.1 uses every dimension');
      if (checkpoint === 'vae-10d-beta10') assert.ok(bars.collapsed.length > 0, 'β = 10 collapses some dimensions');
      assert.equal(await page.getByRole('button', { name: label, exact: true }).getAttribute('aria-pressed'), 'true');
      assert.ok((await page.evaluate(() => window.latentLab.generation()))?.count > 0, 'prior samples are shown');
      await page.waitForTimeout(500);
      await screenshot(page, `lecture-beta-${entry.model.beta}`);
    }
    const kl = lecture.choices.map((c) => total[c.checkpoint]);
    assert.ok(kl.every((v, i) => i === 0 || v < kl[i - 1]), `the KL falls as β grows: ${kl.map((v) => v.toFixed(2))}`);
  },
  // Seven decoded points between two digits of different classes, and the arrow on the map.
  interpolation: async (page, lecture) => {
    const { a, b, steps } = lecture.views.interpolate;
    await page.waitForFunction(
      ([a, b, steps]) => {
        const s = window.latentLab.interpolation();
        return s.shown?.a === a && s.shown?.b === b && s.shown.steps === steps && s.arrowDrawn;
      },
      [a, b, steps],
      { timeout: 30_000 },
    );
    const { shown } = await page.evaluate(() => window.latentLab.interpolation());
    assert.notEqual(shown.labels[0], shown.labels[1], 'A and B are of different classes');
    assert.equal(shown.path.length, 2 * steps, 'a dot on the arrow per decoded point');
    const ink = await inkPerTile(page, '#interpolation [data-role="strip"]', steps);
    console.log(`interpolation ${a} (class ${shown.labels[0]}) → ${b} (class ${shown.labels[1]}): ink per image ${ink}`);
    assert.ok(ink.every((n) => n > 20), 'each of the seven images shows a drawing');
  },
  // The picked digit as 16 code cells, its decoded grid, and decoded random grids.
  symbolic: async (page, lecture) => {
    await page.waitForFunction(
      (index) => {
        const s = window.latentLab.symbolic();
        return s.visible && s.index === index && s.grid?.length === 16 && s.shown?.grid && s.shown.random > 0;
      },
      lecture.views.select,
      { timeout: 30_000 },
    );
    const s = await page.evaluate(() => window.latentLab.symbolic());
    assert.equal(s.cells, 16);
    assert.equal(await page.locator('#symbolic .code-cell').count(), 16, '16 cells on screen');
    assert.ok(s.grid.every((c) => c >= 0 && c < 16));
    const ink = await inkPerTile(page, '#symbolic [data-role="random-images"]', s.shown.random);
    console.log(`symbolic: codes ${s.grid.join(' ')}; random grids' ink ${ink}`);
    assert.ok(await page.locator('#symbolic [data-role="random-images"]').isVisible(), 'random-code samples are shown');
    assert.ok(ink.some((n) => n > 0), 'the random grids decode to something');
  },
};

test('every lecture opens its model, its views and its caption', async () => {
  const { page, problems } = await openPage(env.server.url);
  const state = () => page.evaluate(() => window.latentLab.state());
  for (const lecture of LECTURES) {
    const started = Date.now();
    await page.getByLabel('Lecture').selectOption(lecture.id);
    if (lecture.live) {
      // Trained live: a new model of the preset's settings starts training by itself.
      await page.waitForFunction(
        (kind) => {
          const s = window.latentLab.state();
          return s.settings.model.kind === kind && s.phase === 'training' && s.step >= 100;
        },
        lecture.live.model.kind,
        { timeout: 90_000 },
      );
      assert.equal((await state()).loaded, null);
      if (lecture.live.model.codeDim === 2) {
        await page.waitForFunction((k) => window.latentLab.codebook()?.cells === k, lecture.live.model.codebookSize, { timeout: 30_000 });
      }
    } else if (lecture.choices) {
      const name = lecture.choices[0].checkpoint;
      await page.waitForFunction((n) => window.latentLab.state().loaded?.name === n, name, { timeout: 30_000 });
      const entry = manifest.checkpoints.find((c) => c.name === name);
      assert.ok(entry, `${name} is in the manifest`);
      assert.deepEqual((await state()).settings.model, entry.model);
    }
    const { manifold, select, panel } = lecture.views;
    if (manifold) await page.waitForFunction(() => window.latentLab.manifold().n > 0, null, { timeout: 30_000 });
    else assert.equal((await page.evaluate(() => window.latentLab.manifold())).n, 0);
    if (select !== null) await page.waitForFunction((i) => window.latentLab.reparam()?.index === i, select, { timeout: 30_000 });
    if (panel) {
      const ids = [panel].flat();
      const box = await page.locator(`#${ids[0]}`).boundingBox();
      assert.ok(box.y < 800 && box.y + Math.min(box.height, 100) > 0, `${ids[0]} is brought into view`);
      // The others follow it, in order, just under the caption.
      const order = await page.evaluate(() => [...document.querySelectorAll('#lecture-panel ~ section')].map((el) => el.id));
      assert.deepEqual(order.slice(0, ids.length), ids);
    }
    await SHOWS[lecture.id]?.(page, lecture);
    assert.equal(await page.locator('#lecture-panel [data-role="caption"]').textContent(), lecture.caption);
    assert.equal(new URL(page.url()).searchParams.get('lecture'), lecture.id);
    console.log(`${lecture.id}: open after ${Date.now() - started} ms`);
    await page.waitForTimeout(1000);
    await screenshot(page, `lecture-${lecture.id}`);
  }

  // Codebook collapse: the page counts the codes used on the test set, as the trainer did.
  const collapse = LECTURES.find((l) => l.id === 'codebook-collapse');
  await page.getByLabel('Lecture').selectOption(collapse.id);
  const used = {};
  for (const { label, checkpoint } of collapse.choices) {
    await page.getByRole('button', { name: label, exact: true }).click();
    await page.waitForFunction((n) => window.latentLab.state().loaded?.name === n, checkpoint);
    // The other model's codebook may still be shown for a moment; this one's count is the
    // trainer's (within 2, for rounding differences between native code and wasm).
    const recorded = manifest.checkpoints.find((c) => c.name === checkpoint).test.codesUsed;
    await page.waitForFunction(
      (n) => {
        const c = window.latentLab.codebook();
        return c?.codes === 128 && Math.abs(c.used - n) <= 2;
      },
      recorded,
      { timeout: 30_000 },
    );
    used[checkpoint] = (await page.evaluate(() => window.latentLab.codebook())).used;
    console.log(`${checkpoint}: ${used[checkpoint]} of 128 codes used on the test set (trainer: ${recorded})`);
    assert.equal(await page.getByRole('button', { name: label, exact: true }).getAttribute('aria-pressed'), 'true');
  }
  assert.ok(used['vq-k128-ema-restart'] > used['vq-k128-loss'] + 32, 'restarts bring dead codes back');
  assert.equal(new URL(page.url()).searchParams.get('checkpoint'), 'vq-k128-ema-restart');

  // The link opens the same lecture with the same model.
  await page.goto(page.url());
  await page.waitForFunction(() => window.latentLab.state().loaded?.name === 'vq-k128-ema-restart', null, { timeout: 60_000 });
  assert.deepEqual(await page.evaluate(() => window.latentLab.lecture()), {
    id: 'codebook-collapse',
    checkpoint: 'vq-k128-ema-restart',
    caption: collapse.caption,
  });
  assert.deepEqual(problems, []);
  await page.close();
});

test('presenter: full screen, large text and high contrast, each kept in the URL', async () => {
  const { page, problems } = await openPage(env.server.url);
  const fontSize = (selector) => page.locator(selector).evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  const classes = () => page.evaluate(() => [...document.documentElement.classList].sort());
  const bodyBefore = await fontSize('body');
  const headingBefore = await fontSize('#metrics-title');
  const inkBefore = await page.locator('.unit').first().evaluate((el) => getComputedStyle(el).color);

  await page.getByLabel('Large text').check();
  await page.getByLabel('High contrast').check();
  assert.deepEqual(await classes(), ['contrast', 'large']);
  const bodyAfter = await fontSize('body');
  const headingAfter = await fontSize('#metrics-title');
  console.log(`large text: body ${bodyBefore} → ${bodyAfter} px, panel title ${headingBefore} → ${headingAfter} px`);
  assert.ok(bodyAfter >= bodyBefore * 1.2 && headingAfter >= headingBefore * 1.2, 'text is at least 20 % larger');
  const inkAfter = await page.locator('.unit').first().evaluate((el) => getComputedStyle(el).color);
  console.log(`high contrast: secondary text ${inkBefore} → ${inkAfter}`);
  assert.equal(inkAfter, 'rgb(0, 0, 0)');

  // The focus ring in high contrast: a solid outline with a yellow band around it.
  await page.getByRole('button', { name: 'Save model' }).focus();
  await page.keyboard.press('Tab');
  const ring = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement);
    return { outline: `${style.outlineStyle} ${style.outlineWidth}`, shadow: style.boxShadow, name: document.activeElement.textContent };
  });
  assert.equal(ring.outline, 'solid 4px');
  assert.match(ring.shadow, /rgb\(255, 221, 0\)/);

  await page.getByRole('button', { name: 'Present', exact: true }).click();
  await page.waitForFunction(() => document.documentElement.classList.contains('present'));
  assert.equal(await page.getByRole('button', { name: 'Present', exact: true }).getAttribute('aria-pressed'), 'true');
  const fullscreen = await page.evaluate(() => document.fullscreenElement?.tagName ?? null);
  console.log(`Present: full-screen element ${fullscreen}`);
  assert.equal(fullscreen, 'HTML');
  assert.equal(await page.locator('.page-header > p').isVisible(), false, 'the presentation layout hides the introduction');
  const url = new URL(page.url());
  assert.deepEqual(['present', 'large', 'contrast'].map((k) => url.searchParams.get(k)), ['1', '1', '1']);
  await page.waitForTimeout(500);
  await screenshot(page, 'lecture-presenter');

  // Esc (here: leaving full screen) ends the presentation; a link restores all three toggles.
  await page.evaluate(() => document.exitFullscreen());
  await page.waitForFunction(() => !document.documentElement.classList.contains('present'));
  assert.equal(new URL(page.url()).searchParams.get('present'), null);
  await page.goto(`${env.server.url}?present=1&large=1&contrast=1`);
  assert.deepEqual(await classes(), ['contrast', 'large', 'present']);
  assert.equal(await page.getByLabel('Large text').isChecked(), true);
  assert.equal(await page.getByLabel('High contrast').isChecked(), true);
  assert.deepEqual(problems, []);
  await page.close();
});
