// Nothing leaves the machine, in each engine: a whole visit — training, a lecture preset with its
// side-by-side model, uploads good and bad, a model saved and loaded back, and a reload with the
// server stopped — asks nothing of any other origin, and breaks no rule of the page's
// Content-Security-Policy. Every request of the visit's browser context goes through a
// recording proxy (./proxy.mjs), so those of the workers and the service worker count too.
// Run from the repository root: `node --test tests/page/engines/` (ENGINE=chromium for Chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ENGINE,
  WWW,
  anonymousFashionFiles,
  downloaded,
  launchBrowser,
  openLoadedPage,
  sleep,
  state,
  toggleTraining,
  trainFor,
  waitUntil,
} from './harness.mjs';
import { startRecordingProxy } from './proxy.mjs';
import { startServer } from '../server.mjs';
import { dropFile, manifest, offlineReady } from '../lecture-helpers.mjs';
import { PAGE_POLICY, policyText } from '../../../pkg-config/serve.mjs';
import { LECTURES } from '../../../www/app/lectures.js';

/** In every document (pass to evaluateOnNewDocument): a violation becomes a console error. */
function reportViolations() {
  document.addEventListener('securitypolicyviolation', (e) =>
    console.error(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline code'} in ${e.sourceFile}:${e.lineNumber}`),
  );
}

test(`${ENGINE}: a whole visit asks nothing of another origin and breaks no rule of the Content-Security-Policy`, async () => {
  const reports = [];
  const server = await startServer(WWW, { onViolation: (report) => reports.push(report) });
  const origin = new URL(server.url).origin;
  const proxy = await startRecordingProxy(origin);
  const browser = await launchBrowser();
  const dir = await mkdtemp(join(tmpdir(), 'latent-lab-privacy-'));
  try {
    const context = await browser.createBrowserContext({
      proxyServer: proxy.address,
      // Chromium sends loopback requests past a proxy unless the list says `<-loopback>`.
      proxyBypassList: ENGINE === 'chromium' ? ['<-loopback>'] : [],
      downloadBehavior: { policy: 'allow', downloadPath: dir },
    });
    const { page, problems } = await openLoadedPage(context, server.url, {
      beforeOpen: (p) => p.evaluateOnNewDocument(reportViolations),
    });

    // The header and the <meta> fallback state the same policy; the page has nothing inline.
    const header = (await fetch(server.url)).headers.get('content-security-policy');
    assert.equal(header, `${policyText(PAGE_POLICY)}; report-uri /csp-report`);
    const inline = await page.evaluate(() => ({
      meta: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content,
      scripts: document.querySelectorAll('script:not([src]), style').length,
      handlers: [...document.querySelectorAll('*')].flatMap((el) => el.getAttributeNames().filter((a) => a.startsWith('on'))),
    }));
    assert.deepEqual(inline, { meta: policyText(PAGE_POLICY), scripts: 0, handlers: [] });

    await trainFor(page, 2000);

    // A preset from the menu that also starts the side-by-side worker.
    const lecture = LECTURES.find((l) => l.views.compare);
    await page.select('#lecture', lecture.id);
    await waitUntil(page, (name) => window.latentLab.state().loaded?.name === name, lecture.choices[0].checkpoint, 60_000);
    // The side-by-side worker is ready only for the moment between its data and its shipped
    // checkpoint, which a faster build can make shorter than one poll: wait for the checkpoint.
    const partner = manifest.checkpoints.find((c) => c.name === lecture.views.compare.checkpoint);
    await waitUntil(
      page,
      (steps) => {
        const c = window.latentLab.compare();
        return c?.phase === 'paused' && c.step === steps;
      },
      partner.steps,
      60_000,
    );

    // The student's own files: a good set through the picker, then a malformed file dropped.
    const input = await page.$('#idx-files');
    await input.uploadFile(...(await anonymousFashionFiles(dir)));
    await waitUntil(page, () => window.latentLab.state().dataset === 'own' && window.latentLab.state().phase === 'ready', null, 60_000);
    const fashion = await readFile(`${WWW}data/fashion/t10k-images-idx3-ubyte.gz`);
    await dropFile(page, 'cut-short.gz', fashion.subarray(0, fashion.length >> 1));
    await waitUntil(page, () => document.getElementById('error').checkVisibility());
    await page.click('#error button');

    // A model saved and loaded back.
    await trainFor(page, 1000);
    const { step, settings } = await state(page);
    await page.click('#save-model');
    const name = `${settings.model.kind}-${settings.model.latentDim}d-step${step}.safetensors`;
    await downloaded(dir, name);
    await (await page.$('#model-file')).uploadFile(join(dir, name));
    await waitUntil(page, (file) => window.latentLab.state().loaded?.name === file, name);

    // Offline: the service worker answers once the server is gone.
    for (let tries = 0; !(await page.evaluate(offlineReady)); tries++) {
      assert.ok(tries < 240, 'the service worker is active and has cached the page within 60 s');
      await sleep(250);
    }
    await server.close();
    await page.reload();
    await page.waitForSelector('#train:enabled', { timeout: 60_000 });
    await toggleTraining(page, 'training');
    await waitUntil(page, () => window.latentLab.state().step >= 20, null, 60_000);
    await toggleTraining(page, 'paused');

    const foreign = proxy.requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin);
    const paths = new Set(proxy.requests.map((url) => new URL(url).pathname));
    console.log(`${ENGINE}: ${proxy.requests.length} requests (${paths.size} addresses), ${foreign.length} to another origin`);
    assert.deepEqual(foreign, []);
    // The proxy saw the workers' requests (the wasm, the data) and the service worker's
    // (its script, and the checkpoints it precached that the visit never opened).
    // The wasm is the module this browser runs (www/app/wasm.js, already loaded: no request).
    const wasm = await page.evaluate(async () => (await import('/app/wasm.js')).wasmUrl.pathname);
    for (const path of [wasm, '/data/mnist/t10k-images-idx3-ubyte.gz', '/sw.js'])
      assert.ok(paths.has(path), `the proxy saw ${path}`);
    assert.ok([...paths].some((p) => p.includes('vq-k128-loss')), 'the proxy saw the service worker precache');
    assert.deepEqual(reports, [], 'no violation reports');
    assert.deepEqual(problems, []);
    await context.close();
  } finally {
    await browser.close();
    await proxy.close();
    await server.close();
    await rm(dir, { recursive: true });
  }
});
