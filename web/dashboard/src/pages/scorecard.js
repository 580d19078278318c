// The ecosystem scorecard: the North Star and its trend, each stakeholder's core metrics as tiles (the day's
// value, its change against the day before and the same day a week before, a sparkline over the range), the
// guardrails coloured by their thresholds, and the day's freshness (when it was rolled up, restated or not).
import { h, fill, state } from '../dom.js';
import { tile, changes } from '../tiles.js';
import { metrics, addDays } from '../api.js';
import { chart, timeSeries } from '../charts.js';
import { formatValue, formatTimestamp } from '../format.js';
import { resolveRange, rangePicker } from '../range.js';
import { index, daily } from '../series.js';
import { GUARDRAILS, level } from '../thresholds.js';

const STAKEHOLDERS = [
  ['users', 'Users', 'convenient access to services'],
  ['developers', 'Developers', 'reach'],
  ['businesses', 'Businesses', 'customers and sales'],
  ['platform', 'Platform', 'engagement and monetisation'],
];

export function scorecardPage(ctx) {
  const { session, query, navigate } = ctx;
  const range = resolveRange(query, session.latest);
  const body = h('div', { class: 'scorecard' });
  const page = h('section', { 'aria-labelledby': 'page-title' },
    h('div', { class: 'page-head' },
      h('h1', { id: 'page-title' }, 'Ecosystem scorecard'),
      rangePicker(range, session.latest, (p) => navigate('/', p))),
    h('p', { class: 'range-note', id: 'range-note' }, `${range.from} to ${range.to}, reporting days in ${session.timeZone}`),
    body);
  // A week before the range too, so the first day has its "vs last week" and every tile its comparisons.
  const load = Promise.all([
    metrics({ dimension: 'total' }, addDays(range.from, -7), range.to),
    metrics({ dimension: 'currency', tier: 'core' }, addDays(range.from, -7), range.to).catch(() => ({ rows: [], missingDays: [] })),
  ]);
  fill(body, load, ([totals, money]) => render(ctx, range, [...totals.rows, ...money.rows], totals.missingDays));
  return page;
}

function render(ctx, range, rows, missingDays) {
  const catalog = ctx.catalog;
  const idx = index(rows);
  const day = range.to;
  const dayRows = rows.filter((r) => r.date === day);
  if (dayRows.length === 0) return state.empty(`${day} is not rolled up yet: pick a range that ends on a rolled-up day.`);
  const metricsOf = (pred) => (catalog ? catalog.metrics.filter(pred) : []);

  const northStar = idx.get('northstar.engaged_users')?.get('');
  const nsSeries = daily(idx, 'northstar.engaged_users', '', range.from, range.to);
  const nsRow = northStar?.get(day);
  const north = h('section', { class: 'north-star', 'aria-labelledby': 'ns-title' },
    h('div', { class: 'ns-figure' },
      h('h2', { id: 'ns-title' }, 'North Star: engaged users'),
      h('p', { class: 'ns-value tile-value', 'data-metric': 'northstar.engaged_users', 'data-value': nsRow?.value }, formatValue(nsRow?.value, 'users')),
      changes(northStar, day),
      h('p', { class: 'help' }, catalog?.byId.get('northstar.engaged_users')?.definition)),
    chart(`North Star, engaged users per day from ${range.from} to ${range.to}`, timeSeries({
      series: [{ name: 'Engaged users', data: nsSeries.map((r, i) => [addDays(range.from, i), r?.value ?? null, r]) }],
      yFormat: (v) => formatValue(v, 'users', { compact: true }),
    })));

  const groups = STAKEHOLDERS.map(([id, title, what]) => h('section', { class: 'stakeholder', 'aria-labelledby': `sh-${id}` },
    h('h2', { id: `sh-${id}` }, title, h('span', { class: 'what' }, ` · ${what}`)),
    h('div', { class: 'tiles' }, metricsOf((m) => m.stakeholder === id && m.tier === 'core').flatMap((m) => tilesOf(m, idx, range)))));

  const guardrails = h('section', { class: 'guardrails', 'aria-labelledby': 'sh-risk' },
    h('h2', { id: 'sh-risk' }, 'Guardrails', h('span', { class: 'what' }, ' · must not rise while the rest improves')),
    h('div', { class: 'tiles' }, metricsOf((m) => m.tier === 'guardrail').flatMap((m) => tilesOf(m, idx, range, true))),
    h('p', { class: 'help legend' }, h('span', { class: 'swatch watch' }), ' watch ', h('span', { class: 'swatch act' }), ' act: thresholds in the dashboard guide (docs/dashboard.md).'));

  return [freshness(ctx, day, dayRows, missingDays.filter((d) => d >= range.from)), north, ...groups, guardrails];
}

/** When the day shown was rolled up, and whether a re-roll changed any of its published rows. */
function freshness(ctx, day, dayRows, missingDays) {
  const computed = dayRows.map((r) => r.computedAt).filter(Boolean).sort().at(-1);
  const restated = dayRows.filter((r) => r.restated);
  return h('p', { class: 'freshness', id: 'freshness', 'data-day': day, 'data-computed-at': computed, 'data-restated': restated.length },
    h('strong', {}, `Figures for ${day}`),
    ` · rolled up ${formatTimestamp(computed, ctx.session.timeZone)} · `,
    restated.length ? h('span', { class: 'restated' }, `${restated.length} row${restated.length === 1 ? '' : 's'} restated by a re-roll`) : 'not restated',
    missingDays.length ? h('span', { class: 'missing', 'data-missing': missingDays.length }, ` · not rolled up: ${spans(missingDays)}`) : null);
}

/** Days as runs: 2026-11-02…2026-11-24, 2026-11-27 (a month of missing days in one line). */
function spans(list) {
  const sorted = [...list].sort();
  const runs = [];
  for (const d of sorted) {
    const last = runs.at(-1);
    if (last && addDays(last[1], 1) === d) last[1] = d;
    else runs.push([d, d]);
  }
  return runs.map(([a, b]) => (a === b ? a : `${a} to ${b}`)).join(', ');
}

/** The tiles of one metric: one for its total row, or one per currency for money. */
function tilesOf(metric, idx, range, guardrail = false) {
  const byValue = idx.get(metric.id);
  if (!byValue) return [];
  return [...byValue.keys()].sort().map((value) => {
    const rowsByDate = byValue.get(value);
    const currency = metric.unit === 'minor_units' ? value : undefined;
    return tile({
      name: metric.id + (currency ? ` (${currency})` : ''), metric: metric.id, unit: metric.unit, rowsByDate, range, currency,
      dimensionValue: value,
      level: guardrail ? level(metric.id, rowsByDate.get(range.to)?.value) : undefined,
      href: `#/metric/${encodeURIComponent(metric.id)}?from=${range.from}&to=${range.to}${currency ? '&dimension=currency' : ''}`,
      title: GUARDRAILS[metric.id]?.why || metric.definition,
    });
  });
}
