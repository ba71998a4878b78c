// Cron fields (APScheduler syntax) in words, e.g. {minute: "0", hour: "3"} -> "At 03:00, every day".
// The server's preview of the next run times is the authority; this is a readable summary.

export const CRON_FIELDS = ['minute', 'hour', 'day', 'month', 'day_of_week', 'week'];

const DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const DAY_KEYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];
const MONTH_KEYS = MONTH_NAMES.map((m) => m.slice(0, 3).toLowerCase());

const isAny = (v) => v === undefined || v === null || String(v).trim() === '' || String(v).trim() === '*';
const isNumber = (v) => /^\d+$/.test(String(v).trim());
const pad = (n) => String(n).padStart(2, '0');

function joinWords(words) {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function dayName(token) {
  const t = token.toLowerCase();
  if (DAY_KEYS.includes(t)) return DAY_NAMES[DAY_KEYS.indexOf(t)];
  if (isNumber(t) && Number(t) < 7) return DAY_NAMES[Number(t)];
  return token;
}

function monthName(token) {
  const t = token.toLowerCase();
  if (MONTH_KEYS.includes(t)) return MONTH_NAMES[MONTH_KEYS.indexOf(t)];
  if (isNumber(t) && Number(t) >= 1 && Number(t) <= 12) return MONTH_NAMES[Number(t) - 1];
  return token;
}

// One comma-separated item ("5", "1-5", "*/10", "1-20/5", "last", "2nd fri") in words.
function part(token, name, unit) {
  const [base, step] = token.split('/');
  const every = step ? `every ${step} ${unit}s` : '';
  if (base === '*') return every || `every ${unit}`;
  const range = base.match(/^(\w+)-(\w+)$/);
  if (range) {
    const text = `${name(range[1])} through ${name(range[2])}`;
    return every ? `${every} from ${text}` : text;
  }
  return name(base);
}

function listWords(expr, name, unit) {
  return joinWords(String(expr).trim().split(',').map((t) => part(t.trim(), name, unit)));
}

function timeOfDay(minute, hour) {
  const m = String(minute).trim();
  const hr = String(hour).trim();
  if (isNumber(m) && hr.split(',').every(isNumber)) {
    return `at ${joinWords(hr.split(',').map((x) => `${pad(x)}:${pad(m)}`))}`;
  }
  const minuteWords = isAny(m) ? 'every minute'
    : /^\*\/\d+$/.test(m) ? `every ${m.split('/')[1]} minutes`
      : isNumber(m) ? `at minute ${m}` : `at minutes ${listWords(m, String, 'minute')}`;
  if (isAny(hr)) {
    if (isNumber(m)) return `every hour at :${pad(m)}`;
    return minuteWords.startsWith('at ') ? `${minuteWords} of every hour` : minuteWords;
  }
  const hourWords = /^\*\/\d+$/.test(hr) ? `every ${hr.split('/')[1]} hours`
    : `during hour ${listWords(hr, (x) => (isNumber(x) ? pad(x) : x), 'hour')}`;
  if (isNumber(m) && /^\*\/\d+$/.test(hr)) return `${hourWords} at :${pad(m)}`;
  return `${minuteWords}, ${hourWords}`;
}

function dayOfMonthName(token) {
  const t = token.toLowerCase();
  if (t === 'last') return 'the last day of the month';
  if (/^last \w+$/.test(t)) return `the last ${dayName(t.split(' ')[1])} of the month`;
  if (/^\d(st|nd|rd|th) \w+$/.test(t)) return `the ${t.split(' ')[0]} ${dayName(t.split(' ')[1])}`;
  return `day ${token}`;
}

export function describeCron(fields) {
  const f = Object.fromEntries(CRON_FIELDS.map((k) => [k, (fields[k] ?? '*').toString().trim() || '*']));
  const parts = [timeOfDay(f.minute, f.hour)];
  if (!isAny(f.day_of_week)) parts.push(`on ${listWords(f.day_of_week, dayName, 'day')}`);
  if (!isAny(f.day)) parts.push(`on ${listWords(f.day, dayOfMonthName, 'day')}`);
  const hourly = parts[0].startsWith('every') || parts[0].endsWith('every hour');
  if (isAny(f.day_of_week) && isAny(f.day) && !hourly) parts.push('every day');
  if (!isAny(f.month)) parts.push(`in ${listWords(f.month, monthName, 'month')}`);
  if (/^\*\/\d+$/.test(f.week)) parts.push(`every ${f.week.split("/")[1]} ISO weeks`);
  else if (!isAny(f.week)) parts.push(`in ISO week ${listWords(f.week, String, 'week')}`);
  const text = parts.join(', ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function cronText(job) {
  return CRON_FIELDS.slice(0, 5).map((k) => job[k] ?? '*').join(' ') +
    (isAny(job.week) ? '' : ` week ${job.week}`);
}

// Presets offered in the job dialog.
export const PRESETS = [
  { label: 'Hourly', fields: { minute: '0', hour: '*', day: '*', month: '*', day_of_week: '*', week: '*' } },
  { label: 'Daily', fields: { minute: '0', hour: '3', day: '*', month: '*', day_of_week: '*', week: '*' } },
  { label: 'Weekdays', fields: { minute: '0', hour: '8', day: '*', month: '*', day_of_week: 'mon-fri', week: '*' } },
  { label: 'Weekly', fields: { minute: '0', hour: '3', day: '*', month: '*', day_of_week: 'mon', week: '*' } },
  { label: 'Monthly', fields: { minute: '0', hour: '3', day: '1', month: '*', day_of_week: '*', week: '*' } },
];
