// The query API, as the signed-in reader. The page is served at <root>/dashboard/ by the local runner and at
// <root>/api/dashboard/ by the Functions app; the API is at <root>/api/v1/ in both, so its base is computed
// from where the page is, never configured.

const KEY = 'pipeline.readKey';

export function apiBase(location = window.location) {
  const path = location.pathname;
  const at = path.lastIndexOf('/dashboard');
  let root = at >= 0 ? path.slice(0, at + 1) : '/';
  if (root.endsWith('/api/')) root = root.slice(0, -'api/'.length);
  return new URL(root + 'api/v1/', location.origin).toString();
}

export const readKey = {
  get: () => sessionStorage.getItem(KEY) || '',
  set: (key) => sessionStorage.setItem(KEY, key.trim()),
  clear: () => sessionStorage.removeItem(KEY),
};

/** An error answer of the API ({"error": {code, message}}) or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function get(path, params, withKey = true) {
  const url = new URL(path, apiBase());
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  const headers = { Accept: 'application/json' };
  if (withKey) headers['X-Api-Key'] = readKey.get();
  let response;
  try {
    response = await fetch(url, { headers, cache: 'no-cache' }); // revalidates with the ETag: 304 until re-rolled
  } catch (e) {
    throw new ApiError(0, 'network', `The API could not be reached (${e.message}).`);
  }
  if (!response.ok) {
    let code = 'http_' + response.status;
    let message = response.statusText || 'The API refused the request.';
    try {
      const body = await response.json();
      if (body && body.error) ({ code, message } = body.error);
    } catch { /* not the API's error shape */ }
    throw new ApiError(response.status, code, message);
  }
  return response.json();
}

let catalogPromise;
/** The metric dictionary, once per page load (public, no key). */
export function catalog() {
  catalogPromise ??= get('catalog', {}, false).then((c) => {
    c.byId = new Map(c.metrics.map((m) => [m.id, m]));
    return c;
  });
  return catalogPromise;
}

let configPromise;
/** The dashboard's own config: the reporting time zone. */
export function config() {
  configPromise ??= fetch(new URL('config.json', window.location.href), { cache: 'no-cache' })
    .then((r) => (r.ok ? r.json() : { reportingTimeZone: 'UTC' }))
    .catch(() => ({ reportingTimeZone: 'UTC' }));
  return configPromise;
}

export const MAX_RANGE_DAYS = 92;

/**
 * Every row of the metrics query over [from, to]: split into ranges the API accepts (at most 92 days) and
 * following continuation tokens. Days not rolled up are collected in missingDays; a range of which no day
 * is rolled up adds its days there instead of failing, unless no day at all is.
 */
export async function metrics(params, from, to) {
  const rows = [];
  const missingDays = [];
  let notRolledUp = null;
  for (const [a, b] of chunks(from, to)) {
    let continuation;
    try {
      do {
        const page = await get('metrics', { ...params, from: a, to: b, limit: 10000, continuation });
        rows.push(...page.rows);
        if (!continuation) missingDays.push(...(page.missingDays || []));
        continuation = page.continuation;
      } while (continuation);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'not_rolled_up')) throw e;
      notRolledUp = e;
      missingDays.push(...days(a, b));
    }
  }
  if (rows.length === 0 && notRolledUp) throw notRolledUp;
  return { rows, missingDays };
}

// Dates are reporting days, YYYY-MM-DD; arithmetic in UTC so no local time zone shifts them.
export function addDays(day, n) {
  const d = new Date(day + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function daysBetween(from, to) {
  return Math.round((Date.parse(to + 'T00:00:00Z') - Date.parse(from + 'T00:00:00Z')) / 86400000);
}

export function days(from, to) {
  const out = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

function chunks(from, to) {
  const out = [];
  for (let a = from; a <= to; a = addDays(a, MAX_RANGE_DAYS)) {
    const b = addDays(a, MAX_RANGE_DAYS - 1);
    out.push([a, b < to ? b : to]);
  }
  return out;
}

/** Today in the reporting time zone. */
export function today(timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}
