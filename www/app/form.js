// The model settings form, built from the settings schema: one labelled input or select per
// field (id = the field's name in kebab case), the fields of other model kinds hidden, the
// advanced ones behind "More settings". It reads and checks what the student typed; Apply
// then starts a new model with it.

import { appliesTo, firstProblem } from './schema.js';

/** Settings shown elsewhere (the learning rate sits in the top bar). */
const ELSEWHERE = new Set(['learningRate']);
const kebab = (name) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export class SettingsForm {
  /**
   * @param {HTMLFormElement} form the form; the fields go before its first button
   * @param {{fields: object[], rules: object[]}} schema from schema.js
   * @param {(settings: {model, train}) => void} onApply a checked request for a new model
   * @param {(message: string) => void} onError
   */
  constructor(form, schema, onApply, onError) {
    this.form = form;
    this.schema = schema;
    this.fields = schema.fields.filter((f) => !ELSEWHERE.has(f.name));
    this.more = form.querySelector('#more-settings');
    this.apply = form.querySelector('#apply');
    /** `{model, train}` of the model that exists. */
    this.settings = null;
    this.inputs = new Map(this.fields.map((field) => [field.name, this.build(field)]));
    this.more.addEventListener('click', () => {
      const more = this.more.getAttribute('aria-expanded') !== 'true';
      this.more.setAttribute('aria-expanded', String(more));
      this.more.textContent = more ? 'Fewer settings' : 'More settings';
      this.showFields();
    });
    form.addEventListener('input', () => this.showFields());
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const { settings, error } = this.read();
      if (error) onError(error);
      else onApply(settings);
    });
    this.showFields();
  }

  /** One `<label>` with its control, placed before the form's buttons. */
  build(field) {
    const label = document.createElement('label');
    if (field.title) label.title = field.title;
    label.dataset.field = field.name;
    let input;
    if (field.kind === 'enum') {
      input = document.createElement('select');
      for (const { value, label: text } of field.options) input.add(new Option(text, value));
      input.setAttribute('aria-label', field.label);
    } else {
      input = Object.assign(document.createElement('input'), { type: 'number', min: field.min, max: field.max });
      input.step = field.kind === 'int' ? String(field.step ?? 1) : 'any';
    }
    input.id = kebab(field.name);
    input.disabled = true;
    label.append(`${field.label}\n`, input);
    this.form.insertBefore(label, this.more);
    return input;
  }

  /** The model that exists: the form shows its settings. */
  setSettings(settings) {
    this.settings = settings;
    for (const field of this.fields) this.inputs.get(field.name).value = settings[field.group][field.name];
    this.showFields();
  }

  /** Shows the fields of the kind chosen in the form (advanced ones on request). */
  showFields() {
    const kind = this.inputs.get('kind').value;
    const more = this.more.getAttribute('aria-expanded') === 'true';
    for (const field of this.fields) {
      const label = this.inputs.get(field.name).parentElement;
      label.hidden = !appliesTo(field, kind) || (field.advanced && !more);
    }
    this.apply.disabled = this.disabled || !this.changed();
  }

  setEnabled(enabled) {
    this.disabled = !enabled;
    for (const input of this.inputs.values()) input.disabled = !enabled;
    this.apply.disabled = !enabled || !this.changed();
  }

  /** Whether the form asks for a model different from the one that exists. */
  changed() {
    if (!this.settings) return false;
    return this.fields.some((f) => String(this.settings[f.group][f.name]) !== this.inputs.get(f.name).value);
  }

  /**
   * `{settings}`: the model's settings with the form's values, or `{error}` naming the first
   * value out of range. A field of another kind keeps the model's own value.
   */
  read() {
    const settings = { model: { ...this.settings.model }, train: { ...this.settings.train } };
    const kind = this.inputs.get('kind').value;
    for (const field of this.fields) {
      const input = this.inputs.get(field.name);
      if (field.kind === 'enum') settings[field.group][field.name] = input.value;
      else if (appliesTo(field, kind)) settings[field.group][field.name] = input.value.trim() === '' ? NaN : Number(input.value);
    }
    const error = firstProblem({ fields: this.fields, rules: this.schema.rules }, settings);
    return error ? { error } : { settings };
  }
}
