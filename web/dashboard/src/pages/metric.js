// One catalog metric over a range, by any of its dimensions: a line per dimension value, or stacked areas
// for counts and money in one currency (stacking ratios or averages, or amounts in different currencies,
// would add what does not add up), numerator and denominator of ratios in the tooltip, and the rows as a
// table that downloads as CSV.
import { h, fill, state } from '../dom.js';
import { metrics } from '../api.js';
import { chart, timeSeries } from '../charts.js';
import { formatValue, chartValue, unitLabel, formatTimestamp } from '../format.js';
import { resolveRange, rangePicker } from '../range.js';
import { currencyOf } from '../series.js';
import { downloadButton } from '../csv.js';

const MAX_SERIES = 12;

export function metricPage(ctx, requested) {
  const { session, query, navigate, catalog } = ctx;
  if (!catalog) return state.error({ status: 0, message: 'The metric catalog could not be read.' });
  const developer = session.kind === 'developer';
  // A developer's key reads only miniProgram… dimensions; offer those.
  const usable = (m) => !developer || m.dimensions.some((d) => d.startsWith('miniProgram'));
  const metric = catalog.byId.get(requested) && usable(catalog.byId.get(requested)) ? catalog.byId.get(requested) : catalog.metrics.find(usable);
  const dims = metric.dimensions.filter((d) => !developer || d.startsWith('miniProgram'));
  const dimension = dims.includes(query.get('dimension')) ? query.get('dimension') : dims[0];
  const additive = metric.unit !== 'ratio' && ['count', 'sum', 'money'].includes(metric.kind);
  const mode = additive && query.get('mode') === 'stacked' ? 'stacked' : 'lines';
  const miniProgram = query.get('miniProgram') || '';
  const range = resolveRange(query, session.latest);
  const keep = { from: query.get('from'), to: query.get('to'), range: query.get('range') };
  const go = (changes) => navigate(`/metric/${encodeURIComponent(changes.metric ?? metric.id)}`, {
    ...keep, dimension, mode, miniProgram, ...changes, metric: undefined,
  });

  const picker = h('select', { id: 'metric-select', 'aria-label': 'Metric', onchange: (e) => go({ metric: e.target.value, dimension: '' }) },
    ...groupBy(catalog.metrics.filter(usable), (m) => m.stakeholder).map(([stakeholder, list]) => h('optgroup', { label: stakeholder },
      ...list.map((m) => h('option', { value: m.id, selected: m.id === metric.id }, m.id)))));
  const dimPicker = h('select', { id: 'dimension-select', 'aria-label': 'Dimension', onchange: (e) => go({ dimension: e.target.value }) },
    ...dims.map((d) => h('option', { value: d, selected: d === dimension }, d)));
  const modePicker = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Chart style' },
    ...['lines', 'stacked'].map((m) => h('button', {
      type: 'button', 'data-mode': m, 'aria-pressed': String(mode === m), disabled: m === 'stacked' && !additive,
      title: m === 'stacked' && !additive ? 'Ratios and averages do not add up: lines only' : undefined,
      onclick: () => go({ mode: m }),
    }, m === 'lines' ? 'Lines' : 'Stacked')));
  const mpInput = dimension.startsWith('miniProgram') ? h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); go({ miniProgram: e.target.elements.mp.value.trim() }); } },
    h('label', { for: 'mp-filter' }, 'Mini-program'),
    h('input', { id: 'mp-filter', name: 'mp', value: miniProgram, placeholder: developer ? session.miniPrograms[0] : 'all', size: 18 }),
    h('button', { type: 'submit' }, 'Filter')) : null;

  const body = h('div', { class: 'metric-body' });
  const page = h('section', { 'aria-labelledby': 'page-title' },
    h('div', { class: 'page-head' },
      h('h1', { id: 'page-title' }, metric.id),
      rangePicker(range, session.latest, (p) => go({ from: undefined, to: undefined, range: undefined, ...p }))),
    h('p', { class: 'help' }, `${metric.definition} · ${metric.stakeholder}, ${metric.tier}, unit ${metric.unit}`),
    h('div', { class: 'controls' }, picker, dimPicker, modePicker, mpInput),
    body);

  const params = { metric: metric.id, dimension };
  if (miniProgram) params.miniProgram = miniProgram;
  fill(body, metrics(params, range.from, range.to), ({ rows, missingDays }) => render(ctx, metric, dimension, mode, range, rows, missingDays, modePicker));
  return page;
}

