// Presenter mode: full screen with a presentation layout, large text and high contrast. Each
// toggle is a class on <html> (styles/base.css does the rest) and a URL parameter, so a slide can
// link to the lab as it should appear.

const TOGGLES = { present: 'present', large: 'large-text', contrast: 'high-contrast' };

/**
 * Wires the Present button and the two checkboxes and applies the toggles that are on in `values`.
 * @param {{present: boolean, large: boolean, contrast: boolean}} values the toggles from the URL
 * @param {(key: string, on: boolean) => void} onChange records a toggle in the URL
 */
export function initPresenter(values, onChange) {
  const controls = Object.fromEntries(Object.entries(TOGGLES).map(([key, id]) => [key, document.getElementById(id)]));
  const root = document.documentElement;

  function set(key, on) {
    root.classList.toggle(key, on);
    const control = controls[key];
    if (control.type === 'checkbox') control.checked = on;
    else control.setAttribute('aria-pressed', String(on));
    onChange(key, on);
  }

  // Full screen needs a click, so a link with present=1 opens the presentation layout and the
  // Present button then fills the screen.
  controls.present.addEventListener('click', async () => {
    const on = !root.classList.contains('present');
    set('present', on);
    try {
      if (on && !document.fullscreenElement) await root.requestFullscreen();
      if (!on && document.fullscreenElement) await document.exitFullscreen();
    } catch {
      // Full screen refused (an iframe, a browser setting): the layout changes all the same.
    }
  });
  // Esc leaves full screen; the presentation ends with it.
  document.addEventListener('fullscreenchange', () => {
    if (!document.fullscreenElement) set('present', false);
  });
  controls.large.addEventListener('change', () => set('large', controls.large.checked));
  controls.contrast.addEventListener('change', () => set('contrast', controls.contrast.checked));
  for (const key of Object.keys(TOGGLES)) set(key, Boolean(values[key]));
}
