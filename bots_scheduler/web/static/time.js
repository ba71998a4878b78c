// Timestamps: shown in the browser's local time; the scheduler's timezone is given as a hint.

export const RANGES = [
  { key: 'day', label: '1 day', days: 1 },
  { key: 'week', label: '1 week', days: 7 },
  { key: 'month', label: '1 month', days: 30 },
  { key: 'half', label: '6 months', days: 182 },
  { key: 'all', label: 'All', days: null },
];

const localFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});

export function localZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
}

export function parseTime(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatLocal(value) {
  const date = parseTime(value);
  return date ? localFormat.format(date) : '';
}

export function formatInZone(value, timeZone) {
  const date = parseTime(value);
  if (!date) return '';
  try {
    return new Intl.DateTimeFormat(undefined, {
      timeZone, weekday: 'short', year: 'numeric', month: 'short', day: '2-digit',
      hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
    }).format(date);
  } catch (err) {
    return date.toISOString();
  }
}

// A <time> element in local time whose tooltip gives the same instant in the server's zone.
export function timeCell(value, serverZone) {
  const el = document.createElement('time');
  const date = parseTime(value);
  if (!date) return el;
  el.dateTime = date.toISOString();
  el.textContent = localFormat.format(date);
  el.title = serverZone ? `${formatInZone(value, serverZone)} (scheduler: ${serverZone})` : value;
  return el;
}

export function rangeParams(key, now = new Date()) {
  const range = RANGES.find((r) => r.key === key) || RANGES[0];
  // "all" still sends explicit bounds: the API defaults to the last 24 hours without them.
  const start = range.days === null ? new Date(Date.UTC(1970, 0, 1))
    : new Date(now.getTime() - range.days * 86400000);
  const end = new Date(now.getTime() + 366 * 86400000);
  return { time_range_start: start.toISOString(), time_range_end: end.toISOString() };
}

export function formatDuration(startValue, endValue) {
  const start = parseTime(startValue);
  const end = parseTime(endValue);
  if (!start || !end) return '';
  let seconds = Math.max(0, (end - start) / 1000);
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const parts = [];
  const units = [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]];
  for (const [unit, size] of units) {
    const count = Math.floor(seconds / size);
    if (count > 0) { parts.push(`${count} ${unit}`); seconds -= count * size; }
  }
  return parts.slice(0, 2).join(' ');
}
