// The REST API (CONTRACT §3). Every call resolves to the decoded JSON body or throws ApiError
// carrying the server's {"error": "..."} message.

const BASE = 'api/v1';

export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, path, body = undefined) {
  // X-Requested-With: what the proxy's cross-site request forgery check expects from scripts
  const headers = { Accept: 'application/json', 'X-Requested-With': 'bots-scheduler-ui' };
  const init = { method, headers, credentials: 'same-origin' };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`${BASE}/${path}`, init);
  } catch (err) {
    throw new ApiError(0, 'The scheduler cannot be reached. Is it running?');
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : {}; } catch (err) { data = null; }
  if (!response.ok) {
    const message = (data && data.error) || refusal(response.status) || text.slice(0, 200);
    throw new ApiError(response.status, message, data);
  }
  if (data === null) throw new ApiError(response.status, 'The server sent an unreadable answer.');
  return data;
}

function refusal(status) {
  return {
    401: 'Not signed in.',
    403: 'Not allowed.',
    404: 'Not found.',
    413: 'The file is too large for the server.',
    502: 'The scheduler is not answering (bad gateway).',
    503: 'The datastore is not available right now.',
  }[status] || `The server answered ${status}.`;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const get = (path) => api('GET', path);
