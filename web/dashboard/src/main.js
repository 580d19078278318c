// The dashboard's shell: sign-in with a read key, the session (platform analyst or developer, the latest
// rolled-up day), and a hash router over the pages. Nothing here holds data: every number comes from the
// query API with the reader's key, which decides what the reader may see.
import { h, state } from './dom.js';
import { readKey, metrics, config, catalog, today, addDays, ApiError } from './api.js';
import { disposeCharts } from './charts.js';
import { scorecardPage } from './pages/scorecard.js';
import { metricPage } from './pages/metric.js';
import { miniProgramsPage } from './pages/mini-programs.js';
import { miniProgramPage } from './pages/mini-program.js';
import './styles.css';

const main = document.getElementById('main');

// A demo link may carry the key in the fragment (#key=…), which browsers never send to a server; it moves to
// sessionStorage and leaves the address at once, so it is not bookmarked or shared by accident.
function takeKeyFromFragment() {
  const match = /^#key=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  readKey.set(decodeURIComponent(match[1]));
  history.replaceState(null, '', window.location.pathname + window.location.search + '#/');
}

let session = null;

/**
 * Who the key belongs to and how far the data goes: the platform's key may read the ecosystem's total rows;
 * a developer's key is refused them (403 forbidden_dimension) and reads only its mini-programs' rows.
 */
async function startSession() {
  const { reportingTimeZone } = await config();
  const to = today(reportingTimeZone);
  const from = addDays(to, -91);
  // The latest complete day: today may be rolled up already (a day with events is), but it is not over.
  const latestOf = (rows) => rows.reduce((m, r) => (r.date > m && r.date < to ? r.date : m), '');
  try {
    const { rows } = await metrics({ metric: 'northstar.engaged_users', dimension: 'total' }, from, to);
    return { kind: 'platform', timeZone: reportingTimeZone, latest: latestOf(rows) };
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 'forbidden_dimension') throw e;
  }
  const { rows } = await metrics({ metric: 'users.dau', dimension: 'miniProgram' }, from, to);
  const miniPrograms = [...new Set(rows.map((r) => r.dimensionValue))].sort();
  return { kind: 'developer', timeZone: reportingTimeZone, latest: latestOf(rows), miniPrograms };
}

function signInForm(error) {
  const input = h('input', { id: 'key', name: 'key', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'mrk_…', 'aria-describedby': 'key-help' });
  const form = h('form', { class: 'sign-in', onsubmit: (e) => {
    e.preventDefault();
    readKey.set(input.value);
    session = null;
    route();
  } },
  h('h1', {}, 'Sign in with a read key'),
  h('label', { for: 'key' }, 'Read key'),
  input,
  h('p', { id: 'key-help', class: 'help' },
    'A key from ', h('code', {}, 'keys create --read'), '. It stays in this tab (sessionStorage) and is sent only to this API, in the X-Api-Key header.'),
  h('button', { type: 'submit' }, 'Sign in'),
  error ? state.error(error) : null);
  main.replaceChildren(form);
  input.focus();
}

function renderSessionBar() {
  const bar = document.getElementById('session');
  if (!session) { bar.replaceChildren(); return; }
  bar.replaceChildren(
    h('span', { class: 'who', 'data-kind': session.kind }, session.kind === 'platform' ? 'Platform analyst' : `Developer (${session.miniPrograms.length} mini-program${session.miniPrograms.length === 1 ? '' : 's'})`),
    h('button', { type: 'button', class: 'link', onclick: () => { readKey.clear(); session = null; renderSessionBar(); route(); } }, 'Sign out'));
  document.getElementById('foot').replaceChildren(
    h('span', {}, 'Reporting days in ', h('strong', { id: 'time-zone' }, session.timeZone)),
    h('span', {}, ` · latest rolled-up day ${session.latest || 'none'}`));
}

/** #/path?query → the page; navigate() keeps the path and merges query parameters. */
function parseRoute() {
  const raw = window.location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

export function navigate(path, params) {
  const query = new URLSearchParams(params || {});
  for (const [name, value] of [...query]) if (!value) query.delete(name);
  const text = query.toString();
  window.location.hash = '#' + path + (text ? '?' + text : '');
}

async function route() {
  disposeCharts();
  if (!readKey.get()) { renderSessionBar(); return signInForm(); }
  if (!session) {
    main.replaceChildren(state.loading('Checking the key…'));
    try {
      session = await startSession();
    } catch (e) {
      if (e.status === 401 || e.status === 403) { readKey.clear(); return signInForm(e); }
      if (e.code === 'not_rolled_up') {
        session = null;
        return main.replaceChildren(state.empty('No day of the last 92 is rolled up yet: run the rollup (rollup, or wait for its schedule), then reload.'));
      }
      return main.replaceChildren(state.error(e));
    }
    renderSessionBar();
  }
  const { parts, query } = parseRoute();
  const [page = '', id] = parts;
  const ctx = { session, query, navigate, catalog: await catalog().catch(() => null) };
  document.querySelectorAll('nav a').forEach((a) => a.removeAttribute('aria-current'));
  const current = document.querySelector(`nav a[href="#/${page}"]`) || document.querySelector(`nav a[href="#/${page === 'mini-program' ? 'mini-programs' : ''}"]`);
  current?.setAttribute('aria-current', 'page');
  let view;
  if (page === 'metric') view = metricPage(ctx, id);
  else if (page === 'mini-programs') view = miniProgramsPage(ctx);
  else if (page === 'mini-program' && id) view = miniProgramPage(ctx, id);
  else if (session.kind === 'developer') view = miniProgramsPage(ctx); // the ecosystem's totals are not theirs to read
  else view = scorecardPage(ctx);
  main.replaceChildren(view);
}

takeKeyFromFragment();
window.addEventListener('hashchange', () => { takeKeyFromFragment(); route(); });
route();
