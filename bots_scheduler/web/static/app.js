// Bots Scheduler web interface: loads the server's info and job classes, then routes
// #/jobs, #/reports[/execution], #/findings, #/files and #/logs to their tabs.

import { get } from './api.js';
import { h, $, $$, replace, toast } from './dom.js';
import { localZone } from './time.js';
import { JobsTab } from './jobs.js';
import { ReportsTab } from './reports.js';
import { FilesTab } from './files.js';
import { LogsTab } from './logs.js';
import { ClusterTab } from './cluster.js';
import { FindingsTab } from './findings.js';
import { SecretsTab } from './secrets.js';

// The roles of CONTRACT §6, each including the one before; the server enforces them, the UI
// only leaves out what the caller's role may not do.
const ROLES = ['viewer', 'operator', 'admin'];

const ctx = {
  // states/active_states: the execution states, as the server names them (GET /api/v1/info)
  info: { timezone: 'UTC', version: '', user: '', role: 'viewer', local: true, states: [],
          active_states: [] },
  jobClasses: [],
  currentTab: null,
  jobClass(classString) {
    return this.jobClasses.find((c) => c.job_class_string === classString) || null;
  },
  can(role) {
    return ROLES.indexOf(this.info.role) >= ROLES.indexOf(role);
  },
  className(classString) {
    const known = this.jobClass(classString);
    return known ? known.name : (classString || '').split('.').pop();
  },
};

const tabs = {};

async function start() {
  for (const dialog of $$('dialog')) {
    for (const button of dialog.querySelectorAll('[data-close]')) {
      button.addEventListener('click', () => dialog.close());
    }
  }
  const [info, classes] = await Promise.allSettled([get('info'), get('jobclasses')]);
  if (info.status === 'fulfilled') Object.assign(ctx.info, info.value);
  else toast(`Server information unavailable: ${info.reason.message}`, 'error');
  if (classes.status === 'fulfilled') ctx.jobClasses = classes.value.job_classes || [];
  else toast(`Job classes unavailable: ${classes.reason.message}`, 'error');
  renderServerInfo();
  document.body.dataset.role = ctx.info.role;
  for (const link of $$('.tabs a[data-role]')) link.hidden = !ctx.can(link.dataset.role);
  tabs.jobs = new JobsTab(ctx);
  tabs.reports = new ReportsTab(ctx);
  tabs.findings = new FindingsTab(ctx);
  tabs.files = new FilesTab(ctx);
  tabs.logs = new LogsTab(ctx);
  tabs.cluster = new ClusterTab(ctx);
  if (ctx.can('admin')) tabs.secrets = new SecretsTab(ctx);
  window.addEventListener('hashchange', route);
  await route();
  document.body.dataset.ready = 'true';
}

function renderServerInfo() {
  const { info } = ctx;
  replace($('#server-info'),
    h('span', { title: 'Times are shown in your browser\'s timezone; schedules run in the scheduler\'s timezone.' },
      `Times: ${localZone()} · scheduler: `, h('b', { text: info.timezone })),
    info.user ? h('span', { class: 'user', id: 'who', title: 'Signed-in user and role' }, 'user: ',
      h('b', { text: info.user }), ' ', h('span', { class: `tag role-${info.role}`, id: 'role', text: info.role })) : null,
    info.version ? h('span', { class: 'muted', text: `v${info.version}` }) : null);
}

async function route() {
  const [, name = 'jobs', ...rest] = (location.hash || '#/jobs').replace(/^#/, '').split('/');
  const tab = tabs[name] ? name : 'jobs';
  const arg = rest.length ? decodeURIComponent(rest.join('/')) : null;
  for (const dialog of $$('dialog[open]')) dialog.close();
  if (ctx.currentTab && ctx.currentTab !== tab && tabs[ctx.currentTab].hide) tabs[ctx.currentTab].hide();
  const changed = ctx.currentTab !== tab;
  ctx.currentTab = tab;
  for (const section of $$('main > .tab')) section.hidden = section.id !== `tab-${tab}`;
  for (const link of $$('.tabs a')) {
    link.classList.toggle('active', link.dataset.tab === tab);
    if (link.dataset.tab === tab) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${tab.charAt(0).toUpperCase()}${tab.slice(1)} · Bots Scheduler`;
  if (arg && !changed && tabs[tab].openArg) await tabs[tab].openArg(arg);
  else await tabs[tab].show(arg);
}

start();
