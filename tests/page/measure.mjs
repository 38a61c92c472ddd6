// Measures of what the map shows that page tests in either engine share: they need only
// `page.evaluate(fn, arg)`, which Playwright and Puppeteer spell alike.

import { PALETTE } from '../../www/app/config.js';

/** Fraction of points whose k nearest neighbours (Euclidean, itself excluded) vote for its own label. */
export function knnAccuracy(plane, labels, k) {
  const n = labels.length;
  let correct = 0;
  // The k best so far, sorted by distance; a linear insert beats sorting all n per point.
  const bestDist = new Float64Array(k);
  const bestLabel = new Uint8Array(k);
  const votes = new Uint32Array(10);
  for (let i = 0; i < n; i++) {
    bestDist.fill(Infinity);
    const xi = plane[2 * i];
    const yi = plane[2 * i + 1];
    for (let j = 0; j < n; j++) {
      const dx = xi - plane[2 * j];
      const dy = yi - plane[2 * j + 1];
      const d = dx * dx + dy * dy;
      if (j === i || d >= bestDist[k - 1]) continue;
      let at = k - 1;
      for (; at > 0 && bestDist[at - 1] > d; at--) {
        bestDist[at] = bestDist[at - 1];
        bestLabel[at] = bestLabel[at - 1];
      }
      bestDist[at] = d;
      bestLabel[at] = labels[j];
    }
    votes.fill(0);
    for (const l of bestLabel) votes[l]++;
    if (votes.indexOf(Math.max(...votes)) === labels[i]) correct++;
  }
  return correct / n;
}

/** The scatter's points as the page holds them, as plain arrays. */
export async function scatterPoints(page) {
  return page.evaluate(() => {
    const { plane, labels } = window.latentLab.scatter();
    return { plane: Array.from(plane), labels: Array.from(labels) };
  });
}

/** How many pixels of the scatter canvas have each palette colour, in palette order. */
export async function paletteCounts(page) {
  return page.evaluate((palette) => {
    const canvas = document.getElementById('scatter');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const index = new Map(palette.map((hex, i) => [parseInt(hex.slice(1), 16), i]));
    const counts = new Array(palette.length).fill(0);
    for (let p = 0; p < data.length; p += 4) {
      const i = index.get((data[p] << 16) | (data[p + 1] << 8) | data[p + 2]);
      if (i !== undefined) counts[i]++;
    }
    return counts;
  }, PALETTE);
}
