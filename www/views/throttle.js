// Redraw pacing shared by the views that redraw on every report.

/**
 * A function that runs `fn` soon, but at most once every `minMs`: calls in between fold into
 * the one already scheduled, so a burst of reports costs one redraw.
 */
export function throttled(fn, minMs) {
  let timer = 0;
  let ranAt = -Infinity;
  return () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = 0;
      ranAt = performance.now();
      fn();
    }, Math.max(0, ranAt + minMs - performance.now()));
  };
}
