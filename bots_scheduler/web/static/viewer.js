// The report viewer. Report HTML is shown in a sandboxed frame without script permission and
// with its own restrictive CSP: even markup that escaped the server-side escaping cannot run
// code, reach the application's origin, or navigate the page.

import { api, get } from './api.js';
import { confirmDialog, h, $, replace, showModal, toast } from './dom.js';
import { stateClass } from './chart.js';
import { formatDuration, timeCell } from './time.js';
import { countsText } from './findings.js';

const POLL_MS = 2000;

let timer = null;

export async function showReport(ctx, executionId) {
  let execution;
  try {
    execution = await get(`executions/${encodeURIComponent(executionId)}`);
  } catch (err) {
    toast(err.status === 404 ? 'That execution does not exist.' : err.message, 'error');
    return;
  }
  const dialog = $('#report-dialog');
  if (!dialog.dataset.wired) {
    dialog.dataset.wired = '1';
    dialog.addEventListener('close', () => { clearTimeout(timer); timer = null; });
  }
  render(ctx, execution);
  if (!dialog.open) showModal(dialog);
  await new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
}

// the active states come from GET /api/v1/info (ctx.info), never from a copy here
function isActive(ctx, state) {
  return ctx.info.active_states.includes(state);
}

function render(ctx, execution) {
  const job = execution.job || {};
  const zone = ctx.info.timezone;
  $('#report-dialog-title').textContent = `Report: ${job.name || execution.execution_id}`;
  const end = execution.finished_time || (isActive(ctx, execution.state) ? new Date().toISOString() : null);
  const meta = [
    ['Job', job.job_id ? h('a', { href: `#/jobs/${encodeURIComponent(job.job_id)}`, text: job.name || job.job_id, class: 'report-job-link' })
      : (job.name || '(deleted job)')],
    ['State', h('span', { class: `badge ${stateClass(execution.state)}`, text: execution.state })],
    ['Scheduled', timeCell(execution.scheduled_time, zone)],
    ['Started', timeCell(execution.started_time, zone)],
    ['Finished', timeCell(execution.finished_time, zone)],
    ['Duration', formatDuration(execution.started_time, end) || '—'],
    ['Host', [execution.hostname, execution.pid ? `pid ${execution.pid}` : ''].filter(Boolean).join(' · ')],
    ['Execution', h('code', { class: 'small', text: execution.execution_id })],
  ];
  const counts = execution.findings;
  if (counts && (counts.new || counts.changed || counts.gone || counts.unchanged)) {
    meta.push(['Findings', h('a', {
      class: 'report-findings', href: '#/findings', text: `${countsText(counts) || 'no change'}${counts.unchanged ? ` · ${counts.unchanged} unchanged` : ''}`,
    })]);
  }
  if (execution.alerts && execution.alerts.length) {
    meta.push(['Alerts', h('ul', { class: 'report-mail report-alerts' }, ...execution.alerts.map((a) => h('li', {
      class: `mail-${a.status}`,
      text: `${a.profile}: ${a.status}${a.message ? ` (${a.message})` : ''}`,
    })))]);
  }
  if (execution.notifications && execution.notifications.length) {
    meta.push(['E-mail', h('ul', { class: 'report-mail' }, ...execution.notifications.map((n) => h('li', {
      class: `mail-${n.status}`,
      text: `${n.profile}: ${n.status}${n.message ? ` (${n.message})` : ''}`,
    })))]);
  }
  replace($('#report-meta'), meta.map(([label, value]) => h('div', {}, h('dt', { text: label }), h('dd', {}, value))),
    isActive(ctx, execution.state) && execution.state !== 'stopping' && ctx.can('operator')
      ? h('div', { class: 'report-actions' }, h('button', {
        type: 'button', class: 'small danger-outline', text: 'Stop this run',
        onclick: async () => {
          if (await stopExecution(execution)) refresh(ctx, execution.execution_id);
        },
      })) : null);
  const box = $('#report-frame-box');
  if (execution.result) {
    const frame = reportFrame(execution.result);
    replace(box, frame);
  } else {
    replace(box, h('p', { class: 'report-pending', text: isActive(ctx, execution.state)
      ? 'The report appears here when the execution finishes…' : 'This execution has no report.' }));
  }
  $('#report-dialog').dataset.state = execution.state;
  clearTimeout(timer);
  if (isActive(ctx, execution.state)) {
    timer = setTimeout(() => refresh(ctx, execution.execution_id), POLL_MS);
  }
}

async function refresh(ctx, executionId) {
  if (!$('#report-dialog').open) return;
  try {
    render(ctx, await get(`executions/${encodeURIComponent(executionId)}`));
  } catch (err) { /* keep what is shown; the next open retries */ }
}


export function reportFrame(result) {
  const css = new URL('static/report.css', document.baseURI).href;
  // Sandboxed: no scripts, no forms, no popups, no top navigation, no automatic refresh.
  // allow-same-origin without allow-scripts gives report HTML no power (nothing runs in it);
  // it lets the inherited CSP's style-src 'self' match, so that report.css can load.
  const frame = h('iframe', {
    class: 'report-frame', title: 'Execution report', sandbox: 'allow-same-origin', referrerpolicy: 'no-referrer',
  });
  frame.srcdoc = '<!doctype html><html><head><meta charset="utf-8">'
    + `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${css}; img-src data:">`
    + `<link rel="stylesheet" href="${css}"></head><body>${result}</body></html>`;
  return frame;
}

// Asks the server to stop a scheduled or running execution, after confirmation.
export async function stopExecution(execution) {
  const name = (execution.job && execution.job.name) || execution.execution_id;
  if (!await confirmDialog('Stop this run?', `The run of "${name}" will be asked to stop.`, 'Stop')) return false;
  try {
    await api('DELETE', `executions/${encodeURIComponent(execution.execution_id)}`);
    toast(`Asked the run of "${name}" to stop.`);
    return true;
  } catch (err) {
    toast(err.message, 'error');
    return false;
  }
}
