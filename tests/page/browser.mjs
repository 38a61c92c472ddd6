// Headless Chromium for the page tests, driven by playwright-core.
//
// playwright-core lives in pkg-config/node_modules (installed by setup.sh), which
// ESM resolution from tests/page/ does not search and NODE_PATH does not affect.
// createRequire anchored at pkg-config/package.json resolves it from there no
// matter which directory node was started in.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../pkg-config/package.json', import.meta.url));
const { chromium } = require('playwright-core');

// Debian's chromium: `npx playwright install` cannot download its own build here.
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Root in a container: the sandbox cannot start, and /dev/shm is small. No network beyond
// localhost: keep Chromium from trying to phone home. The engine suite (engines/) uses them too.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Launches headless Chromium; pass extra launch options (e.g. `{ args: [...] }`) to add to the defaults. */
export async function launchChromium(options = {}) {
  const { args = [], ...rest } = options;
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...args], ...rest });
}
