// Service worker: keeps the lab working when the network goes, and makes it installable.
//
// Two caches with two strategies:
// - the page's own files (HTML, modules, styles, the wasm, icons, the checkpoint list) are
//   fetched network-first, so a reload during development always sees the latest build, and
//   the cached copy answers only when the network fails or hangs;
// - the datasets and the checkpoints are large and never change under the same address (a
//   checkpoint's address carries its hash), so they are served cache-first.
// Precached at install: the files below, the wasm module this browser runs, the bundled MNIST
// and every shipped checkpoint, learned prior and the judge. Any other same-origin file the
// page fetches later (Fashion-MNIST, a view module) is cached as it passes, and main.js sends
// the list of what it loaded before this worker took control.
// Only this origin's successful answers are kept: requests elsewhere pass untouched, and a
// response that was redirected to another origin, or is an error, is never cached.

const VERSION = 'v14';
const SHELL = `latent-lab-shell-${VERSION}`;
const STATIC = `latent-lab-static-${VERSION}`;

// What main.js imports reaches the cache through the list it sends; the training worker's
// modules are not visible to the page, so they are listed here: a module imported only by
// workers/ must be added (the page test that reloads offline fails otherwise).
const SHELL_FILES = [
  './',
  'index.html',
  'styles/base.css',
  'styles/map.css',
  'styles/charts.css',
  'styles/latent.css',
  'styles/discrete.css',
  'app/main.js',
  'workers/worker.js',
  'workers/followers.js',
  'workers/pacing.js',
  'workers/download.js',
  'workers/staging.js',
  'workers/replica.js',
  'workers/allreduce.js',
  'workers/shard.js',
  'workers/team.js',
  'workers/images.js',
  'vendor/fflate/browser.js',
  'workers/prior.js',
  'workers/judge.js',
  'workers/shallow.js',
  'app/protocol.js',
  'app/config.js',
  'pkg/latent_lab.js',
  'app/wasm.js',
  'manifest.webmanifest',
  'icons/icon.svg',
  'icons/icon-192.png',
  'icons/icon-512.png',
  'checkpoints/manifest.json',
];
const MNIST = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'].map(
  (name) => `data/mnist/${name}`,
);
// A page file that takes longer than this comes from the cache (a lecture hall's network may
// hang rather than fail); the network's answer still refreshes the cache when it arrives.
const NETWORK_TIMEOUT_MS = 4000;

const scoped = (path) => new URL(path, self.registration.scope).href;

/** A same-origin ('basic') answer with a 2xx status: what may be replayed offline. */
const cacheable = (response) => response.ok && response.type === 'basic';

/** The answer to `url` from past the HTTP cache; fails if it is not cacheable. */
async function fetchToKeep(url) {
  const response = await fetch(new Request(url, { cache: 'reload' }));
  if (!cacheable(response)) throw new Error(`precaching ${url}: ${response.status} ${response.type} response`);
  return response;
}

/** Fetches every URL past the HTTP cache and keeps the answers; fails if one is not cacheable. */
async function keepAll(cache, urls) {
  await Promise.all(urls.map(async (url) => cache.put(url, await fetchToKeep(url))));
}

/**
 * Keeps the one wasm module this browser runs, as app/wasm.js chooses it: the relaxed SIMD
 * build if it validates here, else the plain simd128 build (4.5 MB not downloaded for nothing).
 */
async function keepModelCode(cache) {
  const relaxed = scoped('pkg/latent_lab_relaxed_bg.wasm');
  const response = await fetchToKeep(relaxed);
  if (WebAssembly.validate(await response.clone().arrayBuffer())) await cache.put(relaxed, response);
  else await keepAll(cache, [scoped('pkg/latent_lab_bg.wasm')]);
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const shell = await caches.open(SHELL);
      await keepAll(shell, SHELL_FILES.map(scoped));
      await keepModelCode(shell);
      const list = await (await shell.match(scoped('checkpoints/manifest.json'))).json();
      const shipped = [...list.checkpoints, ...(list.priors ?? []), ...(list.judge ? [list.judge] : [])];
      const checkpoints = shipped.map((c) => `checkpoints/${c.url}`);
      const stat = await caches.open(STATIC);
      const missing = [];
      for (const path of [...MNIST, ...checkpoints]) if (!(await stat.match(scoped(path)))) missing.push(scoped(path));
      await keepAll(stat, missing);
      // A new version replaces the old at once: page files are network-first anyway.
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== SHELL && name !== STATIC) await caches.delete(name);
      // Take over the page that registered us, so its later requests are cached too.
      await self.clients.claim();
    })(),
  );
});

/** Data and checkpoints: immutable under their address. */
function isStatic(url) {
  const path = url.pathname.slice(new URL(self.registration.scope).pathname.length);
  return path.startsWith('data/') || (path.startsWith('checkpoints/') && path.endsWith('.safetensors') && url.searchParams.has('v'));
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(isStatic(url) ? cacheFirst(request) : networkFirst(request));
});

async function cacheFirst(request) {
  const cache = await caches.open(STATIC);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (cacheable(response)) await cache.put(request, response.clone());
  return response;
}

/** Page files are kept under their address without the query: `?model=vae&d=2` is state, not a file. */
function shellKey(href) {
  const url = new URL(href);
  url.search = '';
  return url.href;
}

async function networkFirst(request) {
  const cache = await caches.open(SHELL);
  const key = shellKey(request.url);
  const fromNetwork = fetch(request).then(async (response) => {
    if (cacheable(response)) await cache.put(key, response.clone());
    return response;
  });
  // When the cache answers first, a later network failure is expected, not an error.
  fromNetwork.catch(() => {});
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, NETWORK_TIMEOUT_MS, null);
  });
  try {
    const response = await Promise.race([fromNetwork, timeout]);
    if (response) return response;
  } catch {
    // Offline or the server is gone: the cache answers below.
  } finally {
    clearTimeout(timer);
  }
  const cached = await cache.match(key);
  // Nothing cached: wait for the network after all and let its error reach the page.
  return cached ?? fromNetwork;
}

// main.js sends `{type: 'cache', urls}`: what it loaded before this worker controlled it.
self.addEventListener('message', (event) => {
  if (event.data?.type !== 'cache') return;
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      for (const href of event.data.urls) {
        const url = new URL(href);
        if (url.origin !== self.location.origin || isStatic(url) || (await cache.match(shellKey(href)))) continue;
        // One missing file must not stop the others.
        await keepAll(cache, [shellKey(href)]).catch(() => {});
      }
    })(),
  );
});