function render(ctx, metric, dimension, requestedMode, range, rows, missingDays, modePicker) {
  if (rows.length === 0) return state.empty(`No ${metric.id} rows by ${dimension} from ${range.from} to ${range.to}.`);
  const currencies = new Set(rows.map(currencyOf).filter(Boolean));
  const currency = currencies.size === 1 ? [...currencies][0] : undefined;
  // Amounts in different currencies never add up: with more than one currency in the rows, money is drawn
  // as lines (each in its own currency), whatever the address asks, and stacking is not offered.
  const mixedMoney = currencies.size > 1;
  const mode = mixedMoney ? 'lines' : requestedMode;
  if (mixedMoney) {
    for (const button of modePicker.querySelectorAll('button')) {
      button.setAttribute('aria-pressed', String(button.dataset.mode === 'lines'));
      if (button.dataset.mode === 'stacked') {
        button.disabled = true;
        button.title = `Amounts in ${[...currencies].join(', ')} do not add up: lines only`;
      }
    }
  }
  // The biggest series first; past a dozen a chart is unreadable, the table still has every row.
  const byValue = groupBy(rows, (r) => r.dimensionValue)
    .map(([value, list]) => ({ value, list, weight: list.reduce((s, r) => s + Math.abs(r.value), 0) }))
    .sort((a, b) => b.weight - a.weight);
  const shown = byValue.slice(0, MAX_SERIES);
  const yFormat = (v) => (metric.unit === 'ratio' ? `${Number(v).toFixed(1)}%` : formatValue(v, metric.unit === 'minor_units' ? 'major' : metric.unit, { compact: true }));
  const tooltip = (items) => {
    const list = Array.isArray(items) ? items : [items];
    const lines = [list[0]?.axisValue];
    for (const item of list) {
      const row = item.data?.row;
      if (!row) continue;
      let text = `${item.marker}${item.seriesName}: ${formatValue(row.value, metric.unit, { currency: currencyOf(row) })}`;
      if (row.numerator !== undefined) text += ` (${num(row.numerator)} / ${num(row.denominator)})`;
      lines.push(text);
    }
    return lines.join('<br>');
  };
  const label = `${metric.id} by ${dimension}${currency ? ' in ' + currency : ''}, ${mode}, ${range.from} to ${range.to}${byValue.length > MAX_SERIES ? `, the ${MAX_SERIES} largest of ${byValue.length} values` : ''}`;
  const option = timeSeries({
    series: shown.map(({ value, list }) => ({
      name: value || 'total',
      data: list.map((r) => [r.date, chartValue(r.value, metric.unit, currencyOf(r)), r]),
    })),
    yFormat, stacked: mode === 'stacked', tooltip,
  });
  const table = h('table', { class: 'rows', id: 'metric-table' },
    h('caption', {}, `${rows.length} rows${missingDays.length ? ` · not rolled up: ${missingDays.join(', ')}` : ''}`),
    h('thead', {}, h('tr', {}, ...['date', dimension, 'value', 'numerator', 'denominator', 'computed', 'restated'].map((c, i) => h('th', { scope: 'col', class: i >= 2 && i <= 4 ? 'num' : undefined }, c)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {},
      h('td', {}, r.date), h('td', {}, r.dimensionValue || 'total'),
      h('td', { class: 'num', 'data-value': r.value }, formatValue(r.value, metric.unit, { currency: currencyOf(r) })),
      h('td', { class: 'num' }, r.numerator === undefined ? '' : num(r.numerator)),
      h('td', { class: 'num' }, r.denominator === undefined ? '' : num(r.denominator)),
      h('td', {}, formatTimestamp(r.computedAt, ctx.session.timeZone)),
      h('td', {}, r.restated ? `yes (was ${formatValue(r.previousValue, metric.unit, { currency: currencyOf(r) })})` : 'no')))));
  return [
    mixedMoney ? h('p', { class: 'help', id: 'currency-note' }, `Money in ${[...currencies].join(', ')}: each line is one currency, in its major unit; lines are never stacked or summed across currencies, which do not add up.`) : null,
    chart(label, option, { tall: true }),
    h('p', { class: 'help' }, `Axis: ${mixedMoney ? `each line's own currency (${[...currencies].join(', ')})` : unitLabel(metric.unit, currency)}.`),
    h('div', { class: 'table-head' }, downloadButton(rows, `${metric.id}_${dimension}_${range.from}_${range.to}.csv`)),
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': `${metric.id} rows` }, table),
  ];
}

const num = (n) => new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(n);

function groupBy(list, key) {
  const map = new Map();
  for (const item of list) {
    const k = key(item);
    if (!map.has(k)) map.set(k, []);
    map.get(k).push(item);
  }
  return [...map];
}
