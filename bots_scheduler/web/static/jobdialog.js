// The "New job" / "Edit job" dialog: job class, arguments, cron fields with a live preview.

import { api, get, query } from './api.js';
import { debounce, h, $, replace, showModal } from './dom.js';
import { CRON_FIELDS, describeCron, PRESETS } from './cron.js';
import { formatInZone, formatLocal } from './time.js';

const FIELD_LABELS = {
  minute: 'Minute', hour: 'Hour', day: 'Day of month', month: 'Month', day_of_week: 'Day of week', week: 'ISO week',
};
const FIELD_HINTS = {
  minute: '0-59', hour: '0-23', day: '1-31, last', month: '1-12, jan-dec', day_of_week: 'mon-sun, 0-6', week: '1-53',
};
const NUMBER_TYPES = new Set(['integer', 'int', 'number', 'float']);
// The argument types of the original Bots Scheduler's job dialog keep their meaning: string,
// list (a JSON list; a class whose only argument is a list takes the whole pub_args as that
// list), bool (true or false), range (a whole number from min to max, by step) and file.
const RANGE_DEFAULTS = { min: 0, max: 10, step: 1 };

function typeOf(spec) {
  return String((spec && spec.type) || 'string').toLowerCase();
}

// A secret-typed argument is a reference {"secret": NAME} to a stored secret (picked from the
// list), or a plain value shown by the server as MASK: sending MASK back keeps that value.
const MASK = '********';

function secretRef(value) {
  return value && typeof value === 'object' && !Array.isArray(value) && typeof value.secret === 'string'
    && Object.keys(value).length === 1 ? value.secret : null;
}

function wholeList(specs) {
  return specs.length === 1 && typeOf(specs[0]) === 'list';
}
const DEFAULT_SCHEDULE = PRESETS[1].fields;

let current = null;   // the open dialog's state; one dialog at a time

export function openJobDialog(ctx, job) {
  const dialog = $('#job-dialog');
  if (!dialog.dataset.wired) wire(dialog);
  return new Promise((resolve) => {
    current = { ctx, job, resolve, jsonMode: false, files: [], secrets: [], saved: null };
    fill(job);
    showModal(dialog);
    $('#job-name').focus();
  });
}

function wire(dialog) {
  dialog.dataset.wired = '1';
  dialog.addEventListener('close', () => {
    if (current) current.resolve(current.saved);
    current = null;
  });
  $('#job-class').addEventListener('change', () => renderClass([]));
  $('#job-use-example').addEventListener('click', useExample);
  $('#job-args-mode').addEventListener('click', () => setJsonMode(!current.jsonMode, collectArgs(true)));
  $('#job-form').addEventListener('submit', (event) => { event.preventDefault(); save(); });
  $('#job-timezone-field').addEventListener('input', () => previewSoon());
  replace($('#job-presets'), PRESETS.map((preset) => h('button', {
    type: 'button', class: 'small', text: preset.label,
    onclick: () => { setCron(preset.fields); preview(); },
  })));
  replace($('#job-cron'), CRON_FIELDS.map((field) => h('label', { class: 'cron-field' },
    h('span', { text: FIELD_LABELS[field] }),
    h('input', { id: `cron-${field}`, name: field, autocomplete: 'off', spellcheck: 'false', oninput: previewSoon }),
    h('span', { class: 'hint', text: FIELD_HINTS[field] }))));
}

async function fill(job) {
  const { ctx } = current;
  $('#job-dialog-title').textContent = job ? `Edit job "${job.name}"` : 'New job';
  $('#job-save').textContent = job ? 'Save changes' : 'Create job';
  $('#job-error').textContent = '';
  $('#job-name').value = job ? job.name : '';
  $('#job-timezone').textContent = `(scheduler timezone: ${ctx.info.timezone})`;
  const classes = ctx.jobClasses;
  const select = $('#job-class');
  const options = classes.map((c) => h('option', { value: c.job_class_string, text: c.name }));
  if (job && !ctx.jobClass(job.job_class_string)) {
    options.push(h('option', { value: job.job_class_string, text: `${job.job_class_string} (unavailable)` }));
  }
  if (!job) options.unshift(h('option', { value: '', text: 'Choose a job class…' }));
  replace(select, options);
  select.value = job ? job.job_class_string : '';
  setCron(job || DEFAULT_SCHEDULE);
  setOptions(job || {});
  renderClass(job ? job.pub_args || [] : []);
  preview();
  const [files, secrets] = await Promise.allSettled([get('files'), get('secrets')]);
  if (!current) return;
  // without a list, file arguments fall back to typing the path, secrets to the JSON editor
  if (files.status === 'fulfilled') current.files = files.value.files || [];
  if (secrets.status === 'fulfilled') current.secrets = (secrets.value.secrets || []).map((s) => s.name);
  renderClass(collectArgs(true));
}

