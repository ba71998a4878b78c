// The Files tab: data files used as job arguments — upload, list, delete.

import { api, get, query } from './api.js';
import { confirmDialog, emptyRow, formatBytes, h, $, renderRangeButtons, replace, statCard, toast } from './dom.js';
import { RANGES, parseTime, rangeParams, timeCell } from './time.js';

const LIMIT = 1000;

export class FilesTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.range = 'all';
    this.body = $('#files-table tbody');
    $('#upload-form').addEventListener('submit', (event) => { event.preventDefault(); this.upload(); });
    $('#upload-form').hidden = !ctx.can('operator');   // uploading and deleting: operator
    $('#upload-input').addEventListener('change', () => { $('#upload-error').textContent = ''; });
  }

  async show() {
    renderRangeButtons($('#files-range'), RANGES, this.range, (key) => { this.range = key; this.show(); });
    await this.load();
  }

  async load() {
    const params = rangeParams(this.range);
    let files;
    try {
      const data = await get(`files${query({ ...params, limit: LIMIT })}`);
      files = data.files || [];
      this.more = data.total > files.length ? data.total : 0;
    } catch (err) {
      replace(this.body, emptyRow(7, `Files could not be loaded: ${err.message}`));
      return;
    }
    // The range is applied here too, in case the server lists every file regardless.
    const start = new Date(params.time_range_start);
    files = files.filter((f) => !parseTime(f.created_time) || parseTime(f.created_time) >= start);
    files.sort((a, b) => String(b.created_time).localeCompare(String(a.created_time)));
    this.render(files);
  }

  render(files) {
    const zone = this.ctx.info.timezone;
    const totalSize = files.reduce((sum, f) => sum + (Number(f.size) || 0), 0);
    const entries = files.reduce((sum, f) => sum + (Number(f.entries) || 0), 0);
    replace($('#file-stats'), statCard('files', files.length), statCard('entries', entries),
      h('div', { class: 'stat' }, h('span', { class: 'stat-value', text: formatBytes(totalSize) }),
        h('span', { class: 'stat-label', text: 'total size' })));
    const rows = files.map((f) => h('tr', { dataset: { filename: f.filename } },
      h('td', { class: 'mono' }, f.filename),
      h('td', {}, f.description || ''),
      h('td', { class: 'num' }, f.entries ?? ''),
      h('td', { class: 'num' }, formatBytes(f.size)),
      h('td', {}, f.user || ''),
      h('td', {}, timeCell(f.created_time, zone)),
      h('td', { class: 'col-actions' }, this.ctx.can('operator')
        ? h('button', { type: 'button', class: 'small danger-outline', text: 'Delete', onclick: () => this.remove(f) }) : null)));
    replace(this.body, rows.length ? rows : emptyRow(7, 'No data files in this time range. Upload one above.'));
    if (this.more) this.body.append(emptyRow(7, `Showing ${files.length} of ${this.more} files; pick a shorter time range to see others.`));
  }

  async upload() {
    const input = $('#upload-input');
    const error = $('#upload-error');
    error.textContent = '';
    if (!input.files.length) { error.textContent = 'Choose a file to upload first.'; return; }
    const form = new FormData();
    form.append('file', input.files[0]);
    const button = $('#upload-button');
    button.disabled = true;
    try {
      await this.send(form, input.files[0].name);
    } catch (err) {
      error.textContent = `Upload refused: ${err.message}`;
    } finally {
      button.disabled = false;
    }
  }

  async send(form, name) {
    let answer;
    try {
      answer = await api('POST', 'files', form);
    } catch (err) {
      if (err.status !== 409) throw err;
      const again = await confirmDialog('Replace the file?', `${err.message} Replace it with the new one?`, 'Replace');
      if (!again) return;
      answer = await api('POST', 'files?replace=1', form);
    }
    toast(`Uploaded ${answer.file || name}.`);
    $('#upload-form').reset();
    await this.load();
  }

  async remove(file) {
    const sure = await confirmDialog('Delete file?',
      `"${file.filename}" will be deleted. Jobs that use it will fail until it is uploaded again.`);
    if (!sure) return;
    const path = `files/${file.filename.split('/').map(encodeURIComponent).join('/')}`;
    try {
      try {
        await api('DELETE', path);
      } catch (err) {
        // 409: jobs still use the file; the message names them
        if (err.status !== 409) throw err;
        if (!await confirmDialog('The file is in use', `${err.message} Delete it anyway?`, 'Delete anyway')) return;
        await api('DELETE', `${path}?force=1`);
      }
      toast(`Deleted ${file.filename}.`);
    } catch (err) {
      toast(err.message, 'error');
    }
    this.load();
  }
}
