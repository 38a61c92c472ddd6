// The page's state, and the part of it a link reproduces (TensorFlow Playground's state.ts
// idea): one list of URL properties — the settings from the schema plus the page's own — read
// from the URL once and written back whole from one place.

import { DATASETS, MAX_WORKERS, defaultWorkers } from './config.js';
import { appliesTo } from './schema.js';

/** The page's own URL properties: `key` is the parameter, `bool` ones are '1' or absent. */
const PAGE_PROPERTIES = [
  { key: 'dataset', parse: (v) => (Object.hasOwn(DATASETS, v) ? v : null) },
  { key: 'quick', bool: true },
  { key: 'workers', parse: (v) => (/^\d+$/.test(v ?? '') && Number(v) >= 1 && Number(v) <= MAX_WORKERS ? v : null) },
  { key: 'manifold', bool: true },
  { key: 'judge', bool: true },
  { key: 'compare' },
  { key: 'lecture' },
  { key: 'checkpoint' },
  { key: 'present', bool: true },
  { key: 'large', bool: true },
  { key: 'contrast', bool: true },
];

const number = (text) => (text !== null && text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : null);

export class PageState {
  /** @param {string} search the URL's query, read once here */
  constructor(search) {
    const params = new URLSearchParams(search);
    this.params = params;
    /** The settings schema's fields, once known: until then the URL is not written. */
    this.fields = null;
    /** The page properties, from the URL and then from the page; `write()` puts them in the URL. */
    this.url = {};
    /** Whether a URL write is queued for the end of this task. */
    this.writing = false;
    for (const { key, bool, parse } of PAGE_PROPERTIES) {
      const text = params.get(key);
      this.url[key] = bool ? text === '1' : parse ? parse(text) : text;
    }
    /** Settings the link asks for: `{model, train}`, only the fields it names with a usable value. */
    this.requested = { model: {}, train: {} };
    // What the page is doing, read by the views' wiring and (cloned) by tests.
    this.phase = 'starting';
    this.step = 0;
    this.epoch = 0;
    this.lastReport = null;
    this.lastEval = null;
    /** `{model, train}` of the model that exists, as the worker reported it. */
    this.settings = null;
    /** Key of the data it trains on: one of DATASETS, OWN_DATA.key, OWN_IMAGES.key, or null before any loaded. */
    this.dataset = null;
    /** `{name, step}` of the checkpoint the model came from, or null for one trained here from scratch. */
    this.loaded = null;
    /** The test image the map's pick follows; a reply for an earlier pick is dropped. */
    this.selected = null;
    /** Whether an Export codes request is out; its button waits for the file. */
    this.exportingCodes = false;
  }

  /** The settings schema arrived: the link's settings are read from the URL parsed at the start. */
  useSchema(fields) {
    this.fields = fields;
    for (const field of fields) {
      const text = this.params.get(field.param);
      const value = field.kind === 'enum' ? (field.options.some((o) => o.value === text) ? text : null) : number(text);
      // A learning rate must be positive; the other ranges are the model's to check.
      if (value !== null && (field.name !== 'learningRate' || value > 0)) this.requested[field.group][field.name] = value;
    }
    this.write();
  }

  /** Training workers: the link's, else the default for this machine's cores. */
  get workers() {
    return this.url.workers === null ? defaultWorkers(navigator.hardwareConcurrency ?? 1) : Number(this.url.workers);
  }

  /** Sets page properties (`{manifold: true}`, …) and writes the URL. */
  set(changes) {
    Object.assign(this.url, changes);
    this.write();
  }

  /** The model that exists changed: its settings (and the quick toggle they carry) go in the URL. */
  setSettings(settings) {
    this.settings = settings;
    this.url.quick = settings.train.trainSubset > 0;
    this.write();
  }

  /**
   * Writes the whole state to the URL: the settings that matter for the model's kind, then the
   * page's. Once per task: a preset sets several properties in one event, and each
   * replaceState costs milliseconds in Chromium.
   */
  write() {
    if (!this.fields || this.writing) return;
    this.writing = true;
    queueMicrotask(() => {
      this.writing = false;
      this.writeNow();
    });
  }

  writeNow() {
    const params = new URLSearchParams();
    // Until the model exists, the link keeps the settings it asked for.
    const settings = this.settings ?? this.requested;
    const kind = settings.model.kind;
    for (const field of this.fields) {
      const value = settings[field.group][field.name];
      if (value !== undefined && (!kind || appliesTo(field, kind))) params.set(field.param, String(value));
    }
    for (const { key, bool } of PAGE_PROPERTIES) {
      const value = this.url[key];
      if (bool ? value : value !== null && value !== undefined) params.set(key, bool ? '1' : value);
    }
    // replaceState is costly in Chromium and rate-limited; most writes change nothing.
    const query = `?${params}`;
    if (query !== location.search) history.replaceState(null, '', query);
  }

  /** A plain copy for tests and the console. */
  snapshot() {
    const { phase, step, epoch, lastReport, lastEval, settings, dataset, loaded, url } = this;
    return structuredClone({ phase, step, epoch, lastReport, lastEval, settings, dataset, loaded, url });
  }
}
