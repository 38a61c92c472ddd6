// The offline cache: registers the service worker (sw.js), which keeps the page, the model
// code, the data and the checkpoints so that a lecture survives a dead network. It never
// blocks the page from starting.

let registered = false;

/** Registers sw.js once, then tells it what the page loaded before it took control. */
export function registerOffline() {
  if (registered || !('serviceWorker' in navigator)) return;
  registered = true;
  navigator.serviceWorker.register('./sw.js').catch((err) => console.warn(`offline cache unavailable: ${err.message}`));
  navigator.serviceWorker.ready.then((registration) => {
    const urls = [location.href, ...performance.getEntriesByType('resource').map((entry) => entry.name)];
    registration.active?.postMessage({ type: 'cache', urls });
  });
}
