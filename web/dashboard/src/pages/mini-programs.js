// Finding a mini-program: its id (search is a substring match) with its active users and sessions on the
// latest rolled-up day. A platform key lists every mini-program; a developer's key lists its own, because
// the API returns it no others.
import { h, fill, state } from '../dom.js';
import { metrics } from '../api.js';
import { formatValue } from '../format.js';

export function miniProgramsPage(ctx) {
  const { session, query, navigate } = ctx;
  const search = query.get('q') || '';
  const day = session.latest;
  const input = h('input', { id: 'mp-search', type: 'search', value: search, placeholder: 'wx…', 'aria-label': 'Search mini-programs by id', autocomplete: 'off' });
  const list = h('div', { class: 'mp-list' });
  const page = h('section', { 'aria-labelledby': 'page-title' },
    h('div', { class: 'page-head' }, h('h1', { id: 'page-title' }, session.kind === 'platform' ? 'Mini-programs' : 'Your mini-programs')),
    session.kind === 'developer' ? h('p', { class: 'help' }, 'Your key reads your mini-programs only; the ecosystem scorecard needs a platform key.') : null,
    h('form', { role: 'search', class: 'inline', onsubmit: (e) => { e.preventDefault(); navigate('/mini-programs', { q: input.value.trim() }); } },
      h('label', { for: 'mp-search' }, 'Mini-program id'), input, h('button', { type: 'submit' }, 'Search')),
    list);
  fill(list, metrics({ metric: 'users.dau,users.sessions', dimension: 'miniProgram' }, day, day), ({ rows }) => {
    const byId = new Map();
    for (const r of rows) {
      if (!byId.has(r.dimensionValue)) byId.set(r.dimensionValue, {});
      byId.get(r.dimensionValue)[r.metric] = r.value;
    }
    const needle = search.toLowerCase();
    const found = [...byId].filter(([id]) => id.toLowerCase().includes(needle))
      .sort((a, b) => (b[1]['users.dau'] ?? 0) - (a[1]['users.dau'] ?? 0));
    if (found.length === 0) return state.empty(search ? `No mini-program active on ${day} has an id containing “${search}”.` : `No mini-program was active on ${day}.`);
    return h('table', { class: 'rows', id: 'mp-table' },
      h('caption', {}, `${found.length} mini-programs active on ${day}${search ? ` matching “${search}”` : ''}, by daily active users`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'mini-program'), h('th', { scope: 'col', class: 'num' }, 'DAU'), h('th', { scope: 'col', class: 'num' }, 'sessions'))),
      h('tbody', {}, ...found.map(([id, v]) => h('tr', {},
        h('td', {}, h('a', { href: `#/mini-program/${encodeURIComponent(id)}`, class: 'mp-link' }, id)),
        h('td', { class: 'num' }, formatValue(v['users.dau'], 'users')),
        h('td', { class: 'num' }, formatValue(v['users.sessions'], 'sessions'))))));
  });
  return page;
}
