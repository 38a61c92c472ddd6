// The page's read-only handle for tests and the console: `window.latentLab.<view>()` returns
// what that view shows, `state()` a copy of the page state.

/**
 * Exposes the handle at once, before the views that wait for the settings schema exist: each
 * name reads its view when called (null until the view exists).
 * @param {import('./state.js').PageState} state
 * @param {object} scatter the main map (views/scatter.js)
 * @param {string[]} names the views the handle offers
 * @param {Object<string, {snapshot: () => object}>} views by name, filled in as they are made
 */
export function exposeHandle(state, scatter, names, views) {
  const snapshots = Object.fromEntries(names.map((name) => [name, () => views[name]?.snapshot() ?? null]));
  const handle = Object.freeze({
    ...snapshots,
    state: () => state.snapshot(),
    scatter: () => scatter.snapshot(),
    /** The traversal image's grey levels, read from its canvas (a promise; null before the view exists). */
    traversalImage: () => views.traversal?.readImage() ?? Promise.resolve(null),
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
