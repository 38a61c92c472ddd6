// Interaction latency of the lab page (issue 3's quality bar), measured in headless Chromium:
//   - slider moved → its decoded image drawn, and pointer on a map point → its hover card with
//     the reconstruction drawn (User Timing measures of the two views), with the model paused
//     and while it trains;
//   - a wheel zoom of the paused map → its 20 × 20 decoded manifold drawn;
//   - main-thread long tasks (> 50 ms, the Long Tasks API) while training runs with the map,
//     metrics and pictures refreshing and the slider being dragged.
// A benchmark that prints numbers, not a test: run by bench.sh, or on its own with
//   node pkg-config/latency.mjs [--moves 120] [--hovers 40] [--zooms 40] [--train-seconds 20] [--out tests/artifacts/latency.json]
//        [--baseline-www DIR]
// --baseline-www measures another build's page (a complete www/ folder) too, right after this
// one's, so the two are compared under the same conditions.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer } from '../tests/page/server.mjs';
import { launchChromium } from '../tests/page/browser.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Must match LATENCY_MEASURE in www/views/traversal.js, HOVER_MEASURE in www/views/hovercard.js
// and GRID_MEASURE in www/views/manifold.js.
const SLIDER_MEASURE = 'latent-lab:slider-to-image';
const HOVER_MEASURE = 'latent-lab:hover-to-card';
const GRID_MEASURE = 'latent-lab:map-to-grid';
// Longer than the page's least time between manifold requests (MANIFOLD.minMs, 400 ms), so
// every zoom asks for its own grid.
const ZOOM_INTERVAL_MS = 450;
// One move per frame: what a steady drag delivers.
const MOVE_INTERVAL_MS = 16;
const TARGETS = { sliderMs: 16, longTaskMs: 50, gridMs: 8 };

function parseArgs(argv) {
  const opts = { moves: 120, hovers: 40, zooms: 40, trainSeconds: 20, out: join(ROOT, 'tests/artifacts/latency.json'), baselineWww: null };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
    if (!(key in opts) || i + 1 >= argv.length) throw new Error(`unknown flag or missing value: ${argv[i]}`);
    opts[key] = typeof opts[key] === 'number' ? Number(argv[i + 1]) : resolve(argv[i + 1]);
  }
  return opts;
}

function stats(xs) {
  if (xs.length === 0) return { count: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { count: s.length, medianMs: at(0.5), p95Ms: at(0.95), maxMs: s.at(-1) };
}

/** Drags slider z1 back and forth `moves` times, one move per frame; returns the latencies of the redraws. */
async function dragSlider(page, moves) {
  await page.evaluate(() => performance.clearMeasures());
  const slider = page.getByRole('slider', { name: 'z1', exact: true });
  await slider.focus();
  for (let i = 0; i < moves; i++) {
    // 40 steps right, 40 left: the decoded image keeps changing.
    await page.keyboard.press(Math.floor(i / 40) % 2 === 0 ? 'ArrowRight' : 'ArrowLeft');
    await page.waitForTimeout(MOVE_INTERVAL_MS);
  }
  await page.waitForFunction(() => !window.latentLab.traversal().inFlight, null, { timeout: 30_000 });
  return page.evaluate((name) => performance.getEntriesByName(name).map((e) => e.duration), SLIDER_MEASURE);
}

/** Moves the pointer from point to point of the map `count` times; returns the latencies of the cards. */
async function hoverPoints(page, count) {
  await page.evaluate(() => performance.clearMeasures());
  for (let i = 0; i < count; i++) {
    const at = await page.evaluate((index) => window.latentLab.pointOnScreen(index), 37 * i);
    await page.mouse.move(at.x, at.y);
    // Long enough for the card to come back before the pointer moves on, as a reader would wait.
    await page.waitForTimeout(120);
  }
  await page.mouse.move(0, 0);
  return page.evaluate((name) => performance.getEntriesByName(name).map((e) => e.duration), HOVER_MEASURE);
}

/**
 * Zooms the map in and out `count` times about its centre, one wheel turn at a time; returns
 * the time from each zoom's grid request to that 20 × 20 grid drawn under the map.
 */
async function zoomMap(page, count) {
  await page.evaluate(() => performance.clearMeasures());
  const box = await page.locator('#scatter').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < count; i++) {
    await page.mouse.wheel(0, Math.floor(i / 5) % 2 === 0 ? -60 : 60);
    await page.waitForTimeout(ZOOM_INTERVAL_MS);
  }
  await page.mouse.move(0, 0);
  return page.evaluate((name) => performance.getEntriesByName(name).map((e) => e.duration), GRID_MEASURE);
}