const OPTION_INPUTS = { timeout: '#job-timeout', retries: '#job-retries', retry_delay: '#job-retry-delay' };

function setOptions(job) {
  const zone = job.timezone && job.timezone !== current.ctx.info.timezone ? job.timezone : '';
  $('#job-timezone-field').value = zone;
  for (const [key, selector] of Object.entries(OPTION_INPUTS)) {
    $(selector).value = job[key] === null || job[key] === undefined ? '' : String(job[key]);
  }
  const notify = job.notify_changes;
  $('#job-notify-changes').value = notify === true ? 'true' : notify === false ? 'false' : '';
  $('#job-options').open = Boolean(zone || notify !== undefined && notify !== null
    || Object.keys(OPTION_INPUTS).some((key) => job[key] !== null && job[key] !== undefined));
}

// The options as the API takes them: null asks for the server's default.
function optionValues() {
  const values = { timezone: $('#job-timezone-field').value.trim() || current.ctx.info.timezone };
  for (const [key, selector] of Object.entries(OPTION_INPUTS)) {
    const raw = $(selector).value.trim();
    values[key] = raw === '' ? null : Number(raw);
  }
  const notify = $('#job-notify-changes').value;
  values.notify_changes = notify === '' ? null : notify === 'true';
  return values;
}

function setCron(fields) {
  for (const field of CRON_FIELDS) {
    const input = $(`#cron-${field}`);
    input.value = fields[field] ?? '*';
    input.removeAttribute('aria-invalid');
  }
}

function cronValues() {
  return Object.fromEntries(CRON_FIELDS.map((field) => [field, $(`#cron-${field}`).value.trim() || '*']));
}

function classInfo() {
  const chosen = current.ctx.jobClass($('#job-class').value);
  return chosen ? chosen.info || {} : { arguments: [] };
}

function renderClass(values) {
  const info = classInfo();
  $('#job-class-notes').textContent = info.notes || '';
  $('#job-example').textContent = info.example_arguments ? `Example: ${info.example_arguments}` : '';
  $('#job-use-example').hidden = !info.example_arguments;
  const specs = info.arguments || [];
  const fitsForm = wholeList(specs) || values.every((v, index) => v === null || typeof v !== 'object'
    || (Array.isArray(v) && typeOf(specs[index]) === 'list')
    || (secretRef(v) !== null && typeOf(specs[index]) === 'secret'));
  setJsonMode(current.jsonMode || !fitsForm, values);
}

function setJsonMode(on, values) {
  current.jsonMode = on;
  $('#job-args-mode').textContent = on ? 'Edit as fields' : 'Edit as JSON';
  const box = $('#job-args');
  if (on) {
    replace(box, h('label', {},
      h('span', { text: 'Arguments (a JSON list, in order)' }),
      h('textarea', { id: 'job-args-json', rows: '3', spellcheck: 'false', value: JSON.stringify(values) })));
    return;
  }
  const specs = classInfo().arguments || [];
  if (!$('#job-class').value) {
    replace(box, h('p', { class: 'muted', text: 'Choose a job class first.' }));
    return;
  }
  if (wholeList(specs)) {
    replace(box, argumentField(specs[0], 0, values, true));
    return;
  }
  const count = Math.max(specs.length, values.length);
  const fields = Array.from({ length: count }, (_, index) => argumentField(
    specs[index] || { type: 'string', description: `Extra argument ${index + 1}` }, index, values[index]));
  replace(box, fields, h('button', {
    type: 'button', class: 'link add-arg', text: '+ Add an argument',
    onclick: () => setJsonMode(false, [...collectArgs(true), ...Array(count - collectArgs(true).length).fill(null), '']),
  }));
}

