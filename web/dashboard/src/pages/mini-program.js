// One mini-program's analysis, after WeChat's: users, sessions, time and depth over time; where its users
// come from; how long and how deep they stay; its pages; retention by cohort; orders, GMV and conversion;
// load time and errors. Everything per mini-program comes from one query of its own rows (miniProgram=…,
// which reads its own partition); a developer's key asking for another mini-program gets 403, shown as such.
import { h, fill, state } from '../dom.js';
import { metrics, addDays, days } from '../api.js';
import { chart, timeSeries, palette } from '../charts.js';
import { formatValue, chartValue } from '../format.js';
import { resolveRange, rangePicker } from '../range.js';
import { index, currencyOf } from '../series.js';
import { tile } from '../tiles.js';

const TILES = ['users.dau', 'users.new', 'users.sessions', 'users.time_per_user_s', 'users.visit_depth', 'northstar.engaged_users', 'businesses.orders', 'businesses.conversion_rate', 'developers.load_time_p95_ms', 'developers.error_rate'];
const RETENTION = [1, 2, 3, 4, 5, 6, 7, 14, 30];
const PAGE_METRICS = [['pages.views', 'views'], ['pages.visitors', 'visitors'], ['pages.entries', 'entries'], ['pages.exits', 'exits'], ['pages.shares', 'shares'], ['pages.avg_stay_s', 'avg stay']];

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
  const load = metrics({ miniProgram: id }, addDays(range.from, -7), range.to);
  // The ecosystem's breakdowns the catalog has no per-mini-program form of; a developer's key may not read them.
  const ecosystem = session.kind === 'platform'
    ? metrics({ metric: 'users.sessions,users.sessions_by_duration,users.sessions_by_depth' }, range.to, range.to).catch(() => null)
    : Promise.resolve(null);
  fill(body, Promise.all([load, ecosystem]), ([own, eco]) => render(ctx, id, range, own.rows, eco?.rows));
  return page;
}

function render(ctx, id, range, rows, ecoRows) {
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
    sources(id, range, ecoRows),
    pagesTable(id, range, idx),
    retention(id, range, idx),
    h('section', { class: 'grid', 'aria-labelledby': 'mp-commerce' }, h('h2', { id: 'mp-commerce' }, 'Orders and sales'),
      line('Orders paid', ['businesses.orders'], { bars: true }),
      line('Conversion (buyers / DAU)', ['businesses.conversion_rate']),
      gmv(id, range, idx)),
    h('section', { class: 'grid', 'aria-labelledby': 'mp-quality' }, h('h2', { id: 'mp-quality' }, 'Performance and errors'),
      line('Load time (ms)', ['developers.load_time_p50_ms', 'developers.load_time_p95_ms'], { names: { 'developers.load_time_p50_ms': 'p50', 'developers.load_time_p95_ms': 'p95' } }),
      line('Sessions with an error', ['developers.error_rate'])),
  ];
}

