// The settings schema: which settings exist, their labels, kinds, ranges and defaults, and the
// rules between them. Rust owns it (`settingsSchema()`); the form and the URL state are built
// from what this module returns, and nothing else on the page lists the settings.

import { settingsSchema } from '../pkg/latent_lab.js';
import loadWasm from './wasm.js';

let loading = null;

/**
 * `{fields, rules}` as Rust describes them (`src/settings/`): one field per setting the page
 * shows, `{name, group, param, label, title, kind, min, max, minExclusive, maxExclusive, step,
 * default, options, kinds, advanced}`, and cross-field rules as data. The page's thread loads
 * the wasm module once, for pure calls only (this, and the image limits in imagefiles.js).
 */
export function loadSchema() {
  loading ??= loadWasm().then(() => settingsSchema());
  return loading;
}

/** Whether `field` applies to a model of `kind`. */
export const appliesTo = (field, kind) => !field.kinds || field.kinds.includes(kind);

/**
 * The message for the first value of `settings` outside its field's range or breaking a rule,
 * or null. Same words as Rust's checks, so the page can answer before asking the model.
 */
export function firstProblem({ fields, rules }, settings) {
  const kind = settings.model.kind;
  for (const field of fields) {
    if (field.kind === 'enum' || !appliesTo(field, kind)) continue;
    const value = settings[field.group][field.name];
    if (!(typeof value === 'number' && value >= field.min && value <= field.max)) {
      return `${field.label} must be ${field.min} to ${field.max}.`;
    }
    // serde refuses a fraction where Rust wants an integer.
    if (field.kind === 'int' && !Number.isInteger(value)) return `${field.label} must be a whole number.`;
  }
  for (const rule of rules) {
    if (rule.kinds && !rule.kinds.includes(kind)) continue;
    const values = rule.product.map((name) => settings.model[name] ?? settings.train[name]);
    const product = values.reduce((a, b) => a * b, 1);
    if (product > rule.max) return `${rule.message}; it is ${values.join(' · ')}.`;
  }
  return null;
}

/** The schema's field `name`. */
export const fieldOf = (schema, name) => schema.fields.find((f) => f.name === name);

/** The label of enum field `name`'s option `value` (say 'VQ-VAE' for kind 'vqvae'). */
export const optionLabel = (schema, name, value) => fieldOf(schema, name).options.find((o) => o.value === value)?.label ?? value;
