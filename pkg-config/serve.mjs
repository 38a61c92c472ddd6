// Static file server for www/: used by serve.sh for people and by the page tests
// (tests/page/server.mjs re-exports startServer). Node built-ins only, so it runs
// before `npm ci`. Every file of the app goes out with the Content-Security-Policy below,
// and the browser's reports of what it blocked come back to POST /csp-report.
// Run as a command it also makes the page cross-origin isolated (COOP/COEP, below); the page
// tests start it without, unless a test asks, so both kinds of page stay tested.
//
//   node pkg-config/serve.mjs [ROOT=www] [PORT=8080]
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// Browsers refuse to compile wasm streamingly without application/wasm and refuse
// module scripts and workers served with a non-JavaScript type.
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  // Served as opaque bytes: the page inflates the IDX files itself, so no
  // Content-Encoding header may make the browser do it first.
  '.gz': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

// Nothing but this origin: no inline script, style or handler, no eval, except compiling the
// wasm. www/index.html repeats these directives in a <meta> for static hosts that send no
// header; the page tests check that the two agree.
export const PAGE_POLICY = {
  'default-src': "'self'",
  'script-src': "'self' 'wasm-unsafe-eval'",
  'style-src': "'self'",
  'img-src': "'self'",
  'connect-src': "'self'",
  'worker-src': "'self'",
  'manifest-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'none'",
};
// Browsers ignore a report address in a <meta> (and Chromium logs an error), so only the
// header has it. No frame-ancestors: a lecturer may embed the page in slides.
const HEADER_ONLY_POLICY = { 'report-uri': '/csp-report' };
export const policyText = (directives) =>
  Object.entries(directives)
    .map(([name, value]) => `${name} ${value}`)
    .join('; ');
const CSP_HEADER = policyText({ ...PAGE_POLICY, ...HEADER_ONLY_POLICY });
// Cross-origin isolation: SharedArrayBuffer needs it (TF.js's threaded wasm on the benchmark
// page). Everything the page loads is from this origin, so require-corp blocks nothing; a
// worker needs the headers on its own script too, so every answer carries them, and the
// service worker's cached copies keep them offline.
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
// A report is a few hundred bytes; anything far larger is not one.
const MAX_REPORT_BYTES = 64 * 1024;

function send(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}

/** Reads a violation report (`application/csp-report` JSON) and hands its body to `onViolation`. */
async function receiveReport(req, res, onViolation) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_REPORT_BYTES) return send(res, 413, 'report too large');
    chunks.push(chunk);
  }
  let report;
  try {
    report = JSON.parse(Buffer.concat(chunks).toString('utf8'))['csp-report'];
  } catch {
    return send(res, 400, 'not a CSP report');
  }
  if (!report) return send(res, 400, 'not a CSP report');
  onViolation(report);
  res.writeHead(204);
  res.end();
}

const logViolation = (report) =>
  console.error(`[serve] blocked by the Content-Security-Policy: ${report['violated-directive'] ?? report['effective-directive']} ${report['blocked-uri'] ?? ''} on ${report['document-uri']}`);

async function handle(root, { mounts, onViolation, isolated }, req, res) {
  let path;
  try {
    path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  } catch {
    return send(res, 400, 'bad request');
  }
  if (req.method === 'POST' && path === '/csp-report') return receiveReport(req, res, onViolation ?? logViolation);
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
  // The page names its icon with <link rel="icon">; answer browsers that ask for
  // /favicon.ico anyway quietly, so tests log no 404 for it.
  if (path === '/favicon.ico') {
    res.writeHead(204);
    return res.end();
  }
  if (path.endsWith('/')) path += 'index.html';
  // A mounted folder answers under its prefix (the benchmark page beside the app).
  const mount = Object.keys(mounts).find((prefix) => path.startsWith(`/${prefix}`));
  const base = mount ? mounts[mount] : root;
  const file = normalize(join(base, mount ? path.slice(mount.length + 1) : path));
  if (file !== base && !file.startsWith(base + sep)) return send(res, 403, 'forbidden');

  let info;
  try {
    info = await stat(file);
  } catch {
    return send(res, 404, `not found: ${path}`);
  }
  if (info.isDirectory()) {
    res.writeHead(301, { Location: `${path}/` });
    return res.end();
  }
  res.writeHead(200, {
    'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': info.size,
    // A rebuilt www/pkg must be picked up on reload.
    'Cache-Control': 'no-cache',
    // The app's own files only: a mounted folder (the benchmark page, which runs TF.js) is a
    // measuring tool outside the app. Workers take the policy from their script's response.
    ...(mount ? {} : { 'Content-Security-Policy': CSP_HEADER }),
    ...(isolated ? ISOLATION_HEADERS : {}),
  });
  if (req.method === 'HEAD') return res.end();
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

/**
 * Serves `root` over http on 127.0.0.1. `port` 0 (the default) takes a free port. `mounts`
 * maps a URL prefix ending in '/' (say 'bench/') to another folder served under it.
 * `onViolation(report)` gets each Content-Security-Policy violation report (by default
 * printed to stderr). `isolated` sends the cross-origin isolation headers with every file.
 * Resolves to `{ url, close }`; `url` ends in '/', `close()` resolves once stopped.
 */
export async function startServer(root, { port = 0, host = '127.0.0.1', mounts = {}, onViolation, isolated = false } = {}) {
  const dir = resolve(root);
  const resolved = Object.fromEntries(Object.entries(mounts).map(([prefix, folder]) => [prefix, resolve(folder)]));
  const server = createServer((req, res) => {
    handle(dir, { mounts: resolved, onViolation, isolated }, req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, String(err));
      else res.destroy();
    });
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  const { port: actual } = server.address();
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}/`,
    close: () =>
      new Promise((ok) => {
        // Browsers keep connections alive; without this close() waits for them.
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? 'www';
  const port = Number(process.argv[3] ?? process.env.PORT ?? 8080);
  const host = process.env.HOST ?? '127.0.0.1';
  const { url, close } = await startServer(root, { port, host, isolated: true });
  console.log(`serving ${resolve(root)} at ${url.replace('127.0.0.1', 'localhost')}  (Ctrl-C stops)`);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => close().then(() => process.exit(0)));
}
