// Retention grids from rows dated the day MEASURED. The rollup writes every retention ratio on the day D it
// measures, for the cohort N days, weeks or a month earlier (metric-definitions.md, Decision 17); WeChat and
// these grids date a cell by its cohort instead. Pure functions (no DOM), pinned by the tests in Node.
import { addDays, days } from './api.js';

/** Day of the week of a reporting day: 0 Sunday … 6 Saturday (the date itself, no time zone). */
export function weekday(day) {
  return new Date(day + 'T00:00:00Z').getUTCDay();
}

export const isSunday = (day) => weekday(day) === 0;

/** The last day of a day's month. */
export function monthEnd(day) {
  const d = new Date(day.slice(0, 7) + '-01T00:00:00Z');
  d.setUTCMonth(d.getUTCMonth() + 1);
  d.setUTCDate(0);
  return d.toISOString().slice(0, 10);
}

export const isMonthEnd = (day) => monthEnd(day) === day;

/** The month before a day's month, YYYY-MM. */
export function previousMonth(day) {
  const d = new Date(day.slice(0, 7) + '-01T00:00:00Z');
  d.setUTCMonth(d.getUTCMonth() - 1);
  return d.toISOString().slice(0, 7);
}

/** The Sundays of [from, to]: the days weekly retention rows are written. */
export const sundays = (from, to) => days(from, to).filter(isSunday);

/** The months' last days in [from, to]: the days monthly retention rows are written. */
export const monthEnds = (from, to) => days(from, to).filter(isMonthEnd);

/**
 * The daily grid: one line per cohort day of [from, to-1] (newest first), one cell per N. The cell (cohort c,
 * N) is the row of day c+N, when that day is in [from, to] and has one. rowOf(date) → row.
 */
export function dailyGrid(rowOf, ns, from, to) {
  const cohorts = from < to ? days(from, addDays(to, -1)).reverse() : [];
  const cells = [];
  for (const cohort of cohorts) {
    for (const n of ns) {
      const date = addDays(cohort, n);
      const row = date <= to ? rowOf(n, date) : undefined;
      if (row) cells.push({ cohort, n, date, row });
    }
  }
  return { cohorts, cells };
}

/**
 * The weekly grid. A row of users.retention_wN on Sunday D measures the cohort week ending D-7N (Monday
 * D-7N-6 … Sunday D-7N), so the cohort week ending S has its week-N value on the Sunday S+7N. Cohorts are the
 * weeks with at least one such row on a Sunday of [from, to], newest first, named by their Sunday.
 */
export function weeklyGrid(rowOf, ns, from, to) {
  const cells = [];
  for (const sunday of sundays(from, to)) {
    for (const n of ns) {
      const row = rowOf(n, sunday);
      if (row) cells.push({ cohort: addDays(sunday, -7 * n), n, date: sunday, row });
    }
  }
  const cohorts = [...new Set(cells.map((c) => c.cohort))].sort().reverse();
  return { cohorts, cells, measured: sundays(from, to) };
}

/**
 * The monthly grid. A row of users.retention_m1 on a month's last day D measures the users of the month
 * before D's, so the cohort month M has its month-1 value on the last day of the month after M.
 */
export function monthlyGrid(rowOf, from, to) {
  const cells = [];
  for (const end of monthEnds(from, to)) {
    const row = rowOf(1, end);
    if (row) cells.push({ cohort: previousMonth(end), n: 1, date: end, row });
  }
  const cohorts = [...new Set(cells.map((c) => c.cohort))].sort().reverse();
  return { cohorts, cells, measured: monthEnds(from, to) };
}
