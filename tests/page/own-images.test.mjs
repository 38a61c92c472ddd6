// Your own images: a folder of letters drawn with canvas text in three fonts, some on light
// backgrounds, with a text file and a broken PNG beside them, uploaded as a folder, as a zip
// (with train/ and test/ folders) and as loose files; each trains, the legend names its
// classes, the panel states the counts and every skipped file, and the images the model
// trains on are the ones Rust's prepareImage makes of the drawn pixels.
// Run from the repository root with `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openLoadedPage, servePage, screenshot } from './harness.mjs';
import { dropFile } from './lecture-helpers.mjs';

const require = createRequire(new URL('../../pkg-config/package.json', import.meta.url));
const { unzipSync, zipSync } = require('fflate');

const CLASSES = ['A', 'K', 'R'];
const PER_CLASS = 42;
const TOTAL = CLASSES.length * PER_CLASS;
// Held out by the seeded split: ⌈42 / 7⌉ = 6 of each class; by the zip's test/ folder: every fourth image drawn.
const SEEDED_TEST = CLASSES.length * Math.ceil(PER_CLASS / 7);
const FOLDER_TEST = Math.ceil(TOTAL / 4);
const TRAINING_TIMEOUT = 90_000;
const env = servePage();

/**
 * Draws PER_CLASS images of each letter in the page (three fonts, sizes and offsets varying,
 * every third on a light background) and returns, per image, its PNG bytes (base64), whether
 * it is light, and what Rust's prepareImage makes of its pixels, the expected 784 bytes.
 */
function drawLetters(page) {
  return page.evaluate(
    async ([classes, perClass]) => {
      const { prepareImage } = await import('/pkg/latent_lab.js');
      const fonts = ['serif', 'sans-serif', 'monospace'];
      const out = [];
      for (const letter of classes) {
        for (let i = 0; i < perClass; i++) {
          const canvas = new OffscreenCanvas(40, 48);
          const ctx = canvas.getContext('2d');
          const light = i % 3 === 0;
          ctx.fillStyle = light ? 'rgb(240, 236, 222)' : 'rgb(8, 8, 12)';
          ctx.fillRect(0, 0, 40, 48);
          ctx.fillStyle = light ? 'rgb(30, 30, 70)' : 'rgb(250, 250, 250)';
          ctx.font = `${22 + (i % 4) * 4}px ${fonts[i % 3]}`;
          ctx.textAlign = 'center';
          ctx.textBaseline = 'middle';
          ctx.fillText(letter, 18 + (i % 5), 22 + (i % 6));
          const { data } = ctx.getImageData(0, 0, 40, 48);
          const prepared = prepareImage(new Uint8Array(data.buffer), 40, 48);
          const png = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
          let binary = '';
          for (const b of png) binary += String.fromCharCode(b);
          out.push({ letter, name: `${letter}-${i}.png`, light, inverted: prepared.inverted, expected: Array.from(prepared.pixels), png: btoa(binary) });
        }
      }
      return out;
    },
    [CLASSES, PER_CLASS],
  );
}

/** The four files of an IDX export zip, parsed: `{train, test}` of `{images: Uint8Array[], labels}`, and classes.txt. */
function readIdxZip(bytes) {
  const files = unzipSync(bytes);
  const images = (name) => {
    const raw = gunzipSync(files[name]);
    const count = raw.readUInt32BE(4);
    assert.deepEqual([raw.readUInt32BE(0), raw.readUInt32BE(8), raw.readUInt32BE(12)], [2051, 28, 28]);
    return Array.from({ length: count }, (_, i) => raw.subarray(16 + i * 784, 16 + (i + 1) * 784));
  };
  const labels = (name) => {
    const raw = gunzipSync(files[name]);
    assert.equal(raw.readUInt32BE(0), 2049);
    return Array.from(raw.subarray(8));
  };
  return {
    names: Object.keys(files).sort(),
    classes: new TextDecoder().decode(files['classes.txt']),
    train: { images: images('train-images-idx3-ubyte.gz'), labels: labels('train-labels-idx1-ubyte.gz') },
    test: { images: images('t10k-images-idx3-ubyte.gz'), labels: labels('t10k-labels-idx1-ubyte.gz') },
  };
}

