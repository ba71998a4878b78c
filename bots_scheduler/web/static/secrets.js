// The Secrets tab (admins): names, where each is used, add, replace and delete. A value is
// typed into a password field, sent once, and never shown again: the API has no way to read it.

import { api, ApiError, get } from './api.js';
import { confirmDialog, emptyRow, h, $, replace, statCard, toast } from './dom.js';
import { timeCell } from './time.js';

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export class SecretsTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.body = $('#secrets-table tbody');
    this.replacing = null;
    $('#secret-form').addEventListener('submit', (event) => { event.preventDefault(); this.save(); });
  }

  async show() {
    await this.load();
  }

  async load() {
    let secrets;
    let jobs = [];
    try {
      [secrets, jobs] = await Promise.all([
        get('secrets').then((data) => data.secrets || []),
        get('jobs').then((data) => data.jobs || []).catch(() => []),
      ]);
    } catch (err) {
      replace(this.body, emptyRow(5, `Secrets could not be loaded: ${err.message}`));
      return;
    }
    const names = Object.fromEntries(jobs.map((job) => [job.job_id, job.name]));
    const zone = this.ctx.info.timezone;
    replace($('#secret-stats'), statCard('secrets', secrets.length),
      statCard('in use', secrets.filter((s) => (s.used_by || []).length).length));
    const rows = secrets.map((s) => h('tr', { dataset: { secret: s.name } },
      h('td', { class: 'mono' }, s.name),
      h('td', {}, (s.used_by || []).length
        ? h('ul', { class: 'plain' }, s.used_by.map((id) => h('li', {},
          h('a', { href: `#/jobs/${encodeURIComponent(id)}`, text: names[id] || id }))))
        : h('span', { class: 'muted', text: 'no job' })),
      h('td', {}, timeCell(s.updated_time, zone), s.updated_by ? h('div', { class: 'muted small', text: `by ${s.updated_by}` }) : null),
      h('td', {}, timeCell(s.created_time, zone)),
      h('td', { class: 'col-actions' }, h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', text: 'Replace value', onclick: () => this.startReplace(s.name) }),
        h('button', { type: 'button', class: 'small danger-outline', text: 'Delete', onclick: () => this.remove(s) })))));
    replace(this.body, rows.length ? rows : emptyRow(5, 'No secrets yet. Add API keys above, then pick them in a job\'s arguments.'));
  }

  startReplace(name) {
    this.replacing = name;
    const input = $('#secret-name');
    input.value = name;
    input.readOnly = true;
    $('#secret-save').textContent = `Replace the value of ${name}`;
    $('#secret-value').value = '';
    $('#secret-value').focus();
  }

  resetForm() {
    this.replacing = null;
    $('#secret-name').readOnly = false;
    $('#secret-name').value = '';
    $('#secret-value').value = '';
    $('#secret-save').textContent = 'Add secret';
  }

  async save() {
    const error = $('#secret-error');
    error.textContent = '';
    const name = $('#secret-name').value.trim();
    const value = $('#secret-value').value;
    if (!NAME.test(name)) { error.textContent = 'A name is 1-64 letters, digits, "_", "." or "-".'; return; }
    if (!value) { error.textContent = 'Type the value.'; return; }
    try {
      if (this.replacing) await api('PUT', `secrets/${encodeURIComponent(name)}`, { value });
      else await api('POST', 'secrets', { name, value });
      toast(this.replacing ? `Secret "${name}" replaced.` : `Secret "${name}" stored.`);
      this.resetForm();
    } catch (err) {
      error.textContent = err.message;
      return;
    } finally {
      $('#secret-value').value = '';
    }
    this.load();
  }

  async remove(secret) {
    const used = (secret.used_by || []).length;
    const sure = await confirmDialog('Delete secret?', used
      ? `"${secret.name}" is used by ${used} job(s); their runs will fail until they use another secret.`
      : `"${secret.name}" will be deleted.`);
    if (!sure) return;
    try {
      await api('DELETE', `secrets/${encodeURIComponent(secret.name)}${used ? '?force=1' : ''}`);
      toast(`Secret "${secret.name}" deleted.`);
    } catch (err) {
      toast(err instanceof ApiError ? err.message : String(err), 'error');
    }
    this.load();
  }
}
