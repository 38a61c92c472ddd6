// Draws the app icon (www/icons/icon.svg) and renders it to the PNG sizes installers want
// (icon-192.png, icon-512.png) with the test browser. Re-run after changing the drawing:
//   node pkg-config/icons.mjs
// The picture: ten clusters of codes, one per digit class in the page's palette, around the
// origin of a 2-D latent space, as the lab's map shows them after training.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PALETTE } from '../www/app/config.js';
import { launchChromium } from '../tests/page/browser.mjs';

const OUT = fileURLToPath(new URL('../www/icons/', import.meta.url));
const SIZE = 512;

// A fixed pseudo-random sequence, so the drawing is the same on every run.
let state = 7;
const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
const gauss = () => Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());

const dots = [];
PALETTE.forEach((colour, k) => {
  const angle = (2 * Math.PI * k) / PALETTE.length - Math.PI / 2;
  const [cx, cy] = [256 + 150 * Math.cos(angle), 256 + 150 * Math.sin(angle)];
  for (let i = 0; i < 9; i++) {
    const [x, y] = [cx + 22 * gauss(), cy + 22 * gauss()];
    dots.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="13" fill="${colour}"/>`);
  }
});
const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SIZE} ${SIZE}" width="${SIZE}" height="${SIZE}">
<rect width="${SIZE}" height="${SIZE}" rx="96" fill="#ffffff"/>
<path d="M256 96V416M96 256H416" stroke="#d8d8de" stroke-width="8" stroke-linecap="round"/>
${dots.join('\n')}
</svg>
`;
await writeFile(`${OUT}icon.svg`, svg);

const browser = await launchChromium();
for (const px of [192, 512]) {
  const page = await browser.newPage({ viewport: { width: px, height: px } });
  await page.setContent(`<style>html,body{margin:0;background:transparent}</style><img src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}" width="${px}" height="${px}">`);
  await page.locator('img').screenshot({ path: `${OUT}icon-${px}.png`, omitBackground: true });
  await page.close();
}
await browser.close();
console.log(`wrote ${OUT}icon.svg, icon-192.png, icon-512.png`);
