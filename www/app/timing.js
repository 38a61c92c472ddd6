// Interaction latencies as User Timing measures, which pkg-config/latency.mjs reads. The
// browser keeps every measure until it is cleared: a page left open for a lecture would hold
// one per slider move and per hover (the 30-minute soak's JS objects grew 21 %, 1.5 MB), so
// each name is cleared once it holds more than MEASURES_KEPT.

const MEASURES_KEPT = 1000;
// How often the count is read from the browser (reading it allocates a list of them all).
const CHECK_EVERY = 100;
const sinceCheck = new Map();

/** Records `name` from `start` to `end` (performance.now() times; `end` now unless given). */
export function measureSince(name, start, end = performance.now()) {
  performance.measure(name, { start, end });
  const count = ((sinceCheck.get(name) ?? 0) + 1) % CHECK_EVERY;
  sinceCheck.set(name, count);
  if (count === 0 && performance.getEntriesByName(name, 'measure').length > MEASURES_KEPT) performance.clearMeasures(name);
}
