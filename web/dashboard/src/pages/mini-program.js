// One mini-program's analysis, after WeChat's: users, sessions, time and depth over time; where its visits
// come from (channel, access source, platform, referring mini-programs); how long and how deep they are; its
// pages; retention by cohort (daily, weekly, monthly; new and active users); its custom events; orders, GMV
// and conversion; load time and errors. Everything comes from one query of its own rows (miniProgram=…,
// which reads its own partition, the per-mini-program dimensions included); a developer's key asking for
// another mini-program gets 403, shown as such.
import { h, fill, state } from '../dom.js';
import { metrics, addDays, days } from '../api.js';
import { chart, timeSeries, panel } from '../charts.js';
import { formatValue, chartValue } from '../format.js';
import { resolveRange, rangePicker } from '../range.js';
import { index, currencyOf } from '../series.js';
import { tile } from '../tiles.js';
import { sourcesSection, staySection, customEventsSection } from './mp-sources.js';
import { retentionSection } from './mp-retention.js';

const TILES = ['users.dau', 'users.new', 'users.sessions', 'users.time_per_user_s', 'users.visit_depth', 'northstar.engaged_users', 'businesses.orders', 'businesses.conversion_rate', 'developers.load_time_p95_ms', 'developers.error_rate'];
const PAGE_METRICS = [['pages.views', 'views', 'events'], ['pages.visitors', 'visitors', 'users'], ['pages.entries', 'entries', 'sessions'], ['pages.exits', 'exits', 'sessions'], ['pages.shares', 'shares', 'events'], ['pages.sharers', 'sharers', 'users'], ['pages.avg_stay_s', 'avg stay', 's']];

export function miniProgramPage(ctx, id) {
  const { session, query, navigate } = ctx;
  const range = resolveRange(query, session.latest);
  const body = h('div', { class: 'mp-body' });
  const page = h('section', { 'aria-labelledby': 'page-title' },
    h('div', { class: 'page-head' },
      h('h1', { id: 'page-title' }, h('span', { class: 'muted' }, 'Mini-program '), id),
      rangePicker(range, session.latest, (p) => navigate(`/mini-program/${encodeURIComponent(id)}`, p))),
    h('p', { class: 'range-note' }, `${range.from} to ${range.to}, reporting days in ${session.timeZone} · `,
      h('a', { href: `#/metric/users.dau?dimension=miniProgram&miniProgram=${encodeURIComponent(id)}&from=${range.from}&to=${range.to}` }, 'any metric of this mini-program')),
    body);
  fill(body, metrics({ miniProgram: id }, addDays(range.from, -7), range.to), ({ rows }) => render(ctx, id, range, rows));
  return page;
}

function render(ctx, id, range, rows) {
  const inRange = rows.filter((r) => r.date >= range.from);
  if (inRange.length === 0) return state.empty(`${id} has no rows from ${range.from} to ${range.to}: it was not active then, or the days are not rolled up.`);
  const catalog = ctx.catalog;
  const idx = index(rows);
  const unitOf = (m) => catalog?.byId.get(m)?.unit ?? 'events';
  const own = (m) => idx.get(m)?.get(id);
  const line = (title, ids, opts = {}) => {
    const unit = unitOf(ids[0]);
    const yFormat = (v) => (unit === 'ratio' ? `${Number(v).toFixed(1)}%` : formatValue(v, unit, { compact: true }));
    return panel(title, chart(`${title} of ${id}, ${range.from} to ${range.to}`, timeSeries({
      series: ids.map((m) => ({ name: opts.names?.[m] ?? m, data: days(range.from, range.to).map((d) => [d, own(m)?.get(d) ? chartValue(own(m).get(d).value, unit) : null, own(m)?.get(d)]) })),
      yFormat, bars: opts.bars, tooltip: ratioTooltip(unit),
    })));
  };

  const tiles = h('div', { class: 'tiles' }, ...TILES.filter((m) => own(m)).map((m) => tile({
    name: m, metric: m, unit: unitOf(m), rowsByDate: own(m), range, dimensionValue: id,
    href: `#/metric/${m}?dimension=miniProgram&miniProgram=${encodeURIComponent(id)}&from=${range.from}&to=${range.to}`,
  })));

  return [
    h('section', { 'aria-labelledby': 'mp-day' }, h('h2', { id: 'mp-day' }, `On ${range.to}`), tiles),
    h('section', { class: 'grid', 'aria-labelledby': 'mp-trends' }, h('h2', { id: 'mp-trends' }, 'Users and visits'),
      line('Active and new users', ['users.dau', 'users.new'], { names: { 'users.dau': 'DAU', 'users.new': 'new users' } }),
      line('Sessions', ['users.sessions']),
      line('Time per user (s)', ['users.time_per_user_s']),
      line('Visit depth (page views per session)', ['users.visit_depth'])),
    sourcesSection(id, range, inRange, ctx.session),
    staySection(id, range, inRange),
    pagesTable(id, range, idx),
    retentionSection(id, range, idx),
    customEventsSection(id, range, inRange),
    h('section', { class: 'grid', 'aria-labelledby': 'mp-commerce' }, h('h2', { id: 'mp-commerce' }, 'Orders and sales'),
      line('Orders paid', ['businesses.orders'], { bars: true }),
      line('Conversion (buyers / DAU)', ['businesses.conversion_rate']),
      gmv(id, range, idx)),
    h('section', { class: 'grid', 'aria-labelledby': 'mp-quality' }, h('h2', { id: 'mp-quality' }, 'Performance and errors'),
      line('Load time (ms)', ['developers.load_time_p50_ms', 'developers.load_time_p95_ms'], { names: { 'developers.load_time_p50_ms': 'p50', 'developers.load_time_p95_ms': 'p95' } }),
      line('Sessions with an error', ['developers.error_rate'])),
  ];
}

