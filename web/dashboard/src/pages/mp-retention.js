// The mini-program page's retention grids, after WeChat's: daily (d1…d7, d14, d30), weekly (w1…w4, natural
// weeks Monday to Sunday) and monthly (m1), each for new users and for active users. The rows sit on the day
// MEASURED; the grids re-date them by cohort (cohorts.js). Each grid is a labelled heat map with a table of
// the same numbers beside it (a details element, reachable with Tab), and an empty state that says why.
import { h, state } from '../dom.js';
import { addDays } from '../api.js';
import { chart, panel } from '../charts.js';
import { formatValue } from '../format.js';
import { dailyGrid, weeklyGrid, monthlyGrid } from '../cohorts.js';

export const RETENTION_DAYS = [1, 2, 3, 4, 5, 6, 7, 14, 30];
export const RETENTION_WEEKS = [1, 2, 3, 4];

const num = (n) => new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(n);
const pct = (row) => formatValue(row.value, 'ratio');
const parts = (row) => `${num(row.numerator)} / ${num(row.denominator)}`;
const weekName = (sunday) => `${addDays(sunday, -6)} to ${sunday}`;
const weekShort = (sunday) => `${addDays(sunday, -6).slice(5)}–${sunday.slice(5)}`;

/** rowOf(metric) → (n, date) → the mini-program's row of metric+n on that date. */
function rowsOf(idx, id) {
  return (prefix) => (n, date) => idx.get(`${prefix}${n}`)?.get(id)?.get(date);
}

export function retentionSection(id, range, idx) {
  const rowOf = rowsOf(idx, id);
  const daily = (prefix) => dailyGrid(rowOf(prefix), RETENTION_DAYS, range.from, range.to);
  const weekly = (prefix) => weeklyGrid(rowOf(prefix), RETENTION_WEEKS, range.from, range.to);
  const weeklyNew = weekly('users.retention_w');
  const weeklyActive = weekly('users.active_retention_w');
  const monthlyNew = monthlyGrid(rowOf('users.retention_m'), range.from, range.to);
  const monthlyActive = monthlyGrid(rowOf('users.active_retention_m'), range.from, range.to);

  return h('section', { 'aria-labelledby': 'mp-retention', id: 'retention' },
    h('h2', { id: 'mp-retention' }, 'Retention by cohort'),
    h('p', { class: 'help' }, 'New users: the share of the users new in the cohort period who are active again N days, weeks or months later. ',
      'Active users: the same for everyone active in the cohort period. Hover a cell, or open its table, for the users behind it. ',
      'The rollup writes each value on the day it measures; the grids put it back on its cohort, as WeChat does.'),
    h('h3', {}, 'Daily'),
    h('div', { class: 'grid' },
      grid({ key: 'daily-new', title: 'New users, by the day they were new', id, grid: daily('users.retention_d'), columns: RETENTION_DAYS.map((n) => `d${n}`),
        cohortText: (c) => c, cohortShort: (c) => c, metric: (n) => `users.retention_d${n}`, empty: 'No cohort of this range has a new-user retention row yet.' }),
      grid({ key: 'daily-active', title: 'Active users, by the day they were active', id, grid: daily('users.active_retention_d'), columns: RETENTION_DAYS.map((n) => `d${n}`),
        cohortText: (c) => c, cohortShort: (c) => c, metric: (n) => `users.active_retention_d${n}`, empty: 'No cohort of this range has an active-user retention row yet.' })),
    h('h3', {}, 'Weekly ', h('span', { class: 'what' }, 'natural weeks, Monday to Sunday; written on Sundays')),
    h('div', { class: 'grid' },
      grid({ key: 'weekly-new', title: 'New users, by the week they were new', id, grid: weeklyNew, columns: RETENTION_WEEKS.map((n) => `w${n}`),
        cohortText: weekName, cohortShort: weekShort, metric: (n) => `users.retention_w${n}`, empty: periodEmpty(true, 'new', weeklyNew, range) }),
      grid({ key: 'weekly-active', title: 'Active users, by the week they were active', id, grid: weeklyActive, columns: RETENTION_WEEKS.map((n) => `w${n}`),
        cohortText: weekName, cohortShort: weekShort, metric: (n) => `users.active_retention_w${n}`, empty: periodEmpty(true, 'active', weeklyActive, range) })),
    h('h3', {}, 'Monthly ', h('span', { class: 'what' }, "calendar months; written on a month's last day")),
    monthly(id, range, monthlyNew, monthlyActive));
}

/**
 * Why a weekly or monthly grid is empty: the range has no Sunday (no month's last day), or it has, and no
 * cohort before it had users of that kind in this mini-program (the cohort is before the data starts, say).
 */
function periodEmpty(weekly, who, g, range) {
  if (g.measured.length === 0) {
    return weekly
      ? `The range ${range.from} to ${range.to} has no Sunday: weekly retention is written only on Sundays, when a natural week ends. Choose a range that includes a Sunday.`
      : `The range ${range.from} to ${range.to} has no month's last day: monthly retention is written only then, when a month ends. Choose a range that includes one.`;
  }
  return `No ${weekly ? 'weekly' : 'monthly'} retention row on ${g.measured.join(', ')}: no cohort ${weekly ? 'week' : 'month'} before ${g.measured.length === 1 ? 'that day' : 'those days'} had ${who} users in this mini-program (or it is before the data starts).`;
}

