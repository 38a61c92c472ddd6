// The page's read-only handle for tests and the console: `window.latentLab.<view>()` returns
// what that view shows, `state()` a copy of the page state.

/**
 * @param {import('./state.js').PageState} state
 * @param {object} scatter the main map (views/scatter.js)
 * @param {Object<string, {snapshot: () => object}>} views by the name the handle gives them
 */
export function exposeHandle(state, scatter, views) {
  const snapshots = Object.fromEntries(Object.entries(views).map(([name, view]) => [name, () => view.snapshot()]));
  const handle = Object.freeze({
    ...snapshots,
    state: () => state.snapshot(),
    scatter: () => scatter.snapshot(),
    /** Where scatter point `index` is drawn, in viewport pixels (null before the first draw). */
    pointOnScreen: (index) => handle.planeOnScreen(scatter.plane[2 * index], scatter.plane[2 * index + 1]),
    /** Where plane point (x, y) is drawn, in viewport pixels (null before the first draw). */
    planeOnScreen: (x, y) => {
      const { transform } = scatter;
      if (!transform) return null;
      const box = scatter.canvas.getBoundingClientRect();
      return { x: box.left + transform.px(x), y: box.top + transform.py(y) };
    },
  });
  window.latentLab = handle;
}