function ratioTooltip(unit) {
  return (items) => {
    const list = Array.isArray(items) ? items : [items];
    const lines = [list[0]?.axisValue];
    for (const item of list) {
      const row = item.data?.row;
      if (!row) continue;
      let text = `${item.marker}${item.seriesName}: ${formatValue(row.value, unit, { currency: currencyOf(row) })}`;
      if (row.numerator !== undefined) text += ` (${num(row.numerator)} / ${num(row.denominator)})`;
      lines.push(text);
    }
    return lines.join('<br>');
  };
}

/** The mini-program's pages on the last day of the range, most viewed first. */
function pagesTable(id, range, idx) {
  const pages = new Map();
  for (const [metric] of PAGE_METRICS) {
    for (const [value, byDate] of idx.get(metric) ?? []) {
      const row = byDate.get(range.to);
      if (!row || row.dimension !== 'miniProgram.page' || !value.startsWith(id)) continue;
      const path = value.slice(id.length);
      if (!pages.has(path)) pages.set(path, {});
      pages.get(path)[metric] = row.value;
    }
  }
  const list = [...pages].sort((a, b) => (b[1]['pages.views'] ?? 0) - (a[1]['pages.views'] ?? 0));
  return h('section', { 'aria-labelledby': 'mp-pages' }, h('h2', { id: 'mp-pages' }, `Pages on ${range.to}`),
    list.length === 0 ? state.empty(`No page views on ${range.to}.`) : h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Pages' },
      h('table', { class: 'rows', id: 'pages-table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'page'), ...PAGE_METRICS.map(([, label]) => h('th', { scope: 'col', class: 'num' }, label)))),
        h('tbody', {}, ...list.map(([path, v]) => h('tr', { 'data-page': path }, h('td', {}, h('code', {}, path)),
          ...PAGE_METRICS.map(([m, , unit]) => h('td', { class: 'num', 'data-metric': m, 'data-value': v[m] }, formatValue(v[m], unit)))))))));
}

/** GMV per currency, each in its major unit (fen → yuan). */
function gmv(id, range, idx) {
  const byValue = idx.get('businesses.gmv') ?? new Map();
  const series = [...byValue].filter(([value]) => value.startsWith(id + '/')).map(([value, byDate]) => {
    const currency = value.slice(id.length + 1);
    return { name: currency, currency, data: days(range.from, range.to).map((d) => [d, byDate.get(d) ? chartValue(byDate.get(d).value, 'minor_units', currency) : null, byDate.get(d)]) };
  });
  if (series.length === 0) return panel('GMV', state.empty('No paid orders in this range.'));
  const currency = series.length === 1 ? series[0].currency : undefined;
  return panel(`GMV${currency ? ' (' + currency + ')' : ' per currency'}`, chart(`GMV of ${id} per currency, ${range.from} to ${range.to}`, timeSeries({
    series,
    yFormat: (v) => (currency ? new Intl.NumberFormat(undefined, { style: 'currency', currency, notation: 'compact' }).format(v) : num(v)),
    tooltip: ratioTooltip('minor_units'),
    bars: true,
  })));
}

const num = (n) => new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(n);
