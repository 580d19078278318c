// The table's CSV download on its own (no browser): the query API's format=csv columns, quoting and number
// form (.NET's round-trip "R"), so the browser test can compare a download with the API's CSV byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toCsv, csvNumber, COLUMNS } from '../../../web/dashboard/src/csv.js';

test('the columns are the API\'s format=csv header', () => {
  assert.equal(COLUMNS.join(','), 'date,stakeholder,tier,metric,dimension,dimension_value,value,numerator,denominator,unit,computed_at,run_id,restated');
});

test('numbers are written as .NET writes them with "R"', () => {
  assert.equal(csvNumber(3), '3');
  assert.equal(csvNumber(0), '0');
  assert.equal(csvNumber(0.25), '0.25');
  assert.equal(csvNumber(-12.5), '-12.5');
  assert.equal(csvNumber(0.0001), '0.0001');
  assert.equal(csvNumber(0.00001), '1E-05');
  assert.equal(csvNumber(1.5e-7), '1.5E-07');
  assert.equal(csvNumber(123456789012345), '123456789012345');
  assert.equal(csvNumber(1e15), '1000000000000000');
  assert.equal(csvNumber(1e16), '10000000000000000');
  assert.equal(csvNumber(1e17), '1E+17');
  assert.equal(csvNumber(1.2345e17), '1.2345E+17');
  assert.equal(csvNumber(1.5e20), '1.5E+20');
  assert.equal(csvNumber(1 / 3), '0.3333333333333333');
  assert.equal(csvNumber(undefined), '');
});

test('a row: empty cells for what it lacks, quotes where a value needs them, CRLF line ends', () => {
  const csv = toCsv([
    { date: '2026-03-02', stakeholder: 'users', tier: 'core', metric: 'users.retention_d1', dimension: 'total', dimensionValue: '', value: 0.4, numerator: 20, denominator: 50, unit: 'ratio', computedAt: '2026-03-03T01:00:00.000Z', runId: 'r1', restated: true, previousValue: 0.5 },
    { date: '2026-03-02', stakeholder: 'users', tier: 'supporting', metric: 'users.referred_sessions', dimension: 'referrer', dimensionValue: 'a, "b"', value: 7, unit: 'sessions', computedAt: '2026-03-03T01:00:00.000Z', runId: null, restated: false },
  ]);
  assert.equal(csv, [
    COLUMNS.join(','),
    '2026-03-02,users,core,users.retention_d1,total,,0.4,20,50,ratio,2026-03-03T01:00:00.000Z,r1,true',
    '2026-03-02,users,supporting,users.referred_sessions,referrer,"a, ""b""",7,,,sessions,2026-03-03T01:00:00.000Z,,false',
    '',
  ].join('\r\n'));
});
