// Downloads of what the views draw: PNG images of their canvases and files the worker writes.

const GAP = 8;

/** Offers `blob` as a download named `filename`. */
export function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the blob by the time a later task runs.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * The shown canvases among `canvases`, stacked top to bottom on white at their size on screen
 * in device pixels (small digit canvases are enlarged without smoothing); null if none shows.
 */
export function stackCanvases(canvases) {
  const shown = canvases.filter((c) => c.getClientRects().length > 0 && c.clientWidth > 0);
  if (shown.length === 0) return null;
  const dpr = window.devicePixelRatio || 1;
  const sizes = shown.map((c) => [Math.round(c.clientWidth * dpr), Math.round(c.clientHeight * dpr)]);
  const out = document.createElement('canvas');
  out.width = Math.max(...sizes.map(([w]) => w));
  out.height = sizes.reduce((h, [, ch]) => h + ch, 0) + GAP * dpr * (shown.length - 1);
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.imageSmoothingEnabled = false;
  let y = 0;
  shown.forEach((c, i) => {
    ctx.drawImage(c, 0, y, ...sizes[i]);
    y += sizes[i][1] + GAP * dpr;
  });
  return out;
}

/** The `.buttons` row of `panel`, added at its end if it has none. */
export function buttonRow(panel) {
  let row = panel.querySelector(':scope > .buttons');
  if (!row) {
    row = document.createElement('p');
    row.className = 'buttons';
    panel.append(row);
  }
  return row;
}

/**
 * Adds an "Export PNG" button to `row` that downloads `render()`'s canvas as
 * `latent-lab-<name>.png`; `what` names the picture for people. When `render()` returns null,
 * a note beside the button says that nothing is drawn yet.
 */
export function addPngExport(row, name, what, render) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Export PNG';
  button.className = 'export-png';
  button.setAttribute('aria-label', `Export PNG: ${what}`);
  const note = document.createElement('span');
  note.className = 'export-note';
  note.setAttribute('aria-live', 'polite');
  button.addEventListener('click', () => {
    const canvas = render();
    note.textContent = canvas ? '' : 'Nothing drawn yet.';
    if (canvas) canvas.toBlob((blob) => downloadBlob(blob, `latent-lab-${name}.png`), 'image/png');
  });
  row.append(button, note);
  return button;
}

/** An Export PNG button in each panel of `panels` (id → what it shows), stacking the panel's canvases. */
export function addPanelPngExports(panels) {
  for (const [id, what] of Object.entries(panels)) {
    const panel = document.getElementById(id);
    addPngExport(buttonRow(panel), id, what, () => stackCanvases([...panel.querySelectorAll('canvas')]));
  }
}
