// Benchmark driver (run by bench.sh after it has built the native `bench` binary and the wasm):
// interleaves rounds of native Candle, Candle in headless Chromium and TF.js in the same page,
// then measures grid-decode latency, wasm memory and size, prints a table and writes JSON.
//
//   node pkg-config/bench.mjs --native target/release/bench [--rounds 3] [--seconds 6]
//        [--warmup 1] [--chunk 10] [--decode-calls 50] [--out tests/artifacts/bench.json] [--quality]
//        [--baseline-www DIR]
//
// --baseline-www names the www/ folder of another build (its pkg/ is what counts): every round
// then also trains that build's Candle in a second page, and both decode latencies are
// measured, so a change is judged against the old build under the same conditions.
//
// Timings are wall-clock throughput on a machine that may be busy, so every run also records
// how much CPU it actually got and how busy the whole machine was meanwhile.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

import { startServer } from '../tests/page/server.mjs';
import { launchChromium } from '../tests/page/browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WASM = join(ROOT, 'www/pkg/latent_lab_bg.wasm');
const TARGETS = { wasmOverNative: 0.5, wasmOverTfjs: 4, twoWorkersOverOne: 1.6, decodeMs: 8 };
// Data-parallel runs go from W = 2 up to the cores present, at most this many.
const MAX_WORKERS = 8;
// The 2-D VAE gets a 1024-unit hidden layer: with 512 it ended at 150.5 nats, just above the
// 150 target; with 1024, 149.8. The 20-D VAE meets its target (105) with the default 512.
const QUALITY_RUNS = [
  { latentDim: 2, hidden: 1024 },
  { latentDim: 20, hidden: 512 },
].map(({ latentDim, hidden }) => ({
  latentDim,
  args: ['run', '--release', '--locked', '--bin', 'train', '--',
    '--latent-dim', String(latentDim), '--hidden', String(hidden), '--epochs', '20'],
}));

function parseArgs(argv) {
  const opts = {
    native: join(ROOT, 'target/release/bench'),
    rounds: 3,
    seconds: 6,
    warmup: 1,
    chunk: 10,
    decodeCalls: 50,
    out: join(ROOT, 'tests/artifacts/bench.json'),
    quality: false,
    baselineWww: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--quality') {
      opts.quality = true;
      continue;
    }
    const key = flag.replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
    if (!(key in opts) || i + 1 >= argv.length) throw new Error(`unknown flag or missing value: ${flag}`);
    const value = argv[++i];
    opts[key] = typeof opts[key] === 'number' ? Number(value) : resolve(value);
    if (Number.isNaN(opts[key])) throw new Error(`${flag} needs a number, got ${value}`);
  }
  return opts;
}

/** Jiffies of all CPUs together: [busy, total]. */
function cpuJiffies() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3] + fields[4]; // idle + iowait
  return [total - idle, total];
}

/**
 * Runs `fn` and adds `machineBusy` (fraction of all cores busy meanwhile, us included) and
 * `othersCores` (cores' worth of work by everything else: the contention we competed with).
 * `ownCpu(result)` gives the seconds of CPU our run itself used.
 */
async function measured(fn, ownCpu) {
  const [b0, t0] = cpuJiffies();
  const result = await fn();
  const [b1, t1] = cpuJiffies();
  const machineBusy = (b1 - b0) / (t1 - t0);
  const own = await ownCpu(result);
  const cpuShare = own == null ? null : own / result.seconds;
  const othersCores = cpuShare == null ? null : machineBusy * cpus().length - cpuShare;
  return { ...result, machineBusy, cpuShare, othersCores };
}

