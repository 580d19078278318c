// The dashboard's number formatting on its own (no browser): the browser tests compare tiles with the
// API through these functions, so their rules are pinned here against hand-written expectations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatValue, formatChange, toMajor, currencyDigits, chartValue } from '../../../web/dashboard/src/format.js';

const en = { locale: 'en-US' };

test('money goes from integer minor units to the currency\'s major unit', () => {
  assert.equal(currencyDigits('CNY'), 2);
  assert.equal(currencyDigits('JPY'), 0);
  assert.equal(currencyDigits('KWD'), 3);
  assert.equal(toMajor(12345, 'CNY'), 123.45);
  assert.equal(toMajor(12345, 'JPY'), 12345);
  assert.equal(formatValue(12345, 'minor_units', { ...en, currency: 'CNY' }), 'CN¥123.45');
  assert.equal(formatValue(12345, 'minor_units', { ...en, currency: 'USD' }), '$123.45');
  assert.equal(formatValue(500, 'minor_units', { ...en, currency: 'JPY' }), '¥500');
  assert.equal(formatValue(1234567, 'minor_units', { ...en, currency: 'KWD' }), 'KWD\u00a01,234.567');
  assert.equal(chartValue(12345, 'minor_units', 'CNY'), 123.45);
});

test('ratios are percentages; counts, durations and rates have their units', () => {
  assert.equal(formatValue(0.2222, 'ratio', en), '22.22%');
  assert.equal(formatValue(0, 'ratio', en), '0.0%');
  assert.equal(chartValue(0.25, 'ratio'), 25);
  assert.equal(formatValue(183204, 'users', en), '183,204');
  assert.equal(formatValue(183204, 'users', { ...en, compact: true }), '183.2K');
  assert.equal(formatValue(110.14, 's', en), '110.1 sec');
  assert.equal(formatValue(2169, 'ms', en), '2,169 ms');
  assert.equal(formatValue(3.9699, 'page_views_per_session', en), '3.97');
  assert.equal(formatValue(4.5, 'per_10k_sessions', en), '4.5 /10k');
  assert.equal(formatValue(undefined, 'users', en), '–');
});

test('changes are signed percentages, and none without a base', () => {
  assert.equal(formatChange(110, 100, 'en-US'), '+10%');
  assert.equal(formatChange(90, 100, 'en-US'), '-10%');
  assert.equal(formatChange(100, 100, 'en-US'), '0%');
  assert.equal(formatChange(5, 0, 'en-US'), null);
  assert.equal(formatChange(0, 0, 'en-US'), '±0%');
  assert.equal(formatChange(5, undefined, 'en-US'), null);
});
