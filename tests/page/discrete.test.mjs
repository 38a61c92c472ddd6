// The discrete-latent lessons: the mixture lesson (Bayes' rule, ancestral sampling, EM, k-means
// against a GMM), the GMM prior over an autoencoder's codes, and quantization step by step.
// Numbers are checked against closed forms computed here and against the Rust answers.
// Run from the repository root with `node --test tests/page/discrete.test.mjs`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { WWW, openLoadedPage, servePage, screenshot } from './harness.mjs';

const env = servePage();

const normalPdf = (x, mu, sigma) => Math.exp(-((x - mu) ** 2) / (2 * sigma * sigma)) / Math.sqrt(2 * Math.PI * sigma * sigma);

/** Bayes' rule by hand for a 1-D mixture `{weights, means, sigmas}` at x. */
function bayesByHand({ weights, means, sigmas }, x) {
  const likelihood = means.map((mu, c) => normalPdf(x, mu, sigmas[c]));
  const joint = likelihood.map((l, c) => l * weights[c]);
  const marginal = joint.reduce((a, b) => a + b, 0);
  return { likelihood, joint, marginal, posterior: joint.map((j) => j / marginal) };
}

function assertClose(actual, expected, tol, what) {
  assert.ok(Math.abs(actual - expected) <= tol * (1 + Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

function assertBayes(b, params) {
  const hand = bayesByHand(params, b.x);
  for (let c = 0; c < 2; c++) {
    assertClose(b.likelihood[c], hand.likelihood[c], 1e-9, `p(x=${b.x} | z=${c + 1})`);
    assertClose(b.joint[c], hand.joint[c], 1e-9, 'joint');
    assertClose(b.posterior[c], hand.posterior[c], 1e-9, `P(z=${c + 1} | x=${b.x})`);
  }
  assertClose(b.marginal, hand.marginal, 1e-9, 'p(x)');
  assertClose(b.posterior[0] + b.posterior[1], 1, 1e-12, 'the posterior sums to 1');
}

/** The codebook `(K·D)` read straight from a shipped checkpoint's safetensors bytes, not through Rust. */
async function codebookOf(name) {
  const bytes = await readFile(`${WWW}checkpoints/${name}.safetensors`);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  const { dtype, data_offsets: [start, end] } = header['codebook.embeddings'];
  assert.equal(dtype, 'F32');
  const data = bytes.subarray(8 + headerLength + start, 8 + headerLength + end);
  return Array.from({ length: data.length / 4 }, (_, i) => data.readFloatLE(4 * i));
}

const nonDecreasing = (v, tol = 1e-9) => v.every((x, i) => i === 0 || x >= v[i - 1] - tol * Math.abs(v[i - 1]));
const nonIncreasing = (v, tol = 1e-9) => v.every((x, i) => i === 0 || x <= v[i - 1] + tol * Math.abs(v[i - 1]));

test('mixture lesson: Bayes in live numbers, ancestral samples, EM step by step, k-means against a GMM', async () => {
  const { page, problems } = await openLoadedPage(env.browser, `${env.server.url}?lecture=mixture`, { viewport: { width: 1280, height: 1000 } });
  await page.waitForFunction(() => window.latentLab.mixture()?.bayes && window.latentLab.emFit()?.em && window.latentLab.clusters()?.step === 0);
  const mixture = () => page.evaluate(() => window.latentLab.mixture());
  const emFit = () => page.evaluate(() => window.latentLab.emFit());
  const clusters = () => page.evaluate(() => window.latentLab.clusters());

  let m = await mixture();
  assert.ok(m.visible && (await emFit()).visible && (await clusters()).visible, 'the three panels are shown');
  assert.deepEqual(m.params, { weights: [0.5, 0.5], means: [-10, 10], sigmas: [4, 4] }, 'the lecture’s first setting');
  assertBayes(m.bayes, m.params);
  assert.match(m.formula, new RegExp(`= ${m.bayes.posterior[0].toFixed(4)}`), 'the formula shows the posterior');

  // The lecture's second setting: P(z) = (0.2, 0.8). At x = 0, halfway, the posterior is the prior.
  await page.getByRole('button', { name: 'P(z) = (0.2, 0.8)' }).click();
  await page.waitForFunction(() => window.latentLab.mixture().params.weights[0] === 0.2);
  m = await mixture();
  assertBayes(m.bayes, m.params);

  // Drag along the curves: each x the pointer passes is answered, and matches Bayes by hand.
  const box = await page.locator('#mixture [data-role="curves"]').boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  const seen = [];
  for (const share of [0.35, 0.45, 0.5, 0.55, 0.7]) {
    await page.mouse.move(box.x + box.width * share, box.y + box.height / 2);
    const b = (await mixture()).bayes;
    assertBayes(b, m.params);
    seen.push(b.x);
  }
  await page.mouse.up();
  assert.ok(seen.every((x, i) => i === 0 || x > seen[i - 1]), `x follows the drag: ${seen.map((x) => x.toFixed(2))}`);
  console.log(`drag: P(z=1|x) ${(await mixture()).bayes.posterior[0].toFixed(4)} at x = ${seen.at(-1).toFixed(2)}`);

  // A slider: σ₂ moved, the curves and Bayes follow.
  await page.locator('#mixture input[type="range"]').nth(4).fill('2');
  await page.waitForFunction(() => window.latentLab.mixture().params.sigmas[1] === 2);
  m = await mixture();
  assertBayes(m.bayes, m.params);

  // The same questions asked of a second MixtureLesson on this thread: the same numbers, and how long they take.
  const timing = await page.evaluate(async ({ params, x }) => {
    const wasm = await import('./pkg/latent_lab.js');
    const lesson = new wasm.MixtureLesson();
    lesson.setParams(params);
    const bayes = lesson.bayes(x);
    const time = (f, n) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) f(i);
      return ((performance.now() - t0) / n) * 1000;
    };
    const result = {
      bayes,
      bayesUs: time((i) => lesson.bayes(-20 + i * 0.01), 2000),
      curvesUs: time(() => lesson.curves(401), 200),
    };
    lesson.sample(500, 0n);
    lesson.clustersReset(1n);
    result.emStepUs = time(() => lesson.emStep(1), 200);
    result.clustersStepUs = time(() => lesson.clustersStep(1), 50);
    lesson.free();
    return result;
  }, { params: m.params, x: m.bayes.x });
  assert.deepEqual(timing.bayes, m.bayes, 'the view shows what Rust answers');
  console.log(
    `main-thread lesson calls: bayes ${timing.bayesUs.toFixed(1)} µs, curves(401) ${timing.curvesUs.toFixed(1)} µs, ` +
      `EM step on 500 samples ${timing.emStepUs.toFixed(1)} µs, k-means + EM step on 450 2-D points ${timing.clustersStepUs.toFixed(1)} µs`,
  );
  assert.ok(timing.curvesUs < 16_000 && timing.emStepUs < 16_000, 'each answer fits in a frame');

  // Ancestral samples and EM, one step, then ten.
  await page.getByRole('button', { name: 'Draw samples' }).click();
  await page.waitForFunction(() => window.latentLab.emFit().em?.step === 0 && window.latentLab.emFit().samples.count === 500);
  await page.getByRole('button', { name: 'EM step' }).click();
  await page.waitForFunction(() => window.latentLab.emFit().em.step === 1);
  let fit = await emFit();
  assert.equal(fit.tableRows, 6, 'π, μ and σ of both components, before and after');
  assert.ok(fit.em.previous, 'the M-step’s update shows where it came from');
  for (let i = 0; i < 20; i++) assertClose(fit.em.responsibilities[2 * i] + fit.em.responsibilities[2 * i + 1], 1, 1e-6, 'responsibilities sum to 1');
  await page.locator('#em-fit [data-role="run"]').click();
  await page.waitForFunction(() => window.latentLab.emFit().em.step === 11);
  fit = await emFit();
  assert.equal(fit.em.logLikelihoods.length, 12);
  assert.ok(nonDecreasing(fit.em.logLikelihoods), `EM never lowers the log-likelihood: ${fit.em.logLikelihoods.map((v) => v.toFixed(1))}`);
  // Again against Rust: the same samples (seed) and 11 steps give the same parameters.
  const again = await page.evaluate(async ({ params, seed }) => {
    const wasm = await import('./pkg/latent_lab.js');
    const lesson = new wasm.MixtureLesson();
    lesson.setParams(params);
    lesson.sample(500, BigInt(seed));
    const state = lesson.emStep(11);
    lesson.free();
    return state.params;
  }, { params: m.params, seed: fit.samples.seed });
  assert.deepEqual(fit.em.params, again);
  console.log(`EM after 11 steps: π ${again.weights.map((v) => v.toFixed(3))}, μ ${again.means.map((v) => v.toFixed(2))}, σ ${again.sigmas.map((v) => v.toFixed(2))}`);
  await screenshot(page, 'mixture-curves', { selector: '#mixture' });
  await screenshot(page, 'mixture-em', { selector: '#em-fit' });

  // The 2-D points: k-means and EM step together.
  await page.getByRole('button', { name: 'Step both' }).click();
  await page.waitForFunction(() => window.latentLab.clusters().step === 1);
  await page.locator('#clusters [data-role="run"]').click();
  await page.waitForFunction(() => window.latentLab.clusters().step === 11);
  const c = await clusters();
  assert.equal(c.ellipses, 3);
  assert.ok(nonIncreasing(c.kmeansObjectives), `k-means J never rises: ${c.kmeansObjectives.map((v) => v.toFixed(1))}`);
  assert.ok(nonDecreasing(c.logLikelihoods), 'the GMM’s log-likelihood never falls');
  assertClose(c.gmmWeights.reduce((a, b) => a + b, 0), 1, 1e-9, 'π sums to 1');
  console.log(`2-D after 11 steps: ${c.stats}`);
  await screenshot(page, 'mixture-clusters', { selector: '#clusters' });
  assert.deepEqual(problems, []);
  await page.close();
});

test('GMM prior: EM fitted to the autoencoder’s training codes, its ellipses and decoded samples', async () => {
  const { page, problems } = await openLoadedPage(env.browser, `${env.server.url}?lecture=gmm-prior`);
  const prior = () => page.evaluate(() => window.latentLab.gmmPrior());
  const waitForPrior = (name, k) =>
    page.waitForFunction(
      ([n, k]) => window.latentLab.state().loaded?.name === n && window.latentLab.gmmPrior().prior?.k === k,
      [name, k],
      { timeout: 60_000 },
    );
  await waitForPrior('ae-2d', 10);
  const ae = (await prior()).prior;
  assert.equal(ae.fittedTo, 10_000);
  assert.equal(ae.ellipses.length, 10);
  assertClose(ae.weights.reduce((a, b) => a + b, 0), 1, 1e-9, 'π sums to 1');
  assert.equal(ae.samples.length, 2 * ae.count);
  console.log(`AE: K = 10 in ${ae.emSteps} EM steps; log-density per code ${ae.logLikelihood.toFixed(3)} (GMM) vs ${ae.standardNormalLogLikelihood.toFixed(3)} (N(0, I))`);
  assert.ok(ae.logLikelihood > ae.standardNormalLogLikelihood, 'the mixture explains the codes better than N(0, I)');
  // Each sample lies within its components' reach: the largest Mahalanobis distance from the
  // nearest mean, computed here from the ellipses' covariances, stays moderate.
  const mahalanobis = (x, y, c) => {
    const [a, b, d] = ae.ellipses[c].cov;
    const dx = x - ae.meansPlane[2 * c];
    const dy = y - ae.meansPlane[2 * c + 1];
    return Math.sqrt((d * dx * dx - 2 * b * dx * dy + a * dy * dy) / (a * d - b * b));
  };
  const worst = Math.max(...Array.from({ length: ae.count }, (_, i) => Math.min(...ae.weights.map((_, c) => mahalanobis(ae.samples[2 * i], ae.samples[2 * i + 1], c)))));
  assert.ok(worst < 5, `every sample is within 5σ of a component: ${worst.toFixed(2)}`);
  // The map's plane is the code space (d = 2): the samples sit among the test codes.
  const scatter = await page.evaluate(() => window.latentLab.scatter());
  const xs = scatter.plane.filter((_, i) => i % 2 === 0);
  assert.ok(ae.meansPlane.every((v, i) => i % 2 === 1 || (v >= Math.min(...xs) && v <= Math.max(...xs))), 'the means lie among the codes');
  await page.waitForTimeout(500);
  await screenshot(page, 'gmm-prior');

  // Resample: new samples from the same mixture; another K: a new fit.
  await page.locator('#gmm-prior [data-role="resample"]').click();
  await page.waitForFunction((seed) => window.latentLab.gmmPrior().prior?.seed !== seed, ae.seed);
  const resampled = (await prior()).prior;
  assert.deepEqual(resampled.weights, ae.weights);
  assert.notDeepEqual(resampled.samples, ae.samples);
  const asked = Date.now();
  await page.locator('#gmm-prior [data-role="k"]').fill('15');
  await page.locator('#gmm-prior [data-role="k"]').dispatchEvent('change');
  await waitForPrior('ae-2d', 15);
  const fifteen = (await prior()).prior;
  console.log(`K = 15: answered ${Date.now() - asked} ms after the change (encoding 10,000 training images and ${fifteen.emSteps} EM steps, in the worker)`);
  assert.ok(fifteen.logLikelihood >= ae.logLikelihood - 0.05, `15 components fit at least about as well: ${fifteen.logLikelihood} vs ${ae.logLikelihood}`);

  // The VAE: its codes were pulled towards N(0, I), so a mixture gains much less over it.
  await page.getByRole('button', { name: 'VAE', exact: true }).click();
  await waitForPrior('vae-2d', 15);
  const vae = (await prior()).prior;
  const gain = (p) => p.logLikelihood - p.standardNormalLogLikelihood;
  console.log(`gain of the mixture over N(0, I), nats per code: AE ${gain(fifteen).toFixed(2)}, VAE ${gain(vae).toFixed(2)}`);
  assert.ok(gain(vae) < gain(fifteen), 'the VAE’s codes are closer to N(0, I) than the autoencoder’s');
  assert.ok((await page.evaluate(() => window.latentLab.generation()))?.count > 0, 'the N(0, I) samples are shown beside it');
  assert.deepEqual(problems, []);
  await page.close();
});

test('quantization step by step: distances to every code, the argmin and the lookup', async () => {
  const { page, problems } = await openLoadedPage(env.browser, `${env.server.url}?lecture=quantize`);
  await page.waitForFunction(() => window.latentLab.state().loaded?.name === 'vq-l16' && window.latentLab.quantize().index === 0, null, {
    timeout: 60_000,
  });
  const codebook = await codebookOf('vq-l16');
  const q = await page.evaluate(() => window.latentLab.quantize());
  const { codebookSize: k, codeDim: d, positions: l } = q;
  assert.deepEqual([k, d, l], [16, 2, 16]);
  for (let p = 0; p < l; p++) {
    const z = q.zE.slice(p * d, (p + 1) * d);
    let best = 0;
    for (let c = 0; c < k; c++) {
      const dist = Math.hypot(...z.map((v, j) => v - codebook[c * d + j]));
      assertClose(q.distances[p * k + c], dist, 1e-5, `position ${p}, code ${c}`);
      if (dist < Math.hypot(...z.map((v, j) => v - codebook[best * d + j]))) best = c;
    }
    assert.equal(q.nearest[p], best, `position ${p}: the argmin`);
    assert.deepEqual(q.zQ.slice(p * d, (p + 1) * d), codebook.slice(best * d, (best + 1) * d), 'the lookup');
    for (let j = 0; j < d; j++) assertClose(q.offset[p * d + j], q.zQ[p * d + j] - q.zE[p * d + j], 1e-6, 'e − z_e');
  }
  // The model's own quantization of the same digit (the symbolic image) agrees.
  await page.waitForFunction(() => window.latentLab.symbolic().codes?.length === 16);
  assert.deepEqual((await page.evaluate(() => window.latentLab.symbolic())).codes, q.nearest);
  assert.match(q.lookup, new RegExp(`k\\* = argmin_k ‖z_e − e_k‖₂ = ${q.nearest[0]} `));
  assert.match(q.lookup, /z_q = z_e \+ sg\[e − z_e\]/);

  // Another position: its bars and its lookup.
  await page.locator('#quantize .code-cell').nth(5).click();
  const five = await page.evaluate(() => window.latentLab.quantize());
  assert.equal(five.position, 5);
  assert.match(five.lookup, new RegExp(`= ${q.nearest[5]} `));
  console.log(`test image 0: codes ${q.nearest.join(' ')}; position 5 at distance ${q.distances[5 * k + q.nearest[5]].toFixed(3)}`);
  await screenshot(page, 'quantize', { selector: '#quantize' });

  // Another digit picked: the panel follows it.
  const point = await page.evaluate(() => window.latentLab.pointOnScreen(7));
  await page.mouse.click(point.x, point.y);
  await page.waitForFunction(() => window.latentLab.quantize().index !== 0 && window.latentLab.quantize().index !== null);
  assert.deepEqual(problems, []);
  await page.close();
});
