// The retention grids' re-dating on its own (no browser): rows sit on the day measured, the grids put them
// back on their cohort day, week or month (metric-definitions.md, Decision 17, and section 6's examples).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSunday, monthEnd, isMonthEnd, previousMonth, sundays, monthEnds, dailyGrid, weeklyGrid, monthlyGrid } from '../../../web/dashboard/src/cohorts.js';

const rows = (list) => {
  const map = new Map(list.map(([n, date, value]) => [`${n}|${date}`, { date, value, numerator: value * 100, denominator: 100 }]));
  return (n, date) => map.get(`${n}|${date}`);
};

test('Sundays and the last days of months are found in a range', () => {
  assert.equal(isSunday('2026-03-22'), true);
  assert.equal(isSunday('2026-03-23'), false);
  assert.deepEqual(sundays('2026-03-01', '2026-03-16'), ['2026-03-01', '2026-03-08', '2026-03-15']);
  assert.deepEqual(sundays('2026-03-02', '2026-03-07'), [], 'a Monday-to-Saturday range has no Sunday');
  assert.equal(monthEnd('2026-02-10'), '2026-02-28');
  assert.equal(monthEnd('2028-02-01'), '2028-02-29');
  assert.equal(monthEnd('2026-12-31'), '2026-12-31');
  assert.equal(isMonthEnd('2026-04-30'), true);
  assert.equal(previousMonth('2026-03-31'), '2026-02');
  assert.equal(previousMonth('2026-01-31'), '2025-12');
  assert.deepEqual(monthEnds('2026-01-15', '2026-03-30'), ['2026-01-31', '2026-02-28']);
});

test('a daily cell (cohort c, dN) is the row of day c+N', () => {
  // WeChat's example: the cohort of 2026-03-02 at day 1 is our users.retention_d1 row on 2026-03-03.
  const grid = dailyGrid(rows([[1, '2026-03-03', 0.4], [7, '2026-03-09', 0.12], [1, '2026-03-10', 0.9]]), [1, 7], '2026-03-02', '2026-03-09');
  assert.equal(grid.cohorts[0], '2026-03-08', 'newest cohort first; the last day has no later day in the range');
  assert.equal(grid.cohorts.at(-1), '2026-03-02');
  assert.deepEqual(grid.cells.map((c) => [c.cohort, c.n, c.date, c.row.value]), [['2026-03-02', 1, '2026-03-03', 0.4], ['2026-03-02', 7, '2026-03-09', 0.12]]);
});

test('a weekly cell (cohort week ending S, wN) is the row on the Sunday S+7N', () => {
  // Section 6: the week ending Sunday 2026-03-08 at week 2 is our users.retention_w2 row on Sunday 2026-03-22.
  const grid = weeklyGrid(rows([[2, '2026-03-22', 0.3], [1, '2026-03-22', 0.5], [1, '2026-03-15', 0.6], [1, '2026-03-21', 0.99]]), [1, 2, 3, 4], '2026-03-10', '2026-03-22');
  assert.deepEqual(grid.measured, ['2026-03-15', '2026-03-22']);
  assert.deepEqual(grid.cohorts, ['2026-03-15', '2026-03-08']);
  const cell = (cohort, n) => grid.cells.find((c) => c.cohort === cohort && c.n === n);
  assert.equal(cell('2026-03-08', 2).date, '2026-03-22');
  assert.equal(cell('2026-03-08', 2).row.value, 0.3);
  assert.equal(cell('2026-03-15', 1).row.value, 0.5);
  assert.equal(cell('2026-03-08', 1).row.value, 0.6);
  assert.equal(grid.cells.length, 3, 'a row on a day that is not a Sunday is no weekly cell');
  assert.deepEqual(weeklyGrid(rows([]), [1], '2026-03-16', '2026-03-21').measured, [], 'no Sunday, nothing measured');
});

test('a monthly cell (cohort month M, m1) is the row on the last day of the month after M', () => {
  // Section 6: WeChat's list for 202602, key 1, is our users.retention_m1 row on 2026-03-31.
  const grid = monthlyGrid(rows([[1, '2026-03-31', 0.2], [1, '2026-03-30', 0.9]]), '2026-03-01', '2026-04-15');
  assert.deepEqual(grid.measured, ['2026-03-31']);
  assert.deepEqual(grid.cells.map((c) => [c.cohort, c.date, c.row.value]), [['2026-02', '2026-03-31', 0.2]]);
  assert.deepEqual(monthlyGrid(rows([]), '2026-03-01', '2026-03-30').measured, [], 'no month end in the range');
});