async function runNative(opts) {
  const args = ['--seconds', opts.seconds, '--warmup', opts.warmup, '--chunk', opts.chunk, '--data', join(ROOT, 'www/data/mnist')].map(String);
  const { stdout } = await promisify(execFile)(opts.native, args, { cwd: ROOT });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Mean training loss over the steps (m − window, m] of each history, at milestones every
 * implementation reached: like-for-like learning curves despite different speeds.
 */
function lossAtSteps(histories, window = 50) {
  const reached = Math.min(...Object.values(histories).map((h) => h.at(-1)[0]));
  const milestones = [50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000].filter((m) => m <= reached);
  if (!milestones.includes(reached)) milestones.push(reached);
  return milestones.map((m) => {
    const row = { step: m };
    for (const [name, h] of Object.entries(histories)) {
      const inWindow = h.filter(([s]) => s > m - window && s <= m).map(([, l]) => l);
      row[name] = inWindow.reduce((a, b) => a + b, 0) / inWindow.length;
    }
    return row;
  });
}

/** Trains the train CLI to the end and returns the last epoch's test −ELBO. */
function qualityRun({ latentDim, args }) {
  return new Promise((ok, fail) => {
    const child = spawn('cargo', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk;
      process.stderr.write(chunk);
    });
    child.on('error', fail);
    child.on('close', (code) => {
      const epochs = text.split('\n').filter((l) => l.startsWith('epoch'));
      const elbo = epochs.at(-1)?.match(/-ELBO\s+([\d.]+)/)?.[1];
      if (code !== 0 || !elbo) fail(new Error(`train CLI (latent dim ${latentDim}) exited ${code} without a final -ELBO`));
      else ok({ latentDim, epochs: epochs.length, testNegElbo: Number(elbo), command: `cargo ${args.join(' ')}` });
    });
  });
}

