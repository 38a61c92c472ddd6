import { startServer } from './server.mjs';
import { launchChromium } from './browser.mjs';
import { WWW } from './harness.mjs';
const server = await startServer(WWW);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.on('console', (m) => console.log('console', m.type(), m.text()));
page.on('crash', () => console.log('CRASH')); page.on('close', () => console.log('CLOSE')); page.on('worker', (w) => w.on('console', (m) => console.log('worker console', m.text())));
page.on('pageerror', (e) => console.log('pageerror', e.message));
await page.goto(server.url);
await page.locator('#train:enabled').waitFor({ timeout: 120000 });
console.log('loaded', await page.evaluate(() => JSON.stringify(window.latentLab.state().settings.train)));
await page.click('#train');
for (let i = 0; i < 5; i++) { await page.waitForTimeout(1000); console.log(await page.evaluate(() => { const s = window.latentLab.state(); return `${s.phase} ${s.step}`; })); }
const field = page.getByLabel('Learning rate');
console.log('fill'); await field.fill('10'); console.log('filled');
await field.press('Tab'); console.log('tabbed');
for (let i = 0; i < 10; i++) { await page.waitForTimeout(1000); console.log(await page.evaluate(() => { const s = window.latentLab.state(); return `${s.phase} ${s.step} ${s.settings.train.learningRate} err=${!document.getElementById('error').hidden} ${document.getElementById('error').textContent.trim().slice(0,200)}`; })); }
await browser.close(); await server.close();
