// Lecture mode: saving a model and loading it back (picker and drag-and-drop), refusing
// damaged files, opening a shipped checkpoint from a link, working with the network cut, and
// the presenter toggles. Run from the repository root with `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { ARTIFACTS, WWW, greys, openLoadedPage, servePage } from './harness.mjs';
import { startServer } from './server.mjs';
import { LECTURES } from '../../www/app/lectures.js';

const TRAIN_MS = 3000;
// A picture counts as changed when at least this many grey levels differ.
const MIN_PIXELS = 30;

const env = servePage();
const manifest = JSON.parse(await readFile(`${WWW}checkpoints/manifest.json`, 'utf8'));

/** A page at 1280×800 in `context` (a new one by default); `problems` collects console errors. */
const openPage = (url, context = null) => openLoadedPage(context ?? env.browser, url);

async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png` });
}

/** Trains for `ms`, then pauses and waits for the paused model's pictures. */
async function trainFor(page, ms) {
  await page.click('#train');
  await page.waitForTimeout(ms);
  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.state().phase === 'paused');
  await page.waitForTimeout(500);
}

const differing = (a, b) => a.filter((v, i) => Math.abs(v - b[i]) > 0).length;
const GRID = '#generation [data-role="grid"]';
const TRAVERSAL = '#traversal [data-role="image"]';

/** Polls a canvas until it shows `expected` exactly (or `timeout` ms pass); returns the last pixels. */
async function waitForPixels(page, selector, expected, timeout = 20_000) {
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
async function redecodeTraversal(page) {
  const slider = page.getByRole('slider', { name: 'z1', exact: true });
  await slider.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(() => {
    const t = window.latentLab.traversal();
    return !t.inFlight && t.shownZ !== null && t.shownZ.every((v, j) => v === t.z[j]) && t.z[0] === 0;
  });
  return greys(page, TRAVERSAL);
}

/**
 * Drops `bytes` as a file named `name` onto the page, as dragging it from a file manager does;
 * returns whether the page showed its drop hint while the file was over it.
 */
async function dropFile(page, name, bytes) {
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

async function errorText(page) {
  await page.locator('#error').waitFor({ state: 'visible', timeout: 20_000 });
  return page.locator('#error [data-role="messages"]').textContent();
}

test('a saved model loads back to identical images; damaged files are refused and the model stays', async () => {
  const { page, problems } = await openPage(`${env.server.url}?model=vae&d=2`);
  await trainFor(page, TRAIN_MS);
  const saved = await page.evaluate(() => window.latentLab.state());
  const before = await greys(page, GRID);
  const traversalBefore = await redecodeTraversal(page);

  // Save: the browser downloads the model, named by kind, dimension and step.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save model' }).click()]);
  assert.equal(download.suggestedFilename(), `vae-2d-step${saved.step}.safetensors`);
  await mkdir(ARTIFACTS, { recursive: true });
  const file = `${ARTIFACTS}${download.suggestedFilename()}`;
  await download.saveAs(file);
  const bytes = await readFile(file);
  console.log(`saved ${download.suggestedFilename()}: ${bytes.length} bytes at step ${saved.step}`);

  // Train on: the model and its samples move away from the saved ones.
  await trainFor(page, 1500);
  const moved = await greys(page, GRID);
  assert.ok(differing(before, moved) >= MIN_PIXELS, `training on changed ${differing(before, moved)} pixels`);

  // Load it back with the file picker: the same samples, pixel for pixel, at the saved step.
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Load model…' }).click()]);
  await chooser.setFiles(file);
  await page.waitForFunction((name) => window.latentLab.state().loaded?.name === name, download.suggestedFilename());
  const restored = await waitForPixels(page, GRID, before);
  assert.equal(differing(restored, before), 0, 'the loaded model decodes the same prior samples to the same pixels');
  const state = await page.evaluate(() => window.latentLab.state());
  assert.equal(state.step, saved.step);
  assert.equal(await page.locator('#progress [data-role="step"]').textContent(), saved.step.toLocaleString('en-US'));
  assert.deepEqual(state.settings, saved.settings, 'the settings of the saved model are back');
  assert.equal(await page.locator('#kind').inputValue(), 'vae');
  assert.equal(await page.locator('#latent-dim').inputValue(), '2');
  assert.deepEqual(await redecodeTraversal(page), traversalBefore, 'the traversal decodes z as before');

  // A truncated file, dropped on the page: refused with the reason, and nothing changes.
  assert.ok(await dropFile(page, 'truncated.safetensors', bytes.subarray(0, Math.floor(bytes.length / 2))), 'the drop hint shows');
  assert.equal(await page.locator('#drop-hint').isVisible(), false, 'and goes after the drop');
  const truncated = await errorText(page);
  console.log(`truncated file: ${truncated}`);
  assert.match(truncated, /Could not load truncated\.safetensors: .*truncated or corrupted.*The current model is unchanged/);
  await page.locator('#error').scrollIntoViewIfNeeded();
  await screenshot(page, 'lecture-refused');
  assert.equal(differing(await greys(page, GRID), before), 0, 'the samples are unchanged');
  assert.deepEqual(await redecodeTraversal(page), traversalBefore, 'the current model still decodes, as before');
  assert.equal((await page.evaluate(() => window.latentLab.state())).step, saved.step);

  // Random bytes through the picker: refused as well.
  await page.getByRole('button', { name: 'Dismiss' }).click();
  const random = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) % 251));
  const randomFile = `${ARTIFACTS}random.safetensors`;
  await writeFile(randomFile, random);
  const [chooser2] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Load model…' }).click()]);
  await chooser2.setFiles(randomFile);
  const refused = await errorText(page);
  console.log(`random file: ${refused}`);
  assert.match(refused, /Could not load random\.safetensors: this file is not a readable checkpoint/);
  assert.deepEqual(await redecodeTraversal(page), traversalBefore);

  // Training continues from the loaded step.
  await page.getByRole('button', { name: 'Dismiss' }).click();
  await trainFor(page, 1000);
  assert.ok((await page.evaluate(() => window.latentLab.state())).step > saved.step, 'training continued from the loaded step');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a shipped checkpoint opens from a link within a second of the data, and trains on', async () => {
  const entry = manifest.checkpoints.find((c) => c.name === 'vae-2d');
  const { page, problems } = await openPage(`${env.server.url}?checkpoint=vae-2d`);
  // The data is in (Train is enabled); the checkpoint follows it in the worker's queue.
  const dataReady = Date.now();
  await page.waitForFunction((name) => window.latentLab.state().loaded?.name === name, 'vae-2d', { polling: 10 });
  await page.waitForFunction(() => window.latentLab.state().lastEval !== null, null, { polling: 10 });
  const ms = Date.now() - dataReady;
  console.log(`checkpoint vae-2d (${entry.bytes} bytes) ready ${ms} ms after the data`);
  assert.ok(ms < 5000, `ready in ${ms} ms`);

  const state = await page.evaluate(() => window.latentLab.state());
  assert.equal(state.step, entry.steps);
  assert.deepEqual(state.settings.model, entry.model);
  assert.deepEqual(state.settings.train, entry.train);
  assert.equal(new URL(page.url()).searchParams.get('checkpoint'), 'vae-2d');
  // The page evaluates on the first 1,000 test images, the manifest on all 10,000.
  const shown = Number(await page.locator('#metrics td[data-source="test"][data-metric="loss"]').textContent());
  console.log(`test −ELBO shown ${shown}, manifest ${entry.test.negElbo} (all test images)`);
  assert.ok(Math.abs(shown - entry.test.negElbo) < 10, 'the page shows the trained model’s numbers');
  await page.waitForTimeout(800);
  await screenshot(page, 'lecture-checkpoint');

  await trainFor(page, 1000);
  assert.ok((await page.evaluate(() => window.latentLab.state())).step > entry.steps, 'training continues from the checkpoint');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the page is installable, and after the first visit it reloads, trains and opens a checkpoint with the network cut', async () => {
  // A server of its own, stopped for the offline part: nothing can come from the network.
  const server = await startServer(WWW);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const { page, problems } = await openPage(server.url, context);
  const cached = async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    if (registration?.active?.state !== 'activated' || !navigator.serviceWorker.controller) return false;
    // Everything this page loaded is cached (main.js tells the worker once it is active).
    const urls = [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)];
    for (const url of urls) if (!(await caches.match(url, { ignoreSearch: true }))) return false;
    return true;
  };
  for (let tries = 0; !(await page.evaluate(cached)); tries++) {
    assert.ok(tries < 240, 'the service worker is active and has cached the page within 60 s');
    await page.waitForTimeout(250);
  }
  // Installable: the manifest parses, and Chromium's only objection is the test's private window.
  const cdp = await context.newCDPSession(page);
  assert.deepEqual((await cdp.send('Page.getAppManifest')).errors, []);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors.map((e) => e.errorId), ['in-incognito']);
  await server.close();
  await context.setOffline(true);

  await page.reload();
  await page.locator('#train:enabled').waitFor({ timeout: 60_000 });
  await trainFor(page, 1500);
  const { step } = await page.evaluate(() => window.latentLab.state());
  console.log(`offline reload trained ${step} steps`);
  assert.ok(step > 0, 'the reloaded page trains offline');
  assert.ok((await page.evaluate(() => window.latentLab.scatter()))?.plane.length > 0, 'the map draws');

  // A lecture preset's checkpoint, never loaded before, comes from the cache too.
  await page.goto(`${server.url}?checkpoint=vq-k128-ema-restart`);
  await page.waitForFunction(() => window.latentLab.state().loaded?.name === 'vq-k128-ema-restart', null, { timeout: 60_000 });
  await page.waitForTimeout(800);
  await screenshot(page, 'lecture-offline');
  assert.deepEqual(problems, []);
  await context.close();
});

/** Ink (grey below 128) in each of `count` 28×28 tiles side by side on canvas `selector`. */
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
    for (const { label, checkpoint } of lecture.choices) {
      await page.getByRole('button', { name: label, exact: true }).click();
      await page.waitForFunction((n) => window.latentLab.state().loaded?.name === n && window.latentLab.state().lastEval, checkpoint, {
        timeout: 30_000,
      });
      const entry = manifest.checkpoints.find((c) => c.name === checkpoint);
      assert.deepEqual((await page.evaluate(() => window.latentLab.state())).settings.model, entry.model);
      await page.waitForFunction(() => {
        const k = window.latentLab.klBars();
        return k.visible && k.test?.length === 10 && k.bars === 10;
      });
      const bars = await page.evaluate(() => window.latentLab.klBars());
      assert.deepEqual(bars.test, (await page.evaluate(() => window.latentLab.state())).lastEval.klPerDim);
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
    } else {
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
