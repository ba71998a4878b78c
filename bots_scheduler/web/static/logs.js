// The Logs tab: the audit log (who added, changed, ran or deleted what), filtered and paged.

import { get, query } from './api.js';
import { debounce, emptyRow, h, $, renderPager, renderRangeButtons, replace } from './dom.js';
import { RANGES, rangeParams, timeCell } from './time.js';

const PAGE = 100;
const EVENT_LABELS = { custom_run: 'run now' };

export class LogsTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.range = 'week';
    this.offset = 0;
    this.body = $('#logs-table tbody');
    const reload = debounce(() => { this.offset = 0; this.load(); }, 250);
    for (const id of ['#logs-user', '#logs-job']) $(id).addEventListener('input', reload);
    $('#logs-event').addEventListener('change', reload);
  }

  async show() {
    renderRangeButtons($('#logs-range'), RANGES, this.range, (key) => {
      this.range = key;
      this.offset = 0;
      this.show();
    });
    await this.load();
  }

  filters() {
    return { user: $('#logs-user').value.trim(), event: $('#logs-event').value, job: $('#logs-job').value.trim() };
  }

  async load() {
    const filters = this.filters();
    let data;
    const seq = (this.seq = (this.seq || 0) + 1);
    try {
      data = await get(`logs${query({ ...rangeParams(this.range), ...filters, limit: PAGE, offset: this.offset })}`);
      if (seq !== this.seq) return;
    } catch (err) {
      replace(this.body, emptyRow(5, `The audit log could not be loaded: ${err.message}`));
      return;
    }
    const logs = data.logs || [];
    const zone = this.ctx.info.timezone;
    const rows = logs.map((log) => h('tr', {},
      h('td', {}, timeCell(log.created_time, zone)),
      h('td', {}, log.user || ''),
      h('td', {}, h('span', { class: `event event-${String(log.event).replace(/\s+/g, '-')}`, text: EVENT_LABELS[log.event] || log.event })),
      h('td', {}, jobCell(log)),
      h('td', { class: 'log-desc' }, describeLog(log))));
    replace(this.body, rows.length ? rows : emptyRow(5, 'No audit log entries match.'));
    renderPager($('#logs-pager'), { offset: this.offset, limit: PAGE, total: data.total, shown: rows.length },
      (offset) => { this.offset = offset; this.load(); });
  }
}

function jobCell(log) {
  if (!log.job_id) return log.job_name || '';
  if (log.event === 'deleted' || String(log.event).startsWith('file')) return log.job_name || log.job_id;
  return h('a', { href: `#/jobs/${encodeURIComponent(log.job_id)}`, text: log.job_name || log.job_id });
}

const CHANGE = /^(\w+): (.*) → (.*)$/s;

// Modifications are described as "field: old → new; field: old → new" (or as JSON
// {field: [old, new]}); they are shown as one line per field. Anything else is shown as written.
export function describeLog(log) {
  const text = log.description || '';
  // ndscheduler's form (the bare execution id); "execution ID" in entries written before 1.0
  const run = log.event === 'custom_run' && text.match(/^(?:execution )?(\w+)$/);
  if (run) return h('a', { href: `#/reports/${run[1]}`, text: 'execution report' });
  const parts = text.split('; ');
  if (text && parts.every((p) => CHANGE.test(p))) {
    return h('ul', { class: 'changes' }, parts.map((p) => {
      const [, field, before, after] = p.match(CHANGE);
      return h('li', {}, h('b', { text: `${field}: ` }), h('del', { text: before }), ' → ', h('ins', { text: after }));
    }));
  }
  let parsed = null;
  if (/^[[{]/.test(text.trim())) {
    try { parsed = JSON.parse(text); } catch (err) { parsed = null; }
  }
  if (!parsed || typeof parsed !== 'object') return text;
  const changes = Array.isArray(parsed) ? parsed : Object.entries(parsed).map(([field, value]) => ({ field, value }));
  return h('ul', { class: 'changes' }, changes.map((change) => {
    const field = change.field ?? change.name ?? '';
    const value = change.value ?? change;
    let before;
    let after;
    if (Array.isArray(value) && value.length === 2) [before, after] = value;
    else if (value && typeof value === 'object' && ('old' in value || 'new' in value)) ({ old: before, new: after } = value);
    else if (value && typeof value === 'object' && ('from' in value || 'to' in value)) ({ from: before, to: after } = value);
    else return h('li', {}, h('b', { text: `${field}: ` }), show(value));
    return h('li', {}, h('b', { text: `${field}: ` }), h('del', { text: show(before) }), ' → ', h('ins', { text: show(after) }));
  }));
}

function show(value) {
  if (value === undefined || value === null || value === '') return '(empty)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
