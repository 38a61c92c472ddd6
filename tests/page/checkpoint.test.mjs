// Checkpoints: saving a model and loading it back (picker and drag-and-drop), refusing
// damaged files, opening a shipped checkpoint from a link, and working with the network cut.
// Run from the repository root with `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { ARTIFACTS, WWW, greys, openLoadedPage, servePage, screenshot } from './harness.mjs';
import { startServer } from './server.mjs';
import { TRAIN_MS, MIN_PIXELS, manifest, trainFor, differing, GRID, waitForPixels, redecodeTraversal, dropFile, errorText, offlineReady } from './lecture-helpers.mjs';

const env = servePage();

/** A page at 1280×800 in `context` (a new one by default); `problems` collects console errors. */
const openPage = (url, context = null) => openLoadedPage(context ?? env.browser, url);

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
  // A file saved now carries the checksum of its tensors: nothing to warn about.
  assert.doesNotMatch(await page.locator('#progress [data-role="status"]').textContent(), /checksum/);
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
  // The shipped files predate checksums: they load, and the status says they were not verified.
  assert.match(await page.locator('#progress [data-role="status"]').textContent(), /Loaded vae-2d.*saved without a checksum/);
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
  for (let tries = 0; !(await page.evaluate(offlineReady)); tries++) {
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
