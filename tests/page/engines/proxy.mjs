// A recording HTTP proxy for one browser context: every request the context makes — from the
// page, its workers and its service worker alike — arrives here first, so the list is complete
// in either engine. Requests to the app's origin are passed on; anything else is noted and
// refused, so even a failing test sends nothing off the machine.

import { createServer, request as forward } from 'node:http';

/**
 * Starts the proxy on a free port of 127.0.0.1. `origin` (say 'http://127.0.0.1:4321') is the
 * one place requests may go. Resolves to `{ address, requests, close }`: `address` is
 * 'host:port' for the browser's proxy setting, `requests` the URLs asked for, in order
 * (`https://host:port` for a tunnel, the only form in which an https request shows).
 */
export async function startRecordingProxy(origin) {
  const requests = [];
  const server = createServer((req, res) => {
    // A proxied request carries the absolute URL.
    requests.push(req.url);
    if (new URL(req.url).origin !== origin) {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      return res.end('refused by the test proxy: not the app’s origin');
    }
    const upstream = forward(req.url, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    // The app's server is down (the offline part of a test): the browser sees a network error,
    // as it would without a proxy, not an error page.
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req, socket) => {
    requests.push(`https://${req.url}`);
    socket.destroy();
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    address: `127.0.0.1:${server.address().port}`,
    requests,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