function argumentField(spec, index, value, whole = false) {
  const type = typeOf(spec);
  const id = `job-arg-${index}`;
  let input;
  if (type === 'secret') return secretField(spec, index, value);
  if (type === 'list') {
    input = h('input', {
      id, dataset: { type, whole: whole ? '1' : '' }, autocomplete: 'off', spellcheck: 'false', type: 'text',
      placeholder: '["first", "second"]',
      value: value === undefined || value === null ? '' : JSON.stringify(value),
    });
  } else if (type === 'range') {
    const bounds = Object.fromEntries(Object.entries(RANGE_DEFAULTS).map(([key, fallback]) => [
      key, Number.isFinite(Number(spec[key])) && spec[key] !== null && spec[key] !== '' ? Number(spec[key]) : fallback]));
    input = h('input', {
      id, dataset: { type, min: String(bounds.min), max: String(bounds.max) }, type: 'number',
      min: String(bounds.min), max: String(bounds.max), step: String(bounds.step),
      value: value === undefined || value === null ? String(bounds.min) : String(value),
    });
  } else if (type === 'file') {
    const files = current.files.map((f) => f.filename);
    if (value && !files.includes(value)) files.push(value);
    input = h('select', { id, dataset: { type } },
      h('option', { value: '', text: files.length ? 'Choose an uploaded file…' : 'No files uploaded yet (see the Files tab)' }),
      files.map((name) => h('option', { value: name, text: name })));
    input.value = value ?? '';
  } else if (type === 'boolean' || type === 'bool') {
    input = h('select', { id, dataset: { type } },
      h('option', { value: '', text: '(not set)' }), h('option', { value: 'true', text: 'yes' }),
      h('option', { value: 'false', text: 'no' }));
    input.value = value === true ? 'true' : value === false ? 'false' : '';
  } else {
    input = h('input', {
      id, dataset: { type }, autocomplete: 'off', spellcheck: 'false',
      type: NUMBER_TYPES.has(type) ? 'number' : (type === 'password' || type === 'secret') ? 'password' : 'text',
      step: NUMBER_TYPES.has(type) ? 'any' : undefined,
      value: value === undefined || value === null ? '' : String(value),
    });
  }
  return h('label', { class: 'arg', for: id },
    h('span', {}, spec.description || `Argument ${index + 1}`, ' ', h('span', { class: 'tag', text: type })),
    input);
}

function secretField(spec, index, value) {
  const id = `job-arg-${index}`;
  const ref = secretRef(value);
  const names = [...current.secrets];
  if (ref && !names.includes(ref)) names.push(ref);
  const select = h('select', { id, dataset: { type: 'secret' } },
    h('option', { value: '', text: current.secrets.length ? 'Choose a secret…' : 'No secrets stored yet (see the Secrets tab)' }),
    names.map((name) => h('option', {
      value: `secret:${name}`, text: current.secrets.includes(name) ? name : `${name} (missing)`,
    })),
    value === MASK ? h('option', { value: 'mask', text: 'the value stored in this job (hidden)' }) : null,
    h('option', { value: 'plain', text: 'type a value here instead (stored in the job)' }));
  select.value = ref ? `secret:${ref}` : value === MASK ? 'mask' : (value ? 'plain' : '');
  const plain = h('input', {
    id: `job-plain-${index}`, class: 'secret-plain', type: 'password', autocomplete: 'new-password',
    spellcheck: 'false', 'aria-label': `${spec.description || `Argument ${index + 1}`}: value`,
    value: !ref && value && value !== MASK ? String(value) : '',
  });
  plain.hidden = select.value !== 'plain';
  select.addEventListener('change', () => { plain.hidden = select.value !== 'plain'; if (!plain.hidden) plain.focus(); });
  return h('label', { class: 'arg', for: id },
    h('span', {}, spec.description || `Argument ${index + 1}`, ' ', h('span', { class: 'tag', text: 'secret' })),
    select, plain);
}

function secretValue(select) {
  const choice = select.value;
  if (choice.startsWith('secret:')) return { secret: choice.slice('secret:'.length) };
  if (choice === 'mask') return MASK;
  if (choice === 'plain') {
    const text = document.getElementById(select.id.replace('job-arg-', 'job-plain-')).value;
    return text === '' ? null : text;
  }
  return null;
}

