// Runs per day (or week, or month) by state: a stacked bar chart drawn as SVG.
// Colours come from app.css (.bar.state-<name>), so the chart follows the state badges.

const SVG = 'http://www.w3.org/2000/svg';
const DAY = 86400000;

function svg(tag, attrs = {}, text = null) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  if (text !== null) el.textContent = text;
  return el;
}

export function stateClass(state) {
  return `state-${String(state || 'unknown').replace(/\s+/g, '-')}`;
}

function utcDay(date) {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

function bucketKey(day, size) {
  if (size === 'month') return `${day.toISOString().slice(0, 7)}-01`;
  if (size === 'week') {
    const monday = new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * DAY);
    return monday.toISOString().slice(0, 10);
  }
  return day.toISOString().slice(0, 10);
}

function bucketSize(days) {
  if (days > 3 * 365) return 'month';
  if (days > 120) return 'week';
  return 'day';
}

// The buckets from `start` to `end` (Dates), with counts per state summed from `perDay`.
export function bucketize(perDay, start, end) {
  const first = utcDay(start);
  const last = utcDay(end);
  const size = bucketSize((last - first) / DAY);
  const buckets = new Map();
  for (let t = first.getTime(); t <= last.getTime(); t += DAY) {
    const key = bucketKey(new Date(t), size);
    if (!buckets.has(key)) buckets.set(key, { key, counts: {}, total: 0 });
  }
  for (const row of perDay || []) {
    const key = bucketKey(new Date(`${row.day}T00:00:00Z`), size);
    if (!buckets.has(key)) buckets.set(key, { key, counts: {}, total: 0 });
    const bucket = buckets.get(key);
    bucket.counts[row.state] = (bucket.counts[row.state] || 0) + row.count;
    bucket.total += row.count;
  }
  const list = Array.from(buckets.values()).sort((a, b) => a.key.localeCompare(b.key));
  return { size, buckets: list };
}

// The top of the y axis: four equal whole-number steps of 1, 2 or 5 times a power of ten.
function niceMax(value) {
  const rough = Math.max(1, value / 4);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= rough);
  return step * 4;
}

function label(key, size) {
  const date = new Date(`${key}T00:00:00Z`);
  const options = size === 'month' ? { month: 'short', year: 'numeric', timeZone: 'UTC' }
    : { month: 'short', day: 'numeric', timeZone: 'UTC' };
  return new Intl.DateTimeFormat(undefined, options).format(date);
}

export function drawChart(container, perDay, start, end, states) {
  const { size, buckets } = bucketize(perDay, start, end);
  const width = Math.max(320, Math.floor(container.clientWidth || 960));
  const height = 180;
  const pad = { left: 44, right: 8, top: 10, bottom: 24 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.total)));
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, class: 'chart', role: 'img',
    'aria-label': `Executions per ${size} by state`,
  });
  for (let i = 0; i <= 4; i += 1) {
    const y = pad.top + plotH - (plotH * i) / 4;
    root.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: 'grid' }));
    root.append(svg('text', { x: pad.left - 6, y: y + 4, class: 'axis axis-y' },
      String(Math.round((max * i) / 4))));
  }
  const slot = plotW / Math.max(1, buckets.length);
  const barW = Math.max(1, Math.min(28, slot * 0.75));
  const labelEvery = Math.max(1, Math.ceil(buckets.length / 10));
  buckets.forEach((bucket, index) => {
    const x = pad.left + index * slot + (slot - barW) / 2;
    let y = pad.top + plotH;
    for (const state of states) {
      const count = bucket.counts[state] || 0;
      if (!count) continue;
      const barH = (plotH * count) / max;
      y -= barH;
      const rect = svg('rect', { x, y, width: barW, height: Math.max(barH, 0.5), class: `bar ${stateClass(state)}` });
      rect.append(svg('title', {}, `${label(bucket.key, size)}: ${count} ${state}`));
      root.append(rect);
    }
    if (index % labelEvery === 0) {
      root.append(svg('text', { x: x + barW / 2, y: height - 6, class: 'axis axis-x' }, label(bucket.key, size)));
    }
  });
  container.replaceChildren(root);
  return { size, buckets };
}
