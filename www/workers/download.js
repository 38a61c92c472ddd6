// Fetching a bundled dataset's four IDX files with download progress, for the training worker.

import { IDX_FILES } from '../app/config.js';

/**
 * The four IDX files under `base` (a URL) as raw bytes, in IDX_FILES order; `onProgress(loaded,
 * total)` hears about every 50 ms how many bytes arrived (`total` null when the server doesn't say).
 */
export async function downloadDataset(base, onProgress) {
  const responses = await Promise.all(IDX_FILES.map((name) => fetch(new URL(name, base))));
  responses.forEach((r) => {
    if (!r.ok) throw new Error(`could not download ${r.url}: HTTP ${r.status}`);
  });
  // Content-Length counts bytes on the wire; if the server compressed them, the body we read
  // is longer, so the total is then unknown.
  const sizes = responses.map((r) => {
    const length = r.headers.get('Content-Length');
    return length === null || r.headers.has('Content-Encoding') ? NaN : Number(length);
  });
  const total = sizes.every((n) => n > 0) ? sizes.reduce((a, b) => a + b, 0) : null;
  let loaded = 0;
  let reportedAt = 0;
  const report = (force) => {
    const now = performance.now();
    if (force || now - reportedAt > 50) {
      onProgress(loaded, total);
      reportedAt = now;
    }
  };
  report(true);
  const files = await Promise.all(
    responses.map(async (r) => {
      const chunks = [];
      const reader = r.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.length;
        report(false);
      }
      return concat(chunks);
    }),
  );
  report(true);
  return files;
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
