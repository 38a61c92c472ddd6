// A learning rate that blows up training, set while the page trains: the page pauses itself,
// says why, and keeps the last good weights (the decoded pictures after the blow-up are
// pixel-identical to those shown just before it); a sane rate then trains on.
// Run from the repository root with `node --test tests/page/`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openLoadedPage, servePage, screenshot } from './harness.mjs';

const TRAINING_TIMEOUT = 90_000;
const DIVERGING_RATE = 10;
const SANE_RATE = 0.003;

const env = servePage();

const differing = (a, b) => a.reduce((n, v, i) => n + (v !== b[i]), 0);

/** Records every image the Generation grid draws, with the rate and phase the page held then. */
function recordGenerationFrames() {
  window.generationFrames = [];
  const put = CanvasRenderingContext2D.prototype.putImageData;
  CanvasRenderingContext2D.prototype.putImageData = function (image, ...rest) {
    put.call(this, image, ...rest);
    if (!this.canvas.closest('#generation')) return;
    const { settings, phase, step } = window.latentLab.state();
    const greys = Array.from({ length: image.data.length / 4 }, (_, p) => image.data[4 * p]);
    window.generationFrames.push({ rate: settings.train.learningRate, phase, step, greys });
  };
}

async function setRate(page, rate) {
  const field = page.getByLabel('Learning rate');
  await field.fill(String(rate));
  await field.press('Tab'); // commits the value (change event), as a keyboard user would
  await page.waitForFunction((r) => window.latentLab.state().settings.train.learningRate === r, rate);
}

test('a rate that blows up while training pauses the page, says why and keeps the last good weights', async () => {
  const { page, problems } = await openLoadedPage(env.browser, env.server.url);
  await page.evaluate(recordGenerationFrames);
  await page.click('#train');
  await page.waitForFunction(() => window.latentLab.state().step >= 60, null, { timeout: TRAINING_TIMEOUT });
  // The grid follows the weights while training, so pixel identity below means the same weights.
  await page.waitForFunction(
    () => {
      const [first, ...later] = window.generationFrames;
      return later.some((f) => f.greys.some((v, p) => v !== first.greys[p]));
    },
    null,
    { timeout: TRAINING_TIMEOUT },
  );

  await setRate(page, DIVERGING_RATE);
  const error = page.locator('#error');
  await error.waitFor({ state: 'visible', timeout: 30_000 });
  const message = await error.locator('[data-role="messages"]').textContent();
  console.log(`blow-up: ${message.trim()}`);
  assert.match(message, new RegExp(`loss became NaN or infinite \\(learning rate ${DIVERGING_RATE} is probably too high\\)`));
  assert.match(message, /weights from before the blow-up were kept/);
  await page.locator('#train', { hasText: 'Train' }).waitFor();
  await page.waitForFunction((r) => window.generationFrames.some((f) => f.rate === r && f.phase === 'paused'), DIVERGING_RATE);
  const stopped = await page.evaluate(() => window.latentLab.state());
  assert.equal(stopped.phase, 'paused', 'the page paused itself');
  assert.equal(await page.locator('#step').isEnabled(), true, 'Step is offered again, as after Pause');
  assert.match(await page.locator('#progress [data-role="status"]').textContent(), /Training stopped/);
  await screenshot(page, 'blowup-error');

  // At the new rate the grid was drawn twice: from the weights the rate started from (while
  // training), and from the weights kept after the blow-up (paused). The same pixels.
  const atRate = await page.evaluate((r) => window.generationFrames.filter((f) => f.rate === r), DIVERGING_RATE);
  console.log(`frames at rate ${DIVERGING_RATE}: ${atRate.map((f) => `${f.phase}@${f.step}`).join(', ')}`);
  assert.ok(atRate.length >= 2, 'a frame before and one after the blow-up');
  assert.equal(atRate[0].phase, 'training', 'the pictures showed the weights the new rate started from');
  assert.equal(atRate.at(-1).phase, 'paused');
  for (const frame of atRate.slice(1)) {
    assert.equal(differing(frame.greys, atRate[0].greys), 0, `a frame at ${frame.phase} differs from the one before the blow-up`);
  }

  // A sane rate: training goes on from the kept weights, with a finite loss.
  await setRate(page, SANE_RATE);
  await page.click('#train');
  await page.waitForFunction((from) => window.latentLab.state().step >= from + 30, stopped.step, { timeout: TRAINING_TIMEOUT });
  const resumed = await page.evaluate(() => window.latentLab.state());
  assert.equal(resumed.phase, 'training');
  assert.ok(Number.isFinite(resumed.lastReport.loss) && resumed.lastReport.loss < 400, `loss ${resumed.lastReport.loss} after resuming`);
  assert.equal(await error.isVisible(), false, 'the error clears once training goes on');
  await page.click('#train');
  assert.deepEqual(problems, []);
  await page.close();
});
