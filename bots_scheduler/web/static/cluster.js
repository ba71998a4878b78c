// The Cluster tab: the schedulers sharing the datastore (the leader fires the jobs) and the
// Celery workers seen recently, from GET /api/v1/cluster; refreshed every few seconds.

import { get } from './api.js';
import { emptyRow, h, $, replace } from './dom.js';
import { timeCell } from './time.js';

const REFRESH_MS = 5000;

export class ClusterTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.timer = null;
  }

  async show() {
    await this.load();
  }

  hide() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  async load() {
    clearTimeout(this.timer);
    let data;
    try {
      data = await get('cluster');
    } catch (err) {
      replace($('#schedulers-table tbody'), emptyRow(6, `The cluster could not be loaded: ${err.message}`));
      replace($('#workers-table tbody'), emptyRow(6, ''));
      return;
    }
    const zone = this.ctx.info.timezone;
    replace($('#cluster-summary'),
      h('span', {}, 'Executor: ', h('b', { text: data.executor })),
      data.broker ? h('span', {}, ' · broker: ', h('code', { text: data.broker })) : null);
    const schedulers = (data.schedulers || []).map((node) => nodeRow(node, zone,
      node.leader ? h('span', { class: 'badge state-succeeded', text: 'leader' }) : 'standby'));
    replace($('#schedulers-table tbody'), schedulers.length ? schedulers : emptyRow(6, 'No scheduler seen.'));
    const workers = (data.workers || []).map((node) => nodeRow(node, zone, node.detail || ''));
    replace($('#workers-table tbody'), workers.length ? workers
      : emptyRow(6, data.executor === 'celery' ? 'No worker seen in the last 10 minutes.' : 'Runs happen in the schedulers\' own threads (--executor threads).'));
    if (this.ctx.currentTab === 'cluster') this.timer = setTimeout(() => this.load(), REFRESH_MS);
  }
}

function nodeRow(node, zone, role) {
  return h('tr', { class: node.alive ? '' : 'muted', dataset: { node: node.node_id } },
    h('td', {}, h('b', { text: node.name }), node.this ? h('span', { class: 'muted', text: ' (this one)' }) : null),
    h('td', {}, role),
    h('td', { class: 'small', text: `${node.hostname} · pid ${node.pid}` }),
    h('td', { class: 'small', text: node.address || '' }),
    h('td', {}, timeCell(node.started_time, zone)),
    h('td', {}, node.alive ? `${node.seconds_since_seen} s ago`
      : h('span', { class: 'badge state-failed', text: 'not seen since' }), ' ', node.alive ? null : timeCell(node.last_seen, zone)));
}
