// The Findings tab: what runs found (GET /api/v1/findings), filtered by job, kind, severity and
// state, "new since" a date or a job's last run, paged; a finding's history in a dialog, with
// links to the runs that saw it.

import { get, query } from './api.js';
import { debounce, emptyRow, h, $, renderPager, replace, showModal, toast } from './dom.js';
import { timeCell } from './time.js';

const PAGE = 100;
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];
const CHANGE_LABELS = { new: 'new', changed: 'changed', unchanged: 'unchanged', gone: 'gone' };

export function severityBadge(severity) {
  return h('span', { class: `badge severity severity-${severity}`, text: severity });
}

// "3 new · 1 changed · 2 gone" (nothing for a run that recorded no change)
export function countsText(counts) {
  if (!counts) return '';
  const parts = ['new', 'changed', 'gone'].filter((k) => counts[k]).map((k) => `${counts[k]} ${k}`);
  return parts.join(' · ');
}

function runLink(executionId, content) {
  if (!executionId) return content;
  return h('a', { href: `#/reports/${encodeURIComponent(executionId)}`, title: 'Open the report of this run' }, content);
}

export class FindingsTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.offset = 0;
    this.jobs = new Map();        // job_id -> name
    this.body = $('#findings-table tbody');
    const reload = debounce(() => { this.offset = 0; this.load(); }, 250);
    $('#findings-kind').addEventListener('input', reload);
    for (const id of ['#findings-job', '#findings-severity', '#findings-state', '#findings-since', '#findings-date']) {
      $(id).addEventListener('change', reload);
    }
    $('#findings-since').addEventListener('change', () => this.renderSince());
    const dialog = $('#finding-dialog');
    for (const button of dialog.querySelectorAll('[data-close]')) button.addEventListener('click', () => dialog.close());
  }

  async show() {
    await this.loadJobs();
    this.renderSince();
    await this.load();
  }

  async loadJobs() {
    try {
      const data = await get(`jobs${query({ limit: 1000, sort: 'name' })}`);
      this.jobs = new Map((data.jobs || []).map((job) => [job.job_id, job.name]));
    } catch (err) {
      return;     // the list still works with job ids
    }
    const select = $('#findings-job');
    const current = select.value;
    replace(select, h('option', { value: '', text: 'All jobs' }),
      [...this.jobs].map(([id, name]) => h('option', { value: id, text: name, selected: id === current })));
  }

  renderSince() {
    $('#findings-date').hidden = $('#findings-since').value !== 'date';
  }

  filters() {
    return {
      job_id: $('#findings-job').value,
      kind: $('#findings-kind').value.trim(),
      severity: $('#findings-severity').value,
      state: $('#findings-state').value,
    };
  }

  async load() {
    const filters = this.filters();
    const since = $('#findings-since').value;
    const seq = (this.seq = (this.seq || 0) + 1);
    let data;
    let note = '';
    try {
      if (since === 'last-run') {
        if (!filters.job_id) {
          replace(this.body, emptyRow(9, 'Choose a job to see what is new in its last run.'));
          $('#findings-pager').hidden = true;
          return;
        }
        const runs = await get(`executions${query({ job_id: filters.job_id, state: 'succeeded', time_range_start: '1970-01-01T00:00:00Z', limit: 1, result: false })}`);
        const last = (runs.executions || [])[0];
        if (!last) {
          replace(this.body, emptyRow(9, 'This job has no succeeded run yet.'));
          return;
        }
        data = await get(`executions/${encodeURIComponent(last.execution_id)}/findings${query({ change: 'new', limit: PAGE, offset: this.offset })}`);
        note = `New in the run of ${new Date(last.scheduled_time).toLocaleString()}`;
      } else {
        const dateText = $('#findings-date').value;
        const sinceTime = since === 'date' && dateText ? new Date(`${dateText}T00:00:00`).toISOString() : '';
        data = await get(`findings${query({ ...filters, since: sinceTime, limit: PAGE, offset: this.offset })}`);
      }
    } catch (err) {
      if (seq === this.seq) replace(this.body, emptyRow(9, `Findings could not be loaded: ${err.message}`));
      return;
    }
    if (seq !== this.seq) return;
    $('#findings-note').textContent = note;
    this.renderRows(data.findings || [], data.total);
  }

  renderRows(findings, total) {
    const zone = this.ctx.info.timezone;
    const rows = findings.map((f) => h('tr', { dataset: { findingId: f.id } },
      h('td', {}, severityBadge(f.severity)),
      h('td', { class: 'small' }, f.kind),
      h('td', {}, h('code', { text: f.key })),
      h('td', { class: 'desc' }, f.title || ''),
      h('td', {}, this.jobs.get(f.job_id) || f.job_id),
      h('td', {}, h('span', { class: `badge finding-${f.change || f.state}`, text: f.change ? CHANGE_LABELS[f.change] : f.state })),
      h('td', {}, runLink(f.first_execution_id || f.execution_id, timeCell(f.first_seen || f.time, zone))),
      h('td', {}, f.last_seen ? runLink(f.last_execution_id, timeCell(f.last_seen, zone)) : ''),
      h('td', { class: 'col-actions' }, h('button', {
        type: 'button', class: 'small', text: 'History', onclick: () => this.history(f.id),
      }))));
    replace(this.body, rows.length ? rows : emptyRow(9, 'No findings match.'));
    renderPager($('#findings-pager'), { offset: this.offset, limit: PAGE, total, shown: rows.length },
      (offset) => { this.offset = offset; this.load(); });
  }

  async history(id) {
    let finding;
    try {
      finding = await get(`findings/${encodeURIComponent(id)}`);
    } catch (err) {
      toast(err.message, 'error');
      return;
    }
    const zone = this.ctx.info.timezone;
    $('#finding-dialog-title').textContent = `${finding.kind} ${finding.key}`;
    replace($('#finding-meta'),
      [['Job', this.jobs.get(finding.job_id) || finding.job_id],
        ['State', finding.state],
        ['Severity', severityBadge(finding.severity)],
        ['Title', finding.title || '—'],
        ['Seen by', `${finding.runs_seen} run(s)`],
        ['Details', h('code', { class: 'small', text: JSON.stringify(finding.details) })]]
        .map(([label, value]) => h('div', {}, h('dt', { text: label }), h('dd', {}, value))));
    replace($('#finding-history tbody'), (finding.history || []).map((event) => h('tr', {},
      h('td', {}, runLink(event.execution_id, timeCell(event.time, zone))),
      h('td', {}, h('span', { class: `badge finding-${event.change}`, text: event.change })),
      h('td', {}, event.severity ? severityBadge(event.severity) : ''),
      h('td', { class: 'desc' }, event.title || ''))));
    showModal($('#finding-dialog'));
  }
}
