// The student's own IDX files. Every malformed kind, built here and given with three good
// files while the page trains on MNIST, is refused with a message that names the file and its
// defect (pairing problems name both files), and training goes on with the old data. Four
// good files with names that say nothing are sorted by header and size, load and train.
// Run from the repository root with `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { WWW, openLoadedPage, servePage, screenshot } from './harness.mjs';
import { IDX_FILES } from '../../www/app/config.js';

const TRAINING_TIMEOUT = 90_000;
// Steps the page must take after each refused upload, to show that training goes on.
const STEPS_BETWEEN = 5;

const env = servePage();

/** A fresh page at 1280×800 with the data loaded; `problems` collects console errors (its workers' too). */
const openPage = () => openLoadedPage(env.browser, env.server.url);

function idx(dims, data) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x800 + dims.length, 0);
  dims.forEach((d, k) => header.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([header, data]);
}

// Small good files cut from MNIST's test set, so each upload is quick to read: 3000 images for
// training and another 1000 for test (not the first ones, so the map would change were a
// broken upload taken).
const mnistTest = {
  images: gunzipSync(await readFile(`${WWW}data/mnist/${IDX_FILES[2]}`)).subarray(16),
  labels: gunzipSync(await readFile(`${WWW}data/mnist/${IDX_FILES[3]}`)).subarray(8),
};
const cut = (from, count) => ({
  images: idx([count, 28, 28], mnistTest.images.subarray(784 * from, 784 * (from + count))),
  labels: idx([count], mnistTest.labels.subarray(from, from + count)),
});
const TRAIN = cut(0, 3000);
const TEST = cut(5000, 1000);

/** The four good files as Playwright file payloads (the training pair gzipped, as MNIST ships). */
function goodFiles() {
  const file = (name, buffer) => ({ name, mimeType: 'application/octet-stream', buffer });
  return [
    file('train-images-idx3-ubyte.gz', gzipSync(TRAIN.images)),
    file('train-labels-idx1-ubyte.gz', gzipSync(TRAIN.labels)),
    file('t10k-images-idx3-ubyte', TEST.images),
    file('t10k-labels-idx1-ubyte', TEST.labels),
  ];
}

/** The good files with the one at `slot` (0 train images … 3 test labels) replaced. */
function withBad(slot, name, buffer) {
  const files = goodFiles();
  files[slot] = { name, mimeType: 'application/octet-stream', buffer };
  return files;
}

/** Bytes from a seeded generator (xorshift32), so a failure can be replayed. */
function randomBytes(length, seed) {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  // Neither an IDX header (00 00) nor a gzip one (1f 8b): the bytes are no file of either kind.
  out[0] = 0x89;
  return out;
}

/**
 * Each malformed kind: the files to give, the file the message must name, and what it must
 * say. `pairing` marks the one message that is about two files.
 */
