// W = 1 against W = 2 … data-parallel workers, side by side in one browser engine: the part of
// bench.mjs that Firefox can run too (bench.mjs measures Chromium, with native and TF.js).
// Rounds interleave every W, so a busy machine slows them alike; each run prints the load
// average and how busy the machine was meanwhile, and beside img/s the pace of its median
// chunk of steps, which bursts of other work move less.
//
//   ENGINE=firefox node pkg-config/workers-bench.mjs [--rounds 3] [--seconds 5] [--max-workers 2] [--page 1]
//     [--isolated 1] [--shared 1]
//
// --page 1 measures the lab page itself instead (`?workers=W`, the workers train and the page
// only draws, as a student sees it): steps counted over --seconds after the first report.
// The page is served cross-origin isolated unless --isolated 0, so its replicas exchange shares
// through SharedArrayBuffers; --shared 0 makes the bench page's replicas use messages anyway.
// Needs the wasm in www/pkg (pkg-config/build.sh).
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

import { ENGINE, WWW, launchBrowser } from '../tests/page/engines/harness.mjs';
import { startServer } from '../tests/page/server.mjs';

const opts = { rounds: 3, seconds: 5, warmup: 1, chunk: 10, maxWorkers: Math.min(cpus().length, 8), page: 0, isolated: 1, shared: 1 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
  if (!(key in opts) || Number.isNaN(Number(argv[i + 1]))) throw new Error(`unknown flag or not a number: ${argv[i]} ${argv[i + 1]}`);
  opts[key] = Number(argv[i + 1]);
}

/** Fraction of all cores busy between two readings of /proc/stat. */
function busy() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return [total - fields[3] - fields[4], total];
}

const server = await startServer(WWW, { mounts: { 'bench/': join(WWW, '../pkg-config/bench') }, isolated: opts.isolated === 1 });
const browser = await launchBrowser();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The lab page with `workers` workers: img/s from the steps it takes in `seconds` of training. */
async function trainPage(workers, seconds) {
  const page = await browser.newPage();
  try {
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(`${server.url}?workers=${workers}`);
    await page.waitForSelector('#train:enabled', { timeout: 120_000 });
    await page.click('#train');
    await page.waitForFunction(() => window.latentLab.state().lastReport !== null, { timeout: 120_000 });
    await sleep(opts.warmup * 1000);
    const step = () => page.evaluate(() => window.latentLab.state().step);
    const [s0, t0, load, [b0, c0]] = [await step(), performance.now(), loadavg()[0], busy()];
    await sleep(seconds * 1000);
    const [s1, t1, [b1, c1]] = [await step(), performance.now(), busy()];
    const { batchSize } = await page.evaluate(() => window.latentLab.state().settings.train);
    return { imagesPerSec: ((s1 - s0) * batchSize) / ((t1 - t0) / 1000), workers, load, machineBusy: (b1 - b0) / (c1 - c0) };
  } finally {
    await page.close();
  }
}

try {
  if (opts.page) await compareRounds(trainPage, 'the lab page');
  else await compareRounds(await benchPage(), 'bench.html, replica 0 on its thread', true);
} finally {
  await browser.close();
  await server.close();
}

/**
 * `opts.rounds` rounds of W = 1, 2, … `opts.maxWorkers`, each measured by `run(W)` and printed
 * as a ratio to that round's W = 1; with `phases`, every replica's milliseconds per step too
 * (replica 0's first, then the helpers').
 */
async function compareRounds(run, what, phases = false) {
  const counts = Array.from({ length: opts.maxWorkers }, (_, i) => i + 1);
  console.log(`${ENGINE} (${await browser.version()}), ${cpus().length} cores; ${what}, ${opts.rounds} rounds × W = ${counts.join(', ')}, ${opts.seconds} s each`);
  console.log(`round  W  img/s    ×W=1  median step ms (×W=1)  load  machine busy${phases ? '  replica 0 | 1 | … ms/step: share/send/wait/apply' : ''}`);
  const ratios = new Map();
  const paces = new Map();
  for (let r = 1; r <= opts.rounds; r++) {
    let one = null;
    for (const w of counts) {
      const x = await run(w, opts.seconds);
      one ??= x;
      const ratio = x.imagesPerSec / one.imagesPerSec;
      ratios.set(w, [...(ratios.get(w) ?? []), ratio]);
      if (x.medianStepMs !== undefined) paces.set(w, [...(paces.get(w) ?? []), one.medianStepMs / x.medianStepMs]);
      // The lab page reports no chunk timings.
      const pace = x.medianStepMs === undefined ? '—'.padEnd(21) : `${x.medianStepMs.toFixed(2).padStart(6)} (${(one.medianStepMs / x.medianStepMs).toFixed(2)})`.padEnd(21);
      const phasesOf = (perStep) => ['share', 'send', 'wait', 'apply'].map((k) => perStep[k].toFixed(2)).join('/');
      const ms = !phases ? '' : `  ${x.perStepMs ? [x.perStepMs, ...x.helpersPerStepMs].map(phasesOf).join(' | ') : '—'}`;
      console.log(`${String(r).padEnd(7)}${String(w).padEnd(3)}${x.imagesPerSec.toFixed(0).padStart(6)}  ${ratio.toFixed(2).padStart(5)}  ${pace}  ${x.load.toFixed(1).padStart(4)}  ${(100 * x.machineBusy).toFixed(0).padStart(10)}%${ms}`);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(2);
  for (const [w, rs] of ratios) {
    if (w > 1) console.log(`W = ${w}: median ${median(rs)} × W = 1${paces.has(w) ? `; by the median step, ${median(paces.get(w))} ×` : ''}`);
  }
}

/** bench.html driven from here: `run(W, seconds)` trains W replicas, replica 0 on the page's thread. */
async function benchPage() {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  // pkg= skips TF.js: only Candle is measured here.
  await page.goto(`${server.url}bench/bench.html?driven&pkg=../pkg/latent_lab.js`);
  await page.evaluate(() => window.bench.ready);
  return async (workers, seconds) => {
    const call = (s) =>
      page.evaluate(
        ([w, o]) => (w === 1 ? window.bench.trainCandle(o) : window.bench.trainWorkers({ ...o, workers: w })),
        [workers, { seconds: s, chunk: opts.chunk, ...(opts.shared ? {} : { shared: false }) }],
      );
    await call(opts.warmup);
    const [b0, t0] = busy();
    const load = loadavg()[0];
    const result = await call(seconds);
    const [b1, t1] = busy();
    return { ...result, workers, load, machineBusy: (b1 - b0) / (t1 - t0) };
  };
}