function panel(title, ...content) {
  return h('figure', { class: 'panel' }, h('figcaption', {}, title), ...content);
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

/** Channel, access source, stay time and depth: ecosystem-wide only in the catalog, and said so. */
function sources(id, range, ecoRows) {
  const note = h('p', { class: 'note', id: 'no-breakdown' },
    'The catalog breaks sessions down by entry channel and access source (users.sessions), and by stay time and visit depth ',
    '(users.sessions_by_duration, users.sessions_by_depth), for the whole ecosystem only: it has no per-mini-program form of them. ',
    ecoRows ? `Shown below for the whole ecosystem on ${range.to}, not for ${id}.` : 'A developer key cannot read them.');
  const section = h('section', { class: 'grid', 'aria-labelledby': 'mp-sources' }, h('h2', { id: 'mp-sources' }, 'Where visits come from, how long they stay'), note);
  if (!ecoRows) return section;
  const bars = (title, metric, dimension, order) => {
    let list = ecoRows.filter((r) => r.metric === metric && r.dimension === dimension);
    list = order ? order.map((v) => list.find((r) => r.dimensionValue === v)).filter(Boolean) : list.sort((a, b) => b.value - a.value).slice(0, 12);
    if (list.length === 0) return panel(title, state.empty('No rows.'));
    return panel(title + ' (whole ecosystem)', chart(`${title}, whole ecosystem, on ${range.to}`, {
      color: palette,
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', confine: true },
      xAxis: { type: 'category', data: list.map((r) => r.dimensionValue), axisLabel: { interval: 0, rotate: list.length > 8 ? 45 : 0 } },
      yAxis: { type: 'value' },
      series: [{ type: 'bar', name: 'sessions', data: list.map((r) => r.value) }],
    }));
  };
  section.append(
    bars('Sessions by entry channel', 'users.sessions', 'channel'),
    bars('Sessions by access source', 'users.sessions', 'source'),
    bars('Stay-time distribution', 'users.sessions_by_duration', 'durationBucket', ['0-2s', '3-5s', '6-10s', '11-20s', '21-30s', '31-50s', '51-100s', '100s+']),
    bars('Visit-depth distribution', 'users.sessions_by_depth', 'depthBucket', ['1', '2', '3', '4', '5', '6-10', '10+']));
  return section;
}

/** The mini-program's pages on the last day of the range, most viewed first. */
function pagesTable(id, range, idx) {
  const pages = new Map();
  for (const [metric] of PAGE_METRICS) {
    for (const [value, byDate] of idx.get(metric) ?? []) {
      const row = byDate.get(range.to);
      if (!row || !value.startsWith(id)) continue;
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
        h('tbody', {}, ...list.map(([path, v]) => h('tr', {}, h('td', {}, h('code', {}, path)),
          ...PAGE_METRICS.map(([m]) => h('td', { class: 'num' }, formatValue(v[m], m === 'pages.avg_stay_s' ? 's' : 'events')))))))));
}

/**
 * Retention by cohort: row = the day users were new, column = days later (d1…d7, d14, d30). The rollup
 * writes retention_dN on day D for the cohort of D-N, so the cell (cohort c, N) is the row of day c+N.
 */
function retention(id, range, idx) {
  const cohorts = days(range.from, addDays(range.to, -1)).reverse();
  const data = [];
  const rowsOut = [];
  cohorts.forEach((cohort, y) => {
    RETENTION.forEach((n, x) => {
      const row = idx.get(`users.retention_d${n}`)?.get(id)?.get(addDays(cohort, n));
      if (row) { data.push({ value: [x, y, +(row.value * 100).toFixed(1)], row }); rowsOut.push(row); }
    });
  });
  const section = h('section', { 'aria-labelledby': 'mp-retention' }, h('h2', { id: 'mp-retention' }, 'Retention by cohort'),
    h('p', { class: 'help' }, 'Share of the users new on the cohort day who are active N days later (users.retention_dN); hover a cell for the users behind it.'));
  if (data.length === 0) { section.append(state.empty('No cohort of this range has a retention row yet.')); return section; }
  const el = chart(`Retention heat map of ${id}: ${cohorts.length} cohorts from ${cohorts.at(-1)} to ${cohorts[0]}, days 1 to 7, 14 and 30`, {
    grid: { left: 8, right: 16, top: 8, bottom: 48, containLabel: true },
    tooltip: { confine: true, formatter: (p) => `Cohort ${cohorts[p.value[1]]}, day ${RETENTION[p.value[0]]}: ${p.value[2]}% (${num(p.data.row.numerator)} / ${num(p.data.row.denominator)})` },
    xAxis: { type: 'category', data: RETENTION.map((n) => `d${n}`), position: 'top', splitArea: { show: true } },
    yAxis: { type: 'category', data: cohorts, inverse: true },
    visualMap: { min: 0, max: Math.max(10, ...data.map((d) => d.value[2])), calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120, inRange: { color: ['#f4f7fb', '#2f6fde'] }, text: ['high', 'low'] },
    series: [{ type: 'heatmap', data, label: { show: cohorts.length <= 31, formatter: (p) => `${p.value[2]}` } }],
  }, { tall: true });
  el.classList.add('heatmap');
  el.style.height = `${Math.max(220, 60 + cohorts.length * 22)}px`; // a CSSOM write, allowed by the CSP
  section.append(el);
  return section;
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