function malformedUploads() {
  const trainImages = Buffer.from(TRAIN.images);
  const wrongMagic = Buffer.from(TEST.labels);
  wrongMagic.write('PK', 0, 'latin1');
  const brokenGzip = gzipSync(TRAIN.labels);
  // The CRC-32 in the gzip trailer: the data inflates, but does not check.
  brokenGzip[brokenGzip.length - 8] ^= 0xff;
  const outOfRange = Buffer.from(TEST.labels);
  outOfRange[8 + 417] = 12;
  return [
    {
      kind: 'truncated',
      files: withBad(0, 'train-images-idx3-ubyte', trainImages.subarray(0, 16 + 784 * 1000)),
      name: 'train-images-idx3-ubyte',
      says: /3000 images of 28×28 = 2352000 bytes but the file holds only 784000 bytes.*cut short/,
    },
    { kind: 'wrong magic', files: withBad(3, 't10k-labels.zip', wrongMagic), name: 't10k-labels.zip', says: /not an IDX file.*0x50 0x4b/ },
    { kind: 'broken gzip', files: withBad(1, 'train-labels-idx1-ubyte.gz', brokenGzip), name: 'train-labels-idx1-ubyte.gz', says: /gzip data is broken/ },
    {
      kind: 'wrong image size',
      files: withBad(2, 't10k-images-32x32', idx([1000, 32, 32], Buffer.alloc(1000 * 32 * 32, 7))),
      name: 't10k-images-32x32',
      says: /images are 32×32 pixels, but the models take 28×28/,
    },
    {
      kind: 'absurd header',
      files: withBad(0, 'train-images-absurd.gz', gzipSync(idx([10000, 65535, 65535], Buffer.alloc(7840)))),
      name: 'train-images-absurd.gz',
      // wasm32 cannot even address the declared size (native says "an absurd size"): either way, a corrupt header.
      says: /10000 images of 65535×65535.*header is corrupt/,
    },
    {
      kind: 'labels in the images slot',
      files: withBad(0, 'train-images-idx3-ubyte', TRAIN.labels),
      name: 'train-images-idx3-ubyte',
      says: /1 image and 3 label files.*train-images-idx3-ubyte is named like an image file but is a label file/,
    },
    { kind: 'label out of range', files: withBad(3, 't10k-labels-bad', outOfRange), name: 't10k-labels-bad', says: /label 12 at position 417 is not a class between 0 and 9/ },
    {
      kind: 'count mismatch',
      files: withBad(3, 't10k-labels-999', idx([999], TEST.labels.subarray(8, 8 + 999))),
      name: 't10k-labels-999',
      says: /test set: t10k-images-idx3-ubyte holds 1000 images but t10k-labels-999 holds 999 labels/,
      pairing: true,
    },
    { kind: 'empty', files: withBad(2, 't10k-images-empty', Buffer.alloc(0)), name: 't10k-images-empty', says: /the file is empty \(0 bytes\)/ },
    { kind: 'random bytes', files: withBad(1, 'train-labels.jpg', randomBytes(5000, 2463534242)), name: 'train-labels.jpg', says: /not an IDX file/ },
    { kind: 'one file', files: goodFiles().slice(0, 1), name: 'train-images-idx3-ubyte.gz', says: /all four IDX files.*you chose 1 file/ },
  ];
}

