// A metric tile: the day's value formatted for its unit, the change against the day before and the same
// day a week before, a ratio's numerator and denominator, and a sparkline over the range.
import { h, sparkline } from './dom.js';
import { addDays, days } from './api.js';
import { formatValue, formatChange, chartValue, unitLabel } from './format.js';

export function tile({ name, metric, unit, rowsByDate, range, currency, level, href, title, dimensionValue = '' }) {
  const row = rowsByDate?.get(range.to);
  const values = days(range.from, range.to).map((d) => rowsByDate?.get(d)).map((r) => (r ? chartValue(r.value, unit, currency) : null));
  return h(href ? 'a' : 'div', {
    class: 'tile' + (level ? ` level-${level}` : ''), href, title,
    'data-metric': metric, 'data-dimension-value': dimensionValue, 'data-level': level,
  },
  h('span', { class: 'tile-name' }, name),
  h('span', { class: 'tile-value', 'data-value': row?.value, 'data-unit': unit, 'data-currency': currency }, formatValue(row?.value, unit, { currency })),
  level && level !== 'ok' ? h('span', { class: 'badge' }, level) : null,
  row && row.numerator !== undefined ? h('span', { class: 'parts' }, `${num(row.numerator)} / ${num(row.denominator)}`) : null,
  changes(rowsByDate, range.to, lowerIsBetter(metric)),
  sparkline(values, `${name} from ${range.from} to ${range.to} (${unitLabel(unit, currency)})`));
}

/** Metrics where a fall is good news: the guardrails, load times and errors (their changes are coloured the other way). */
export function lowerIsBetter(metric) {
  return metric.startsWith('risk.') || metric.startsWith('developers.load_time') || metric === 'developers.error_rate';
}

export function changes(rowsByDate, day, inverse = false) {
  const now = rowsByDate?.get(day)?.value;
  const dod = formatChange(now, rowsByDate?.get(addDays(day, -1))?.value);
  const wow = formatChange(now, rowsByDate?.get(addDays(day, -7))?.value);
  const sign = (t) => (t && t.startsWith('+') ? 'up' : t && /^[-−]/.test(t) ? 'down' : 'flat') + (inverse ? ' inverse' : '');
  return h('span', { class: 'changes' },
    h('span', { class: 'change ' + sign(dod), 'data-change': 'day' }, dod ? `${dod} vs day before` : 'no day before'),
    h('span', { class: 'change ' + sign(wow), 'data-change': 'week' }, wow ? `${wow} vs last week` : 'no week before'));
}

const num = (n) => new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(n);