/** A heat map (row = cohort, newest first; column = N) with a table of the same cells. */
function grid({ key, title, id, grid: g, columns, cohortText, cohortShort, metric, empty }) {
  const fig = panel(title);
  fig.id = `ret-${key}`;
  fig.classList.add('retention');
  if (g.cells.length === 0) { fig.append(state.empty(empty)); return fig; }
  const ns = columns.map((c) => Number(c.slice(1)));
  const y = new Map(g.cohorts.map((c, i) => [c, i]));
  const data = g.cells.map((cell) => ({ value: [ns.indexOf(cell.n), y.get(cell.cohort), +(cell.row.value * 100).toFixed(1)], cell }));
  const el = chart(`${title}, ${id}: retention heat map of ${g.cohorts.length} cohort${g.cohorts.length === 1 ? '' : 's'} from ${cohortText(g.cohorts.at(-1))} to ${cohortText(g.cohorts[0])}, columns ${columns.join(', ')}`, {
    grid: { left: 8, right: 16, top: 8, bottom: 48, containLabel: true },
    tooltip: { confine: true, formatter: (p) => `${cohortText(p.data.cell.cohort)}, ${columns[p.value[0]]} (measured ${p.data.cell.date}): ${pct(p.data.cell.row)} (${parts(p.data.cell.row)})` },
    xAxis: { type: 'category', data: columns, position: 'top', splitArea: { show: true } },
    yAxis: { type: 'category', data: g.cohorts.map(cohortShort), inverse: true },
    visualMap: { min: 0, max: Math.max(10, ...data.map((d) => d.value[2])), calculable: false, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120, inRange: { color: ['#f4f7fb', '#2f6fde'] }, text: ['high', 'low'] },
    series: [{ type: 'heatmap', data, label: { show: g.cohorts.length <= 31, formatter: (p) => `${p.value[2]}` } }],
  });
  el.classList.add('heatmap');
  el.style.height = `${Math.max(160, 72 + g.cohorts.length * 22)}px`; // a CSSOM write, allowed by the CSP
  const byCohort = new Map(g.cohorts.map((c) => [c, new Map()]));
  for (const cell of g.cells) byCohort.get(cell.cohort).set(cell.n, cell);
  fig.append(el, h('details', { class: 'data' },
    h('summary', {}, `Table: ${g.cohorts.length} cohort${g.cohorts.length === 1 ? '' : 's'}`),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'rows compact', id: `ret-${key}-table` },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'cohort'), ...columns.map((c) => h('th', { scope: 'col', class: 'num' }, c)))),
        h('tbody', {}, ...g.cohorts.map((cohort) => h('tr', {},
          h('th', { scope: 'row' }, cohortText(cohort)),
          ...ns.map((n) => {
            const cell = byCohort.get(cohort).get(n);
            return cell
              ? h('td', { class: 'num', title: `${metric(n)} on ${cell.date}: ${parts(cell.row)}`, 'data-metric': metric(n), 'data-cohort': cohort, 'data-date': cell.date, 'data-value': cell.row.value }, pct(cell.row))
              : h('td', { class: 'num' }, '');
          }))))))));
  return fig;
}

/** The monthly grid has one column (m1): a table, new and active users side by side. */
function monthly(id, range, newUsers, active) {
  const fig = panel('Month 1: users of a month who are active again in the next month');
  fig.id = 'ret-monthly';
  fig.classList.add('retention');
  const cohorts = [...new Set([...newUsers.cohorts, ...active.cohorts])].sort().reverse();
  if (cohorts.length === 0) { fig.append(state.empty(periodEmpty(false, 'new or active', newUsers, range))); return fig; }
  const cell = (g, metric, cohort) => {
    const c = g.cells.find((x) => x.cohort === cohort);
    return c
      ? h('td', { class: 'num', 'data-metric': metric, 'data-cohort': cohort, 'data-date': c.date, 'data-value': c.row.value }, `${pct(c.row)} `, h('span', { class: 'muted' }, `(${parts(c.row)})`))
      : h('td', { class: 'num' }, '–');
  };
  fig.append(h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': `Monthly retention of ${id}` },
    h('table', { class: 'rows', id: 'ret-monthly-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'cohort month'), h('th', { scope: 'col' }, 'measured on'),
        h('th', { scope: 'col', class: 'num' }, 'new users, m1'), h('th', { scope: 'col', class: 'num' }, 'active users, m1'))),
      h('tbody', {}, ...cohorts.map((cohort) => h('tr', {},
        h('th', { scope: 'row' }, cohort),
        h('td', {}, (newUsers.cells.find((x) => x.cohort === cohort) ?? active.cells.find((x) => x.cohort === cohort)).date),
        cell(newUsers, 'users.retention_m1', cohort),
        cell(active, 'users.active_retention_m1', cohort)))))));
  return fig;
}