test('every malformed upload is refused naming the file and its defect, while training on MNIST goes on', async () => {
  const { page, problems } = await openPage();
  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.state().step >= 20, null, { timeout: TRAINING_TIMEOUT });
  const error = page.locator('#error');
  const messages = error.locator('[data-role="messages"]');
  const before = await page.evaluate(() => ({ head: window.latentLab.scatter().labels.slice(0, 50).join(), points: window.latentLab.scatter().labels.length }));

  const started = Date.now();
  for (const upload of malformedUploads()) {
    const { step } = await page.evaluate(() => window.latentLab.state());
    await page.setInputFiles('#idx-files', upload.files);
    // Each case's file name is its own, so this waits for this upload's message.
    await page.waitForFunction(
      (name) => !document.getElementById('error').hidden && document.querySelector('#error [data-role="messages"]').textContent.includes(name),
      upload.name,
      { timeout: 30_000 },
    );
    const message = (await messages.textContent()).trim();
    console.log(`${upload.kind}: ${message}`);
    assert.match(message, /^Your files were not loaded: /, upload.kind);
    assert.ok(message.includes(upload.name), `${upload.kind}: the message names ${upload.name}`);
    assert.match(message, upload.says, upload.kind);
    assert.match(message, /The current model and data stay\.$/, upload.kind);
    if (!upload.pairing) assert.doesNotMatch(message, /one label per image|same split/, `${upload.kind}: a file's own defect, not a pairing problem`);
    if (upload.kind === 'truncated') await screenshot(page, 'upload-error');
    // Training goes on, on MNIST.
    await page.waitForFunction((from) => window.latentLab.state().step >= from, step + STEPS_BETWEEN, { timeout: TRAINING_TIMEOUT });
    const now = await page.evaluate(() => window.latentLab.state());
    assert.equal(now.phase, 'training', upload.kind);
    assert.equal(now.dataset, 'mnist', upload.kind);
  }
  console.log(`${malformedUploads().length} refused uploads in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const after = await page.evaluate(() => ({ head: window.latentLab.scatter().labels.slice(0, 50).join(), points: window.latentLab.scatter().labels.length }));
  assert.deepEqual(after, before, 'the map still shows the MNIST test set');
  assert.equal(await page.locator('#dataset').inputValue(), 'mnist');
  assert.equal(await error.isVisible(), true, 'the last message stays while training goes on');
  assert.deepEqual(problems, []);
  await page.close();
});

test('four renamed Fashion-MNIST files are sorted by header and size, load and train', async () => {
  const { page, problems } = await openPage();
  await page.waitForFunction(() => window.latentLab.scatter().labels.length === 3000);
  const mnistLabels = await page.evaluate(() => window.latentLab.scatter().labels.slice(0, 200).join());
  // Names that say nothing: the magic number tells images from labels, the count training from test.
  const dir = await mkdtemp(join(tmpdir(), 'latent-lab-idx-'));
  const renamed = [
    [IDX_FILES[3], 'one.gz'],
    [IDX_FILES[0], 'two.gz'],
    [IDX_FILES[2], 'three.gz'],
    [IDX_FILES[1], 'four.gz'],
  ];
  for (const [from, to] of renamed) await copyFile(`${WWW}data/fashion/${from}`, join(dir, to));
  try {
    // The dataset list's last entry opens the file picker.
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.selectOption('#dataset', 'own')]);
    assert.equal(chooser.isMultiple(), true);
    assert.equal(await page.locator('#dataset').inputValue(), 'mnist', 'the list shows the data in use until the files load');
    await chooser.setFiles(renamed.map(([, to]) => join(dir, to)));
    await page.waitForFunction(
      () => window.latentLab.state().dataset === 'own' && window.latentLab.state().phase === 'ready',
      null,
      { timeout: 60_000 },
    );
  } finally {
    await rm(dir, { recursive: true });
  }
  assert.match(await page.locator('#progress [data-role="status"]').textContent(), /Your files loaded \(10000 test images\)/);
  assert.equal(await page.locator('#dataset').inputValue(), 'own');
  assert.equal(new URL(page.url()).searchParams.get('dataset'), null, 'a link cannot carry the files');
  assert.deepEqual(await page.locator('#legend li').allTextContents(), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  // The map changes to the uploaded test set (three.gz, sorted into the test slot by its size).
  const fashionLabels = Array.from(gunzipSync(await readFile(`${WWW}data/fashion/${IDX_FILES[3]}`)).subarray(8, 208)).join();
  await page.waitForFunction((before) => window.latentLab.scatter().labels.slice(0, 200).join() !== before, mnistLabels);
  const ownLabels = await page.evaluate(() => window.latentLab.scatter().labels.slice(0, 200).join());
  assert.equal(ownLabels, fashionLabels, 'the map shows the test labels file, sorted there by its size');

  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.state().step >= 50, null, { timeout: TRAINING_TIMEOUT });
  await page.click('#train');
  await page.locator('#train', { hasText: 'Train' }).waitFor();
  const state = await page.evaluate(() => window.latentLab.state());
  const points = await page.evaluate(() => window.latentLab.scatter().labels.length);
  console.log(`own data: step ${state.step}, test loss ${state.lastEval.loss.toFixed(1)} nats, ${points} points`);
  assert.equal(state.dataset, 'own');
  assert.equal(points, 3000);

  // A comparison model gets the same bytes.
  await page.getByLabel('Compare', { exact: true }).check();
  await page.waitForFunction(() => {
    const c = window.latentLab.compare();
    return c.dataset === 'own' && c.phase === 'ready' && c.labels.length > 0;
  }, null, { timeout: 60_000 });
  const compareLabels = await page.evaluate(() => Array.from(window.latentLab.compare().labels.slice(0, 200)).join());
  assert.equal(compareLabels, ownLabels, 'both models encode the same uploaded test set');
  assert.equal(await page.locator('#error').isVisible(), false);
  await screenshot(page, 'upload-own');
  assert.deepEqual(problems, []);
  await page.close();
});
