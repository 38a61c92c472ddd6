// What the map's page tests share: training until the paused map settles, screenshots, and
// where points and the plot are on screen.

export const TRAIN_MS = 3000;

/** Trains for `ms`, then pauses and waits until the paused model's map has settled. */
export async function trainFor(page, ms) {
  await page.click('#train');
  await page.waitForTimeout(ms);
  // The worker posts "paused" and then the paused model's points, which can take a while on
  // a busy machine. The status text changes when the page handles "paused", so an observer
  // notes how many point sets had arrived by then; the next one is the paused model's.
  await page.evaluate(() => {
    window.pointsAtPause = null;
    const status = document.querySelector('#progress [data-role="status"]');
    const observer = new MutationObserver(() => {
      if (window.latentLab.state().phase !== 'paused') return;
      window.pointsAtPause = window.latentLab.scatter().updates;
      observer.disconnect();
    });
    observer.observe(status, { childList: true, characterData: true, subtree: true });
  });
  await page.click('#train');
  await page.waitForFunction(
    () => window.pointsAtPause !== null && window.latentLab.scatter().updates > window.pointsAtPause,
    null,
    { timeout: 60_000 },
  );
  // Then the view eases onto them.
  await page.waitForFunction(() => {
    const s = window.latentLab.scatter();
    return ['x0', 'x1', 'y0', 'y1'].every((k) => s.bounds[k] === s.fit[k]);
  });
}

export const map = (page) => page.evaluate(() => window.latentLab.scatter());
export const width = (b) => b.x1 - b.x0;
/** Two rectangles agree to `share` of the first one's width. */
export function near(a, b, share = 1e-3) {
  const tol = share * width(a);
  return ['x0', 'x1', 'y0', 'y1'].every((k) => Math.abs(a[k] - b[k]) <= tol);
}

/** The map's canvas box and the centre of its plot area, in viewport pixels. */
export async function plotCentre(page) {
  const box = await page.locator('#scatter').boundingBox();
  // PAD in views/scatter.js: 44 left, 12 right, 12 top, 36 bottom.
  return { box, x: box.x + (44 + box.width - 12) / 2, y: box.y + (12 + box.height - 36) / 2 };
}

/** A point drawn well inside the plot, away from `avoid`, for watching it move. */
export async function visiblePoint(page, avoid) {
  return page.evaluate(
    ({ ax, ay }) => {
      const { labels } = window.latentLab.scatter();
      const box = document.querySelector('#scatter').getBoundingClientRect();
      for (let i = 0; i < labels.length; i++) {
        const p = window.latentLab.pointOnScreen(i);
        const inside = p.x > box.left + 120 && p.x < box.right - 80 && p.y > box.top + 80 && p.y < box.bottom - 120;
        if (inside && Math.hypot(p.x - ax, p.y - ay) > 60) return i;
      }
      return -1;
    },
    { ax: avoid.x, ay: avoid.y },
  );
}

export const onScreen = (page, i) => page.evaluate((index) => window.latentLab.pointOnScreen(index), i);
