// The Reports tab: executions in a time range, per-state statistics, the runs-per-day chart,
// and the report viewer.

import { get, query } from './api.js';
import { emptyRow, h, $, renderPager, renderRangeButtons, replace, statCard } from './dom.js';
import { drawChart, stateClass } from './chart.js';
import { RANGES, formatDuration, rangeParams, timeCell } from './time.js';
import { showReport, stopExecution } from './viewer.js';
import { countsText } from './findings.js';

const PAGE = 50;
const POLL_MS = 2000;
const REFRESH_MS = 15000;

export function stateBadge(state) {
  return h('span', { class: `badge ${stateClass(state)}`, text: state || 'unknown' });
}

export class ReportsTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.range = 'week';
    this.offset = 0;
    this.state = null;       // show only executions in this state
    this.timer = null;
    this.lastStats = null;
    this.body = $('#executions-table tbody');
    window.addEventListener('resize', () => this.redrawChart());
  }

  // the execution states come from GET /api/v1/info, never from a copy here
  isActive(state) {
    return this.ctx.info.active_states.includes(state);
  }

  async show(arg) {
    this.renderRange();
    await this.load();
    if (arg) {
      // not awaited: the viewer stays open while the rest of the page goes on
      showReport(this.ctx, arg).then(() => {
        if (location.hash.startsWith('#/reports/')) history.replaceState(null, '', '#/reports');
      });
    }
  }

  hide() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  renderRange() {
    renderRangeButtons($('#reports-range'), RANGES, this.range, (key) => {
      this.range = key;
      this.offset = 0;
      this.renderRange();
      this.load();
    });
  }

  async load() {
    clearTimeout(this.timer);
    const params = rangeParams(this.range);
    this.params = params;
    const seq = (this.seq = (this.seq || 0) + 1);
    const [list, stats] = await Promise.allSettled([
      get(`executions${query({ ...params, state: this.state, limit: PAGE, offset: this.offset, result: false })}`),
      get(`executions/stats${query(params)}`),
    ]);
    if (seq !== this.seq) return;   // a newer load (range, page) has started meanwhile
    if (stats.status === 'fulfilled') this.renderStats(stats.value);
    if (list.status === 'rejected') {
      replace(this.body, emptyRow(8, `Executions could not be loaded: ${list.reason.message}`));
      return;
    }
    const executions = list.value.executions || [];
    this.renderRows(executions, list.value.total);
    // Running executions are followed closely; otherwise the first page refreshes now and then
    // so that new runs show up.
    const active = executions.some((e) => this.isActive(e.state));
    if (this.ctx.currentTab === 'reports' && (active || this.offset === 0)) {
      this.timer = setTimeout(() => this.load(), active ? POLL_MS : REFRESH_MS);
    }
  }

  renderStats(stats) {
    this.lastStats = stats;
    const byState = stats.by_state || {};
    const total = Object.values(byState).reduce((a, b) => a + b, 0);
    // each count is a button: it shows only the executions in that state (again: all of them)
    const card = (state, label, count, css) => {
      const button = statCard(label, count, `${css}${this.state === state ? ' selected' : ''}`, 'button');
      button.type = 'button';
      button.title = state ? `Show only ${state} executions` : 'Show executions in every state';
      button.setAttribute('aria-pressed', String(this.state === state));
      button.addEventListener('click', () => {
        this.state = this.state === state ? null : state;
        this.offset = 0;
        this.load();
      });
      return button;
    };
    replace($('#exec-stats'), card(null, 'executions', total, ''),
      this.ctx.info.states.map((state) => card(state, state, byState[state] || 0, `stat-state ${stateClass(state)}`)));
    replace($('#chart-legend'), this.ctx.info.states.filter((s) => byState[s]).map((state) => h('span', { class: 'legend-item' },
      h('span', { class: `swatch ${stateClass(state)}` }), state)));
    this.redrawChart();
  }

  redrawChart() {
    if (!this.lastStats || this.ctx.currentTab !== 'reports') return;
    const start = this.range === 'all' ? firstDay(this.lastStats.per_day) : new Date(this.params.time_range_start);
    const drawn = drawChart($('#exec-chart'), this.lastStats.per_day || [], start, new Date(), this.ctx.info.states);
    $('#chart-title').textContent = `Runs per ${drawn.size} (UTC days)`;
  }

  async stop(execution) {
    await stopExecution(execution);
    this.load();
  }

  renderRows(executions, total) {
    const zone = this.ctx.info.timezone;
    const rows = executions.map((e) => {
      const job = e.job || {};
      return h('tr', { dataset: { executionId: e.execution_id } },
        h('td', {},
          job.job_id ? h('a', { href: `#/jobs/${encodeURIComponent(job.job_id)}`, text: job.name || job.job_id, title: 'Open the job' })
            : h('span', { text: job.name || '(deleted job)' }),
          h('div', { class: 'muted small', text: this.ctx.className(job.job_class_string || e.job_class_string || '') })),
        h('td', {}, stateBadge(e.state)),
        h('td', {}, timeCell(e.scheduled_time, zone)),
        h('td', { class: 'num' }, formatDuration(e.started_time, e.finished_time || (this.isActive(e.state) ? new Date().toISOString() : null))),
        h('td', { class: 'small' }, e.hostname || ''),
        h('td', { class: 'small findings-counts' }, countsText(e.findings)),
        h('td', { class: 'desc', title: e.description || '' }, e.description || ''),
        h('td', { class: 'col-actions' },
          this.isActive(e.state) && e.state !== 'stopping' && this.ctx.can('operator')
            ? h('button', { type: 'button', class: 'small danger-outline', text: 'Stop', onclick: () => this.stop(e) }) : null,
          h('a', { class: 'button small', href: `#/reports/${encodeURIComponent(e.execution_id)}`, text: 'View report' })));
    });
    replace(this.body, rows.length ? rows
      : emptyRow(8, this.state ? `No ${this.state} executions in this time range.` : 'No executions in this time range.'));
    renderPager($('#executions-pager'), { offset: this.offset, limit: PAGE, total, shown: rows.length },
      (offset) => { this.offset = offset; this.load(); });
  }
}

function firstDay(perDay) {
  const days = (perDay || []).map((row) => row.day).sort();
  return days.length ? new Date(`${days[0]}T00:00:00Z`) : new Date(Date.now() - 7 * 86400000);
}

