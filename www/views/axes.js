// Axis helpers shared by the canvas views: round tick values and a canvas sized to its CSS box.

/** Tick values in [lo, hi] at a step of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(lo, hi, count = 5) {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return [];
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    // Snap away float noise such as 0.30000000000000004 and −0.
    ticks.push(Number((Math.round(v / step) * step).toPrecision(12)) + 0);
  }
  return ticks;
}

/** Tick label with no more decimals than the tick spacing needs. */
export function formatTick(value, ticks) {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return value.toFixed(decimals);
}

/**
 * Keeps `canvas`'s backing store at its CSS size × devicePixelRatio and calls `onResize`
 * after each change, so drawing stays sharp. Returns the 2-D context, scaled to CSS pixels.
 */
export function fitCanvas(canvas, onResize) {
  const ctx = canvas.getContext('2d');
  const resize = () => {
    const dpr = window.devicePixelRatio || 1;
    const { width, height } = canvas.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(width * dpr));
    canvas.height = Math.max(1, Math.round(height * dpr));
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    onResize();
  };
  new ResizeObserver(resize).observe(canvas);
  resize();
  return ctx;
}