/** Waits until the page trains on the images Rust took, trains `steps`, and returns the panel, the legend and the map's labels. */
async function loadedAndTrained(page, summaryPattern, steps = 20) {
  const started = Date.now();
  await page.waitForFunction(
    (pattern) => {
      const s = window.latentLab.state();
      return s.dataset === 'images' && s.phase === 'ready' && new RegExp(pattern).test(window.latentLab.ownImages().summary);
    },
    summaryPattern.source,
    { timeout: TRAINING_TIMEOUT },
  );
  const loadMs = Date.now() - started;
  const { step } = await page.evaluate(() => window.latentLab.state());
  await page.click('#train');
  await page.waitForFunction(([from, n]) => window.latentLab.state().step >= from + n, [step, steps], { timeout: TRAINING_TIMEOUT });
  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.state().phase === 'paused');
  return {
    loadMs,
    panel: await page.evaluate(() => window.latentLab.ownImages()),
    legend: await page.locator('#legend li').allTextContents(),
    labels: await page.evaluate(() => Array.from(window.latentLab.scatter().labels)),
  };
}

test('a folder, a zip and loose files of images train, name their classes and state what was skipped', async () => {
  const { page, problems } = await openLoadedPage(env.browser, env.server.url);
  const letters = await drawLetters(page);
  const lightCount = letters.filter((l) => l.light).length;
  assert.deepEqual(
    letters.map((l) => l.inverted),
    letters.map((l) => l.light),
    'Rust inverts exactly the letters on a light background',
  );
  const expected = new Map(letters.map((l) => [Buffer.from(l.expected).toString('hex'), l.letter]));
  const png = (l) => Buffer.from(l.png, 'base64');
  const dir = await mkdtemp(join(tmpdir(), 'latent-lab-images-'));
  try {
    // ---- a folder: letters/<class>/<file>, a text file and a broken PNG beside them ----
    const root = join(dir, 'letters');
    for (const letter of CLASSES) await mkdir(join(root, letter), { recursive: true });
    for (const l of letters) await writeFile(join(root, l.letter, l.name), png(l));
    await writeFile(join(root, 'notes.txt'), 'drawn with canvas text\n');
    await writeFile(join(root, 'A', 'broken.png'), png(letters[0]).subarray(0, 60));
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.selectOption('#dataset', 'imageFolder')]);
    await chooser.setFiles(root);

    const folder = await loadedAndTrained(page, new RegExp(`^${TOTAL} images in 3 classes`), 300);
    console.log(`folder, decoded and loaded in ${folder.loadMs} ms: ${folder.panel.summary} ${folder.panel.details}`);
    assert.equal(
      folder.panel.summary,
      `${TOTAL} images in 3 classes; skipped 2 files: letters/notes.txt (not an image), letters/A/broken.png (could not be decoded).`,
    );
    assert.match(folder.panel.details, new RegExp(`^${TOTAL - SEEDED_TEST} to train on, ${SEEDED_TEST} to test with \\(one image in seven of each class held out`));
    assert.match(folder.panel.details, new RegExp(`Classes: A \\(${PER_CLASS}\\), K \\(${PER_CLASS}\\), R \\(${PER_CLASS}\\)\\.`));
    assert.match(folder.panel.details, new RegExp(`${lightCount} images had a light background and were inverted`));
    assert.equal(folder.panel.progress.max, TOTAL + 1, 'the bar counted every file that could be an image');
    assert.deepEqual(folder.legend, CLASSES);
    assert.deepEqual([...new Set(folder.labels)].sort(), [0, 1, 2], 'the map colours the test images by class');
    // The preview shows the images as Rust prepared them from the drawn pixels.
    assert.ok(folder.panel.preview.length > 0);
    for (const p of folder.panel.preview) {
      const letter = p.path.split('/')[1];
      assert.equal(expected.get(Buffer.from(p.pixels).toString('hex')), letter, `${p.path} decodes to the pixels Rust made of its drawing`);
    }
    await screenshot(page, 'own-images');

    // The export: four gzipped IDX files and the class names; every image is a drawn letter of its class.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export as IDX (.zip)' }).click()]);
    assert.equal(download.suggestedFilename(), 'latent-lab-images-idx.zip');
    await download.saveAs(join(dir, 'export.zip'));
    const exported = readIdxZip(await readFile(join(dir, 'export.zip')));
    assert.deepEqual(exported.names, ['classes.txt', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
    assert.equal(exported.classes, '0 A\n1 K\n2 R\n');
    assert.deepEqual([exported.train.images.length, exported.test.images.length], [TOTAL - SEEDED_TEST, SEEDED_TEST]);
    const exportedKeys = [];
    for (const split of [exported.train, exported.test]) {
      split.images.forEach((image, i) => {
        const key = Buffer.from(image).toString('hex');
        assert.equal(expected.get(key), CLASSES[split.labels[i]], `exported image ${i} is a drawn ${CLASSES[split.labels[i]]}`);
        exportedKeys.push(key);
      });
    }
    // Letters that differ only in place, size or background prepare alike, so compare as multisets.
    const drawnKeys = letters.map((l) => Buffer.from(l.expected).toString('hex'));
    assert.deepEqual(exportedKeys.sort(), drawnKeys.sort(), 'every drawn letter once, as Rust prepared it');

    // ---- a zip with train/ and test/ folders, dropped on the page ----
    const zipped = {};
    letters.forEach((l, i) => {
      zipped[`set/${i % 4 === 0 ? 'test' : 'train'}/${l.letter}/${l.name}`] = png(l);
    });
    zipped['set/readme.md'] = new TextEncoder().encode('# letters\n');
    await dropFile(page, 'letters.zip', zipSync(zipped));
    const zip = await loadedAndTrained(page, new RegExp(`^${TOTAL} images in 3 classes; skipped 1 file`));
    console.log(`zip, decoded and loaded in ${zip.loadMs} ms: ${zip.panel.summary} ${zip.panel.details}`);
    assert.equal(zip.panel.summary, `${TOTAL} images in 3 classes; skipped 1 file: set/readme.md (not an image).`);
    assert.match(zip.panel.details, new RegExp(`^${TOTAL - FOLDER_TEST} to train on, ${FOLDER_TEST} to test with \\(from the train/ and test/ folders\\)`));
    assert.deepEqual(zip.legend, CLASSES);
    assert.equal(zip.labels.length, FOLDER_TEST);

    // ---- loose files: no class folders, one class in one colour ----
    await page.setInputFiles(
      '#image-files',
      letters.slice(0, 5).map((l) => ({ name: l.name, mimeType: 'image/png', buffer: png(l) })),
    );
    const loose = await loadedAndTrained(page, /^5 images in 1 class/);
    assert.equal(loose.panel.summary, '5 images in 1 class (no class folders: one colour).');
    assert.deepEqual(loose.legend, ['images']);
    assert.deepEqual([...new Set(loose.labels)], [0]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('files that hold no usable image are refused and the data in use stays', async () => {
  const { page, problems } = await openLoadedPage(env.browser, env.server.url);
  await page.setInputFiles('#image-files', [
    { name: 'blank.png', mimeType: 'image/png', buffer: await blankPng(page) },
    { name: 'fake.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a jpeg at all') },
  ]);
  await page.waitForFunction(() => /Your images were not loaded/.test(document.getElementById('error').textContent));
  const message = await page.locator('#error [data-role="messages"]').textContent();
  assert.match(message, /blank\.png \(the image is blank: one flat colour, no ink to centre\)/);
  assert.match(message, /fake\.jpg \(could not be decoded\)/);
  const state = await page.evaluate(() => window.latentLab.state());
  assert.equal(state.dataset, 'mnist');
  assert.equal(await page.locator('#legend li').first().textContent(), '0');
  assert.deepEqual(problems, []);
  await page.close();
});

/** A 20 × 20 PNG of one flat grey, drawn in the page. */
async function blankPng(page) {
  const base64 = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(20, 20);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#808080';
    ctx.fillRect(0, 0, 20, 20);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
    return btoa(String.fromCharCode(...bytes));
  });
  return Buffer.from(base64, 'base64');
}
