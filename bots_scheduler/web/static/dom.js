// Small DOM helpers. Text always goes through textContent: data from the server never
// becomes markup in the application page.

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'multiple']);

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  return append(clear(el), children);
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// A transient message at the bottom of the screen; `kind` is "ok" or "error".
// The box is a popover so that it shows above an open modal dialog (both live in the top
// layer; re-showing it puts it last, on top).
export function toast(message, kind = 'ok', action = null) {
  const box = $('#toasts');
  const item = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', { text: message }), action);
  box.append(item);
  raisePopover(box);
  setTimeout(() => {
    item.remove();
    if (!box.childElementCount && box.matches(':popover-open')) box.hidePopover();
  }, kind === 'error' ? 8000 : 5000);
  return item;
}

// showModal() that keeps visible toasts above the new dialog.
export function showModal(dialog) {
  dialog.showModal();
  const box = $('#toasts');
  if (box.matches(':popover-open')) raisePopover(box);
}

export function raisePopover(box) {
  if (!box.showPopover) return;
  if (box.matches(':popover-open')) box.hidePopover();
  box.showPopover();
}

// Opens a modal <dialog> asking a yes/no question; resolves to true when confirmed.
export function confirmDialog(title, message, confirmLabel = 'Delete') {
  return new Promise((resolve) => {
    const dialog = $('#confirm-dialog');
    $('#confirm-title').textContent = title;
    $('#confirm-message').textContent = message;
    const ok = $('#confirm-ok');
    ok.textContent = confirmLabel;
    const done = (answer) => {
      ok.removeEventListener('click', onOk);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onOk = () => done(true);
    const onClose = () => done(false);
    ok.addEventListener('click', onOk);
    dialog.addEventListener('close', onClose);
    showModal(dialog);
  });
}

export function formatCount(n) {
  return Number(n || 0).toLocaleString();
}

export function formatBytes(n) {
  if (n === null || n === undefined || n === '') return '';
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = Number(n);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

// "1–50 of 1,234" with Previous/Next buttons; `go(offset)` loads another page.
export function renderPager(container, { offset, limit, total, shown }, go) {
  const first = total === 0 ? 0 : offset + 1;
  const last = offset + shown;
  const summary = total === null || total === undefined
    ? `${formatCount(first)}–${formatCount(last)}`
    : `${formatCount(first)}–${formatCount(last)} of ${formatCount(total)}`;
  const hasNext = total === null || total === undefined ? shown === limit : last < total;
  replace(container,
    h('button', { type: 'button', class: 'small', text: '‹ Previous', disabled: offset <= 0,
      onclick: () => go(Math.max(0, offset - limit)) }),
    h('span', { class: 'pager-summary', text: summary }),
    h('button', { type: 'button', class: 'small', text: 'Next ›', disabled: !hasNext,
      onclick: () => go(offset + limit) }));
  container.hidden = total === 0 || (offset === 0 && !hasNext);
}

// Buttons for the time ranges; `onChange(key)` when another is picked.
export function renderRangeButtons(container, ranges, current, onChange) {
  replace(container, ranges.map((range) => h('button', {
    type: 'button', class: `seg${range.key === current ? ' active' : ''}`, text: range.label,
    'aria-pressed': range.key === current ? 'true' : 'false', dataset: { range: range.key },
    onclick: () => onChange(range.key),
  })));
}

export function statCard(label, value, extraClass = '', tag = 'div') {
  return h(tag, { class: `stat ${extraClass}` },
    h('span', { class: 'stat-value', text: formatCount(value) }),
    h('span', { class: 'stat-label', text: label }));
}

export function emptyRow(columns, message) {
  return h('tr', { class: 'empty' }, h('td', { colspan: String(columns), text: message }));
}
