// Models from elsewhere, in each engine: a lecture preset opened from the menu and from its
// link, with the trainer's numbers; a saved model downloaded and loaded back to the same images.
// Run from the repository root: `node --test tests/page/engines/` (ENGINE=chromium for Chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINE, downloaded, isVisible, openLoadedPage, screenshot, servePage, sleep, state, text, trainFor, waitUntil } from './harness.mjs';
import { greys } from '../harness.mjs';
import { GRID, MIN_PIXELS, differing, dropFile, manifest } from '../lecture-helpers.mjs';
import { LECTURES } from '../../../www/app/lectures.js';

const env = servePage();

/** Codes used on the test set once the codebook of `checkpoint` shows the trainer's count (within 2). */
async function codesUsed(page, checkpoint) {
  await waitUntil(page, (name) => window.latentLab.state().loaded?.name === name, checkpoint, 60_000);
  const recorded = manifest.checkpoints.find((c) => c.name === checkpoint).test.codesUsed;
  // Wasm and native code round differently; the other model's codebook may show for a moment.
  await waitUntil(page, (n) => Math.abs((window.latentLab.codebook()?.used ?? -99) - n) <= 2, recorded);
  const { used } = await page.evaluate(() => window.latentLab.codebook());
  console.log(`${ENGINE}: ${checkpoint}: ${used} of 128 codes used on the test set (trainer: ${recorded})`);
  return used;
}

test(`${ENGINE}: a lecture preset opens from the menu and from its link, with the trainer's numbers`, async () => {
  const lecture = LECTURES.find((l) => l.id === 'codebook-collapse');
  const { page, problems } = await openLoadedPage(env.browser, env.server.url);
  await page.select('#lecture', lecture.id);
  const collapsed = await codesUsed(page, lecture.choices[0].checkpoint);
  assert.equal(await text(page, '#lecture-panel [data-role="caption"]'), lecture.caption);
  assert.equal(new URL(page.url()).searchParams.get('lecture'), lecture.id);

  const link = `${env.server.url}?lecture=${lecture.id}&checkpoint=${lecture.choices[1].checkpoint}`;
  await page.goto(link);
  const restarted = await codesUsed(page, lecture.choices[1].checkpoint);
  assert.deepEqual(await page.evaluate(() => window.latentLab.lecture()), {
    id: lecture.id,
    checkpoint: lecture.choices[1].checkpoint,
    caption: lecture.caption,
  });
  assert.ok(restarted > collapsed + 32, `restarts bring dead codes back: ${collapsed} → ${restarted}`);
  await sleep(800);
  await screenshot(page, 'engine-lecture');
  assert.deepEqual(problems, []);
  await page.close();
});

/** Polls the canvas `selector` until it shows `expected` exactly (or 20 s pass); returns the last pixels. */
async function waitForPixels(page, selector, expected) {
  const until = Date.now() + 20_000;
  let pixels;
  do {
    pixels = await greys(page, selector);
    if (differing(pixels, expected) === 0) break;
    await sleep(100);
  } while (Date.now() < until);
  return pixels;
}

test(`${ENGINE}: a saved model downloads, loads back to identical images, and a damaged one is refused`, async () => {
  const downloads = await mkdtemp(join(tmpdir(), 'latent-lab-downloads-'));
  const context = await env.browser.createBrowserContext({ downloadBehavior: { policy: 'allow', downloadPath: downloads } });
  try {
    const { page, problems } = await openLoadedPage(context, `${env.server.url}?model=vae&d=2`);
    await trainFor(page, 3000);
    const saved = await state(page);
    const before = await greys(page, GRID);

    await page.click('#save-model');
    const name = `vae-2d-step${saved.step}.safetensors`;
    const bytes = await downloaded(downloads, name);
    console.log(`${ENGINE}: saved ${name}: ${bytes.length} bytes at step ${saved.step}`);

    await trainFor(page, 1500);
    assert.ok(differing(before, await greys(page, GRID)) >= MIN_PIXELS, 'training on changed the samples');

    const input = await page.$('#model-file');
    await input.uploadFile(join(downloads, name));
    await waitUntil(page, (file) => window.latentLab.state().loaded?.name === file, name);
    const restored = await waitForPixels(page, GRID, before);
    assert.equal(differing(restored, before), 0, 'the loaded model decodes the prior samples to the same pixels');
    const loaded = await state(page);
    assert.equal(loaded.step, saved.step);
    assert.deepEqual(loaded.settings, saved.settings);

    // Half the file, dropped on the page: refused, and the model stays.
    await dropFile(page, 'truncated.safetensors', bytes.subarray(0, bytes.length >> 1));
    await waitUntil(page, () => document.getElementById('error').checkVisibility());
    console.log(`${ENGINE}: truncated file: ${(await text(page, '#error [data-role="messages"]')).trim()}`);
    await sleep(500);
    assert.equal(differing(await greys(page, GRID), before), 0, 'the samples are unchanged');
    assert.equal((await state(page)).step, saved.step);

    await page.click('#error button');
    await trainFor(page, 1000);
    assert.ok((await state(page)).step > saved.step, 'training continues from the loaded step');
    assert.equal(await isVisible(page, '#error'), false);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await rm(downloads, { recursive: true });
  }
});