const fmt = (x, digits = 0) => (x == null ? '—' : x.toFixed(digits));
const pct = (x) => (x == null ? '—' : `${(100 * x).toFixed(0)}%`);

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const report = {
    date: new Date().toISOString(),
    options: opts,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavgBefore: loadavg() },
  };

  const wasmBytes = readFileSync(WASM);
  report.wasmSize = { raw: wasmBytes.length, gzip9: gzipSync(wasmBytes, { level: 9 }).length };

  // The benchmark page lives outside the app (pkg-config/bench/) and is served beside it at
  // bench/, so it reaches www/pkg, www/data and www/vendor as ../pkg and so on.
  const mounts = { 'bench/': join(ROOT, 'pkg-config/bench') };
  if (opts.baselineWww) mounts['baseline-pkg/'] = join(opts.baselineWww, 'pkg');
  const server = await startServer(join(ROOT, 'www'), { mounts });
  const browser = await launchChromium({
    // A headless page is "visible", but make sure no timer or renderer throttling applies.
    args: ['--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
  });
  try {
    const cdp = await browser.newBrowserCDPSession();
    const rendererCpu = async () => {
      const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
      return processInfo.filter((p) => p.type === 'renderer').reduce((a, p) => a + p.cpuTime, 0);
    };
    const openPage = async (query) => {
      const p = await browser.newPage();
      p.on('pageerror', (e) => console.error(`[page] ${e.message}`));
      p.on('console', (m) => m.type() === 'error' && console.error(`[page] ${m.text()}`));
      await p.goto(`${server.url}bench/bench.html?driven${query}`);
      return p;
    };
    const page = await openPage('');
    report.page = await page.evaluate(() => window.bench.ready);
    report.browser = browser.version();
    const baselinePage = opts.baselineWww && (await openPage('&pkg=../baseline-pkg/latent_lab.js'));
    if (baselinePage) await baselinePage.evaluate(() => window.bench.ready);

    // Warm-up and measurement are separate calls so the renderer's CPU time brackets exactly
    // the measured part; the warm-up's losses still join the learning curve.
    const inPage = async (fnName, target = page, extra = {}) => {
      const warm = await target.evaluate(([f, o]) => window.bench[f](o), [fnName, { seconds: opts.warmup, chunk: opts.chunk, ...extra }]);
      const cpu0 = await rendererCpu();
      const result = await target.evaluate(([f, o]) => window.bench[f](o), [fnName, { seconds: opts.seconds, chunk: opts.chunk, ...extra }]);
      const rendererCpuSeconds = (await rendererCpu()) - cpu0;
      return { ...result, rendererCpuSeconds, history: [...warm.history, ...result.history] };
    };
    report.rounds = [];
    const workerCounts = Array.from({ length: Math.min(cpus().length, MAX_WORKERS) - 1 }, (_, i) => i + 2);
    for (let r = 1; r <= opts.rounds; r++) {
      const round = { round: r, loadavg: loadavg()[0] };
      round.native = await measured(() => runNative(opts), (res) => res.cpuSeconds);
      round.candle = await measured(() => inPage('trainCandle'), (res) => res.rendererCpuSeconds);
      if (baselinePage) {
        round.baseline = await measured(() => inPage('trainCandle', baselinePage), (res) => res.rendererCpuSeconds);
        round.wasmOverBaseline = round.candle.imagesPerSec / round.baseline.imagesPerSec;
      }
      // W = 2 … cores: the same model trained data-parallel; W = 1 is the Candle run above.
      round.workers = [];
      for (const w of workerCounts) {
        const run = await measured(() => inPage('trainWorkers', page, { workers: w }), (res) => res.rendererCpuSeconds);
        round.workers.push({ ...run, overW1: run.imagesPerSec / round.candle.imagesPerSec });
      }
      round.tfjs = await measured(() => inPage('trainTfjs'), (res) => res.rendererCpuSeconds);
      round.wasmOverNative = round.candle.imagesPerSec / round.native.imagesPerSec;
      round.wasmOverTfjs = round.candle.imagesPerSec / round.tfjs.imagesPerSec;
      // Images per CPU-second: a rough correction for runs that did not get a whole core
      // (it cannot undo shared caches or memory bandwidth).
      const perCpu = (x) => x.imagesPerSec / x.cpuShare;
      round.perCpu = { wasmOverNative: perCpu(round.candle) / perCpu(round.native), wasmOverTfjs: perCpu(round.candle) / perCpu(round.tfjs) };
      report.rounds.push(round);
      console.error(
        `[bench] round ${r}: native ${fmt(round.native.imagesPerSec)}  wasm ${fmt(round.candle.imagesPerSec)}  ${round.workers.map((x) => `W=${x.workers} ${fmt(x.imagesPerSec)}`).join('  ')}  tfjs ${fmt(round.tfjs.imagesPerSec)} img/s`,
      );
    }
    report.decodeGrid = await page.evaluate((n) => window.bench.decodeLatency(n), opts.decodeCalls);
    report.decodeGridSplit = await page.evaluate((n) => window.bench.decodeSplitLatency(n), opts.decodeCalls);
    if (baselinePage) report.baselineDecodeGrid = await baselinePage.evaluate((n) => window.bench.decodeLatency(n), opts.decodeCalls);
    report.wasmMemoryAfterTraining = await page.evaluate(() => window.bench.wasmMemory());
  } finally {
    await browser.close();
    await server.close();
  }
  report.machine.loadavgAfter = loadavg();

  const rounds = report.rounds;
  const med = (f) => median(rounds.map(f));
  report.summary = {
    nativeImagesPerSec: med((r) => r.native.imagesPerSec),
    wasmImagesPerSec: med((r) => r.candle.imagesPerSec),
    tfjsImagesPerSec: med((r) => r.tfjs.imagesPerSec),
    wasmOverNative: med((r) => r.wasmOverNative),
    wasmOverTfjs: med((r) => r.wasmOverTfjs),
    perCpuWasmOverNative: med((r) => r.perCpu.wasmOverNative),
    perCpuWasmOverTfjs: med((r) => r.perCpu.wasmOverTfjs),
    workers: (rounds[0].workers ?? []).map(({ workers }, k) => ({
      workers,
      imagesPerSec: med((r) => r.workers[k].imagesPerSec),
      overW1: med((r) => r.workers[k].overW1),
    })),
    baselineImagesPerSec: opts.baselineWww ? med((r) => r.baseline.imagesPerSec) : null,
    wasmOverBaseline: opts.baselineWww ? med((r) => r.wasmOverBaseline) : null,
  };
  report.targets = {
    wasmOverNative: { target: TARGETS.wasmOverNative, met: report.summary.wasmOverNative >= TARGETS.wasmOverNative },
    wasmOverTfjs: { target: TARGETS.wasmOverTfjs, met: report.summary.wasmOverTfjs >= TARGETS.wasmOverTfjs },
  };
  const two = report.summary.workers.find((x) => x.workers === 2);
  if (two) report.targets.twoWorkersOverOne = { target: TARGETS.twoWorkersOverOne, met: two.overW1 >= TARGETS.twoWorkersOverOne };
  // Native restarts every round; the page's models carry on, so their histories concatenate.
  report.lossAtSteps = lossAtSteps({
    native: rounds[0].native.history,
    wasm: rounds.flatMap((r) => r.candle.history),
    tfjs: rounds.flatMap((r) => r.tfjs.history),
  });

  mkdirSync(dirname(opts.out), { recursive: true });
  const save = () => writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  save();

  const p = report.page;
  const lines = [];
  const say = (s = '') => lines.push(s);
  say(`Latent Lab benchmark — ${report.date}`);
  say(`model: ${p.model.kind} ${p.model.arch} hidden ${p.model.hidden}, latent ${p.model.latentDim}; batch ${p.train.batchSize}, lr ${p.train.learningRate}, ${p.trainImages} MNIST training images`);
  say(`browser: Chromium ${report.browser} headless; TF.js ${p.tfjs.version} ${p.tfjs.backend} backend, SIMD ${p.tfjs.simd}, threads ${p.tfjs.threads} (crossOriginIsolated ${p.tfjs.crossOriginIsolated})`);
  say(`all three single-threaded; ${opts.rounds} rounds × (native, wasm, tfjs), each ${opts.warmup} s warm-up + ${opts.seconds} s measured, ${opts.chunk} steps per call`);
  say(`machine: ${report.machine.cpus} × ${report.machine.cpuModel}; load average ${report.machine.loadavgBefore[0].toFixed(2)} before, ${report.machine.loadavgAfter[0].toFixed(2)} after`);
  say();
  say('training throughput (images/s); cpu = share of a core the run got; others = cores busy with other work meanwhile');
  say('round   native (cpu, others)      wasm Candle (cpu, others)  TF.js wasm (cpu, others)   wasm/native  wasm/tfjs');
  const cell = (x) => `${fmt(x.imagesPerSec).padStart(6)} (${pct(x.cpuShare).padStart(4)}, ${fmt(x.othersCores, 2)})`.padEnd(27);
  for (const r of rounds) {
    say(`${String(r.round).padEnd(8)}${cell(r.native)}${cell(r.candle)}${cell(r.tfjs)}${fmt(r.wasmOverNative, 2).padStart(11)}${fmt(r.wasmOverTfjs, 2).padStart(11)}`);
  }
  const s = report.summary;
  say(`median  ${fmt(s.nativeImagesPerSec).padStart(6).padEnd(27)}${fmt(s.wasmImagesPerSec).padStart(6).padEnd(27)}${fmt(s.tfjsImagesPerSec).padStart(6).padEnd(27)}${fmt(s.wasmOverNative, 2).padStart(11)}${fmt(s.wasmOverTfjs, 2).padStart(11)}`);
  say(`per CPU-second (img/s ÷ cpu share), median: wasm/native ${fmt(s.perCpuWasmOverNative, 2)}, wasm/tfjs ${fmt(s.perCpuWasmOverTfjs, 2)}; per round ${rounds.map((r) => `${fmt(r.perCpu.wasmOverNative, 2)}/${fmt(r.perCpu.wasmOverTfjs, 2)}`).join(', ')}`);
  const t = report.targets;
  say(`targets: wasm ≥ ${t.wasmOverNative.target} × native: ${t.wasmOverNative.met ? 'MET' : 'NOT MET'} (${fmt(s.wasmOverNative, 2)}); wasm ≥ ${t.wasmOverTfjs.target} × TF.js: ${t.wasmOverTfjs.met ? 'MET' : 'NOT MET'} (${fmt(s.wasmOverTfjs, 2)})`);
  if (s.workers.length) {
    say();
    say('data-parallel training in Chromium (wasm Candle), W workers side by side in each round; W = 1 is the wasm Candle column above');
    say('cpu = cores\' worth the renderer got (up to W); per-step ms of replica 0: share (half batch + gradient out) / send / wait / apply (gradients in, reduce, AdamW)');
    say(`round   load  W=1 img/s (cpu)    ${s.workers.map((x) => `W=${x.workers} img/s (cpu, others)  ratio  share/send/wait/apply ms`.padEnd(62)).join('')}`);
    for (const r of rounds) {
      const cells = r.workers.map((x) => {
        const ms = x.perStepMs;
        return `${fmt(x.imagesPerSec).padStart(10)} (${pct(x.cpuShare)}, ${fmt(x.othersCores, 2)})${fmt(x.overW1, 2).padStart(8)}  ${[ms.share, ms.send, ms.wait, ms.apply].map((v) => fmt(v, 2)).join('/')}`.padEnd(62);
      });
      say(`${String(r.round).padEnd(8)}${fmt(r.loadavg, 1).padEnd(6)}${fmt(r.candle.imagesPerSec).padStart(9)} (${pct(r.candle.cpuShare)})`.padEnd(35) + cells.join(''));
    }
    say(`median${' '.repeat(14)}${fmt(s.wasmImagesPerSec).padStart(9)}`.padEnd(35) + s.workers.map((x) => `${fmt(x.imagesPerSec).padStart(10)}${' '.repeat(14)}${fmt(x.overW1, 2).padStart(8)}`.padEnd(62)).join(''));
    if (t.twoWorkersOverOne) say(`target: W = 2 ≥ ${t.twoWorkersOverOne.target} × W = 1: ${t.twoWorkersOverOne.met ? 'MET' : 'NOT MET'} (${fmt(two.overW1, 2)})`);
  }
  say();
  say('training loss (−ELBO per image, nats; mean of the 50 steps up to the step); native and wasm share seeds, TF.js has its own RNG');
  say('step      native     wasm      tfjs');
  for (const row of report.lossAtSteps) say(`${String(row.step).padEnd(8)}${fmt(row.native, 1).padStart(8)}${fmt(row.wasm, 1).padStart(10)}${fmt(row.tfjs, 1).padStart(10)}`);
  say(`TF.js live tensors after each round: ${rounds.map((r) => r.tfjs.tensors).join(', ')} (constant = no leak)`);
  say();
  const d = report.decodeGrid;
  const decodeLine = (name, x) =>
    say(`${name}decoded 20 × 20 grid over [−3, 3]² after training, ${x.calls} calls: median ${fmt(x.medianMs, 1)} ms, p95 ${fmt(x.p95Ms, 1)} ms (min ${fmt(x.minMs, 1)}, max ${fmt(x.maxMs, 1)})`);
  decodeLine('', d);
  const split = report.decodeGridSplit;
  say(`the same grid on two cores as the paused lab page decodes it (upper half here, lower half in the replica worker), ${split.calls} calls: median ${fmt(split.medianMs, 1)} ms, p95 ${fmt(split.p95Ms, 1)} ms (min ${fmt(split.minMs, 1)}, max ${fmt(split.maxMs, 1)}); target p95 ≤ ${TARGETS.decodeMs} ms: ${split.p95Ms <= TARGETS.decodeMs ? 'MET' : 'NOT MET'}`);
  if (opts.baselineWww) {
    decodeLine('baseline build: ', report.baselineDecodeGrid);
    say();
    say(`this build against the baseline build (${opts.baselineWww}), wasm Candle in the same browser, rounds interleaved:`);
    say(`round   this build (cpu)   baseline (cpu)   this/baseline`);
    for (const r of rounds) say(`${String(r.round).padEnd(8)}${fmt(r.candle.imagesPerSec).padStart(8)} (${pct(r.candle.cpuShare)})    ${fmt(r.baseline.imagesPerSec).padStart(8)} (${pct(r.baseline.cpuShare)})  ${fmt(r.wasmOverBaseline, 2).padStart(10)}`);
    say(`median  ${fmt(s.wasmImagesPerSec).padStart(8)}           ${fmt(s.baselineImagesPerSec).padStart(8)}         ${fmt(s.wasmOverBaseline, 2).padStart(10)}`);
  }
  const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  say(`wasm memory: ${mib(p.wasmMemoryAfterData)} after loading data, ${mib(report.wasmMemoryAfterTraining)} after training`);
  say(`wasm size: ${mib(report.wasmSize.raw)} raw, ${mib(report.wasmSize.gzip9)} gzip -9 (www/pkg/latent_lab_bg.wasm)`);
  say(`full results: ${opts.out}`);
  console.log(lines.join('\n'));

  // Minutes per model, so it comes after the table; its epoch lines go to stderr meanwhile.
  if (!opts.quality) {
    console.log('\nquality (test −ELBO on the 10,000 test digits) is not re-measured here; bench.sh --quality runs:');
    for (const q of QUALITY_RUNS) console.log(`  cargo ${q.args.join(' ')}`);
    return;
  }
  report.quality = [];
  for (const q of QUALITY_RUNS) {
    const result = await qualityRun(q);
    report.quality.push(result);
    save();
    console.log(`quality: ${q.latentDim}-D VAE, ${result.epochs} epochs: test −ELBO ${result.testNegElbo.toFixed(2)} nats  (${result.command})`);
  }
}

main().catch((err) => {
  console.error(`[bench] error: ${err.stack ?? err}`);
  process.exit(1);
});