function collectArgs(lenient = false) {
  if (current.jsonMode) {
    const text = $('#job-args-json')?.value.trim() || '[]';
    try {
      const parsed = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed;
    } catch (err) { /* reported below */ }
    if (lenient) return [];
    throw new Error('Arguments must be a JSON list, e.g. ["value", 3].');
  }
  const inputs = Array.from(document.querySelectorAll('#job-args [id^="job-arg-"]'));
  const values = inputs.map((input, index) => {
    const raw = input.value.trim();
    if (input.dataset.type === 'list') return listValue(raw, index, lenient, input.dataset.whole === '1');
    if (input.dataset.type === 'secret') return secretValue(input);
    if (raw === '') return null;
    if (input.dataset.type === 'range') return rangeValue(raw, index, input.dataset, lenient);
    if (input.dataset.type === 'boolean' || input.dataset.type === 'bool') return raw === 'true';
    if (NUMBER_TYPES.has(input.dataset.type) && Number.isFinite(Number(raw))) return Number(raw);
    return input.value;
  });
  if (inputs.length === 1 && inputs[0].dataset.whole === '1') return values[0] || [];
  while (values.length && values[values.length - 1] === null) values.pop();   // optional tail
  if (!lenient) {
    const missing = values.findIndex((v) => v === null);
    if (missing >= 0) throw new Error(`Argument ${missing + 1} is empty; only trailing arguments may be left out.`);
  }
  return values;
}

function listValue(raw, index, lenient, whole) {
  if (raw === '') return whole ? [] : null;
  try {
    const parsed = JSON.parse(raw);
    if (Array.isArray(parsed)) return parsed;
  } catch (err) { /* reported below */ }
  if (lenient) return whole ? [] : null;
  throw new Error(`Argument ${index + 1} must be a JSON list, e.g. ["first", "second"].`);
}

function rangeValue(raw, index, bounds, lenient) {
  const number = Number(raw);
  const min = Number(bounds.min);
  const max = Number(bounds.max);
  if (Number.isInteger(number) && number >= min && number <= max) return number;
  if (lenient) return Number.isFinite(number) ? number : null;
  throw new Error(`Argument ${index + 1} must be a whole number from ${min} to ${max}.`);
}

function useExample() {
  try {
    const values = JSON.parse(classInfo().example_arguments);
    renderClass(Array.isArray(values) ? values : [values]);
  } catch (err) {
    $('#job-error').textContent = 'The example arguments of this job class are not valid JSON.';
  }
}

const previewSoon = debounce(() => preview(), 300);

async function preview() {
  if (!current) return;
  const fields = cronValues();
  const zone = $('#job-timezone-field').value.trim() || current.ctx.info.timezone;
  $('#job-cron-words').textContent = describeCron(fields);
  const list = $('#job-preview');
  const error = $('#job-cron-error');
  try {
    const data = await get(`cron/preview${query({ ...fields, timezone: zone })}`);
    for (const field of CRON_FIELDS) $(`#cron-${field}`).removeAttribute('aria-invalid');
    error.textContent = '';
    const times = (data.next_run_times || []).slice(0, 5);
    replace(list, times.length ? times.map((t) => h('li', {},
      h('span', { text: formatInZone(t, data.timezone || zone) }),
      h('span', { class: 'muted small', text: ` · your time ${formatLocal(t)}` })))
      : h('li', { class: 'muted', text: 'This schedule never fires.' }));
  } catch (err) {
    replace(list);
    error.textContent = err.message;
    const bad = (err.body && err.body.field) || CRON_FIELDS.find((f) => new RegExp(`\\b${f}\\b`).test(err.message));
    for (const field of CRON_FIELDS) {
      $(`#cron-${field}`).toggleAttribute('aria-invalid', field === bad);
    }
  }
}

async function save() {
  const error = $('#job-error');
  error.textContent = '';
  const body = {
    job_class_string: $('#job-class').value, name: $('#job-name').value.trim(), ...cronValues(), ...optionValues(),
  };
  if (!body.job_class_string) { error.textContent = 'Choose a job class.'; return; }
  if (!body.name) { error.textContent = 'Give the job a name.'; $('#job-name').focus(); return; }
  try {
    body.pub_args = collectArgs();
  } catch (err) {
    error.textContent = err.message;
    return;
  }
  const button = $('#job-save');
  button.disabled = true;
  try {
    const { job } = current;
    const answer = job
      ? await api('PUT', `jobs/${encodeURIComponent(job.job_id)}`, body)
      : await api('POST', 'jobs', body);
    current.saved = { ...body, job_id: answer.job_id };
    $('#job-dialog').close();
  } catch (err) {
    error.textContent = err.message;
  } finally {
    button.disabled = false;
  }
}
