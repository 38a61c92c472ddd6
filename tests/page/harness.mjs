// What every page-test file needs: www/ served on a free port and one headless Chromium,
// started before the file's tests and closed after them.

import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { launchChromium } from './browser.mjs';

export const WWW = fileURLToPath(new URL('../../www/', import.meta.url));
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** Registers the hooks; `server` and `browser` of the returned object are set once they ran. */
export function servePage() {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = await startServer(WWW);
    env.browser = await launchChromium();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  return env;
}