/** The page's latencies for the app served from `www`: sliders and hovers paused and training, long tasks. */
async function measureApp(www, opts) {
  const report = { www, loadavgBefore: loadavg() };
  const server = await startServer(www);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
    // Long tasks from the very start, so none slips past before the observer exists.
    await page.addInitScript(() => {
      window.longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.longTasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    });
    await page.goto(`${server.url}?model=vae&d=2&manifold=1`);
    await page.locator('#train:enabled').waitFor({ timeout: 120_000 });
    report.settings = await page.evaluate(() => window.latentLab.state().settings);

    report.sliderPaused = stats(await dragSlider(page, opts.moves));
    report.hoverPaused = stats(await hoverPoints(page, opts.hovers));
    report.gridPaused = stats(await zoomMap(page, opts.zooms));

    await page.click('#train');
    await page.waitForTimeout(2000);
    const trainingFrom = await page.evaluate(() => performance.now());
    report.sliderTraining = stats(await dragSlider(page, opts.moves));
    report.hoverTraining = stats(await hoverPoints(page, opts.hovers));
    const dragged = await page.evaluate(() => performance.now());
    await page.waitForTimeout(Math.max(0, opts.trainSeconds * 1000 - (dragged - trainingFrom)));
    const trainingTo = await page.evaluate(() => performance.now());
    const state = await page.evaluate(() => window.latentLab.state());
    await page.click('#train');
    const longTasks = await page.evaluate(
      ([from, to]) => window.longTasks.filter((t) => t.start >= from && t.start <= to).map((t) => t.duration),
      [trainingFrom, trainingTo],
    );
    report.training = { seconds: (trainingTo - trainingFrom) / 1000, stepsAtEnd: state.step };
    report.longTasksWhileTraining = stats(longTasks);
  } finally {
    await browser.close();
    await server.close();
  }
  report.loadavgAfter = loadavg();
  return report;
}

/** Prints one build's figures. */
function print(report, title) {
  const f = (x) => (x == null ? '—' : x.toFixed(1));
  const line = (name, s, target) =>
    `${name.padEnd(34)} n=${String(s.count).padStart(4)}  median ${f(s.medianMs)} ms  p95 ${f(s.p95Ms)} ms  max ${f(s.maxMs)} ms  (target p95 ≤ ${target} ms: ${s.count === 0 || s.p95Ms <= target ? 'met' : 'NOT met'})`;
  const m = report.settings.model;
  console.log(`${title}: ${m.kind} ${m.arch} hidden ${m.hidden}, latent ${m.latentDim}; load average ${report.loadavgBefore[0].toFixed(2)} (${report.www})`);
  console.log(line('slider → image, paused', report.sliderPaused, TARGETS.sliderMs));
  console.log(line('slider → image, while training', report.sliderTraining, TARGETS.sliderMs));
  console.log(line('hover → card, paused', report.hoverPaused, TARGETS.sliderMs));
  console.log(line('hover → card, while training', report.hoverTraining, TARGETS.sliderMs));
  if (report.gridPaused) console.log(line('map zoom → 20 × 20 grid drawn, paused', report.gridPaused, TARGETS.gridMs));
  console.log(line(`main-thread long tasks, ${report.training.seconds.toFixed(0)} s training`, report.longTasksWhileTraining, TARGETS.longTaskMs));
  console.log(`(${report.training.stepsAtEnd} steps trained; long tasks are only those over 50 ms, so n = 0 is the goal)`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const report = { date: new Date().toISOString(), options: opts };
  report.thisBuild = await measureApp(join(ROOT, 'www'), opts);
  if (opts.baselineWww) report.baseline = await measureApp(opts.baselineWww, opts);
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`Latent Lab interaction latency — ${report.date}`);
  print(report.thisBuild, 'this build');
  if (report.baseline) print(report.baseline, 'baseline build');
  console.log(`full results: ${opts.out}`);
}

main().catch((err) => {
  console.error(`[latency] error: ${err.stack ?? err}`);
  process.exit(1);
});
