// The Jobs tab: statistics, search, sort, paging and the actions on each job.

import { api, ApiError, get, query } from './api.js';
import { confirmDialog, debounce, emptyRow, h, $, renderPager, replace, statCard, toast } from './dom.js';
import { cronText, describeCron } from './cron.js';
import { timeCell } from './time.js';
import { openJobDialog } from './jobdialog.js';

const PAGE = 50;

export class JobsTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.state = { q: '', sort: 'name', order: 'asc', offset: 0 };
    this.fullList = null;   // set when the server sends every job at once (no paging support)
    this.body = $('#jobs-table tbody');
    $('#job-search').addEventListener('input', debounce((event) => {
      this.state.q = event.target.value.trim();
      this.state.offset = 0;
      this.load();
    }, 250));
    $('#job-new').addEventListener('click', () => this.edit(null));
    $('#job-new').hidden = !ctx.can('admin');   // creating and editing jobs: admin
    for (const th of document.querySelectorAll('#jobs-table th[data-sort]')) {
      th.tabIndex = 0;
      th.addEventListener('click', () => this.sortBy(th.dataset.sort));
      th.addEventListener('keydown', (event) => { if (event.key === 'Enter') this.sortBy(th.dataset.sort); });
    }
  }

  async show(arg) {
    await this.load();
    if (arg && this.ctx.can('admin')) {
      try {
        this.edit(await get(`jobs/${encodeURIComponent(arg)}`));
      } catch (err) {
        toast(err.status === 404 ? 'That job no longer exists.' : err.message, 'error');
      }
    }
  }

  sortBy(column) {
    const { sort, order } = this.state;
    this.state.order = sort === column && order === 'asc' ? 'desc' : 'asc';
    this.state.sort = column;
    this.state.offset = 0;
    this.load();
  }

  async load() {
    const { q, sort, order, offset } = this.state;
    let page;
    const seq = (this.seq = (this.seq || 0) + 1);
    try {
      // searched, sorted and paged by the server (web/handlers/joblist.py)
      page = await get(`jobs${query({ q, sort, order, limit: PAGE, offset })}`);
      if (seq !== this.seq) return;   // typed on: a newer search is under way
    } catch (err) {
      replace(this.body, emptyRow(6, `Jobs could not be loaded: ${err.message}`));
      return;
    }
    this.render(page);
  }

  render(page) {
    const stats = page.stats || {};
    replace($('#job-stats'),
      statCard('jobs', stats.total ?? page.total),
      statCard('active', stats.active ?? 0, 'stat-active'),
      statCard('paused', stats.paused ?? 0, 'stat-paused'));
    for (const th of document.querySelectorAll('#jobs-table th[data-sort]')) {
      th.setAttribute('aria-sort', th.dataset.sort === this.state.sort
        ? (this.state.order === 'asc' ? 'ascending' : 'descending') : 'none');
    }
    const rows = page.jobs.map((job) => this.row(job));
    replace(this.body, rows.length ? rows
      : emptyRow(6, this.state.q ? 'No job matches the search.' : 'No jobs yet. Create one with "New job".'));
    renderPager($('#jobs-pager'), { offset: this.state.offset, limit: PAGE, total: page.total, shown: rows.length },
      (offset) => { this.state.offset = offset; this.load(); });
  }

  row(job) {
    const active = Boolean(job.next_run_time);
    const zone = this.ctx.info.timezone;
    const known = this.ctx.jobClass(job.job_class_string);
    return h('tr', { dataset: { jobId: job.job_id } },
      h('td', {},
        this.ctx.can('admin')
          ? h('a', { class: 'job-name', href: `#/jobs/${encodeURIComponent(job.job_id)}`, text: job.name })
          : h('span', { class: 'job-name', text: job.name }),
        h('div', { class: 'muted mono small job-id', text: job.job_id, title: job.job_id })),
      h('td', { title: job.job_class_string },
        this.ctx.className(job.job_class_string),
        known ? null : h('span', { class: 'tag tag-warn', text: 'unavailable' })),
      h('td', { class: 'schedule' },
        h('code', { class: 'cron', text: cronText(job) }),
        h('div', { class: 'muted small', text: `${describeCron(job)} (${job.timezone || zone})` })),
      h('td', {}, active ? timeCell(job.next_run_time, zone) : h('span', { class: 'muted', text: '—' })),
      h('td', {}, h('span', { class: `badge ${active ? 'badge-active' : 'badge-paused'}`, text: active ? 'active' : 'paused' })),
      h('td', { class: 'col-actions' }, h('div', { class: 'actions' }, this.actions(job, active, known))));
  }

  // Only what the caller's role may do (CONTRACT §6): operators run, pause and resume; admins
  // also edit and delete. A viewer gets no controls.
  actions(job, active, known) {
    const operator = this.ctx.can('operator');
    const admin = this.ctx.can('admin');
    return [
      operator ? h('button', { type: 'button', class: 'small', text: 'Run now', disabled: !known, onclick: () => this.runNow(job) }) : null,
      admin ? h('button', { type: 'button', class: 'small', text: 'Edit', onclick: () => this.edit(job) }) : null,
      operator ? (active
        ? h('button', { type: 'button', class: 'small', text: 'Pause', onclick: () => this.act('PATCH', job, 'paused') })
        : h('button', { type: 'button', class: 'small', text: 'Resume', onclick: () => this.act('OPTIONS', job, 'resumed') })) : null,
      admin ? h('button', { type: 'button', class: 'small danger-outline', text: 'Delete', onclick: () => this.remove(job) }) : null,
    ];
  }

  async edit(job) {
    const saved = await openJobDialog(this.ctx, job);
    if (saved) {
      toast(job ? `Job "${saved.name}" saved.` : `Job "${saved.name}" created.`);
      if (location.hash.startsWith('#/jobs/')) history.replaceState(null, '', '#/jobs');
      this.load();
    } else if (location.hash.startsWith('#/jobs/')) {
      history.replaceState(null, '', '#/jobs');
    }
  }

  async act(method, job, done) {
    try {
      await api(method, `jobs/${encodeURIComponent(job.job_id)}`);
      toast(`Job "${job.name}" ${done}.`);
    } catch (err) {
      toast(err.message, 'error');
    }
    this.load();
  }

  async runNow(job) {
    try {
      const { execution_id: id } = await api('POST', `executions/${encodeURIComponent(job.job_id)}`);
      toast(`Job "${job.name}" started.`, 'ok',
        h('a', { href: `#/reports/${encodeURIComponent(id)}`, class: 'toast-link', text: 'View report' }));
    } catch (err) {
      toast(err instanceof ApiError ? err.message : String(err), 'error');
    }
  }

  async remove(job) {
    const sure = await confirmDialog('Delete job?',
      `"${job.name}" will be removed from the schedule. Its past reports are kept.`);
    if (sure) await this.act('DELETE', job, 'deleted');
  }
}
