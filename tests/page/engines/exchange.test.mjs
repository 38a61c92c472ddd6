// The two ways data-parallel replicas exchange their shares (www/workers/allreduce.js), in each
// engine: through SharedArrayBuffer boards, as a cross-origin isolated page does, and as
// messages, as any other page does. Same mathematics, so from the same start three replicas
// reach the same weights bit for bit either way, for a VAE and for a VQ-VAE (whose shares also
// carry their encodings and codes).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE, servePage, waitUntil } from './harness.mjs';

const env = servePage({ isolated: true, mounts: { 'exchange/': join(fileURLToPath(new URL('.', import.meta.url)), 'exchange') } });

const MODELS = {
  vae: { hidden: 64 },
  vqvae: { kind: 'vqvae', hidden: 64, codesPerImage: 2, codebookUpdate: 'emaRestart' },
};

for (const [name, model] of Object.entries(MODELS)) {
  test(`${ENGINE}: three replicas reach the same ${name} weights through shared memory as through messages`, async () => {
    const page = await env.browser.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    try {
      await page.goto(`${env.server.url}exchange/`);
      await waitUntil(page, () => window.exchange !== undefined, null, 60_000);
      assert.equal(await page.evaluate(() => window.exchange.isolated), true, 'the page is cross-origin isolated');
      const run = (shared) => page.evaluate((options) => window.exchange.train(options), { model, workers: 3, steps: 12, shared });
      const boards = await run(true);
      const messages = await run(false);
      assert.equal(boards.exchange, 'shared memory');
      assert.equal(messages.exchange, 'messages');
      for (const r of [boards, messages]) {
        assert.equal(r.step, 12);
        assert.ok(Number.isFinite(r.loss), `loss ${r.loss}`);
      }
      assert.deepEqual(boards.before, messages.before, 'both runs start from the same weights');
      const moved = boards.after.filter((v, i) => v !== boards.before[i]).length;
      assert.ok(moved > boards.after.length / 2, `training changed ${moved} of ${boards.after.length} weights`);
      const differ = boards.after.findIndex((v, i) => !Object.is(v, messages.after[i]));
      assert.equal(differ, -1, `weight ${differ}: ${boards.after[differ]} through shared memory, ${messages.after[differ]} through messages`);
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
}
