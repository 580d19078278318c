// The guardrails' colours on their own (no browser): level() at and around each threshold, the rule the
// dashboard guide states ("a value at or above a level takes its colour"). The browser test compares each
// guardrail tile's level with level(metric, the API's value), so the boundaries are pinned here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GUARDRAILS, level } from '../../../web/dashboard/src/thresholds.js';

test('every guardrail turns watch at its watch level and act at its act level, not a hair before', () => {
  assert.equal(Object.keys(GUARDRAILS).length, 6);
  for (const [metric, { watch, act }] of Object.entries(GUARDRAILS)) {
    assert.ok(watch < act, `${metric}: watch is below act`);
    assert.equal(level(metric, 0), 'ok', `${metric} at 0`);
    assert.equal(level(metric, watch * (1 - 1e-9)), 'ok', `${metric} just below watch`);
    assert.equal(level(metric, watch), 'watch', `${metric} at watch`);
    assert.equal(level(metric, (watch + act) / 2), 'watch', `${metric} between watch and act`);
    assert.equal(level(metric, act * (1 - 1e-9)), 'watch', `${metric} just below act`);
    assert.equal(level(metric, act), 'act', `${metric} at act`);
    assert.equal(level(metric, act * 10), 'act', `${metric} far above act`);
  }
});

test('the documented levels: 0.5% and 1% crashes, 5 and 10 complaints, 60% and 80% concentration', () => {
  assert.equal(level('risk.crash_rate', 0.0049), 'ok');
  assert.equal(level('risk.crash_rate', 0.005), 'watch');
  assert.equal(level('risk.crash_rate', 0.01), 'act');
  assert.equal(level('risk.complaints_per_10k_sessions', 4.99), 'ok');
  assert.equal(level('risk.complaints_per_10k_sessions', 5), 'watch');
  assert.equal(level('risk.complaints_per_10k_sessions', 10), 'act');
  assert.equal(level('risk.permission_denial_rate', 0.05), 'watch');
  assert.equal(level('risk.permission_denial_rate', 0.1), 'act');
  assert.equal(level('risk.top10_session_share', 0.59), 'ok');
  assert.equal(level('risk.top10_session_share', 0.6), 'watch');
  assert.equal(level('risk.top10_session_share', 0.8), 'act');
  assert.equal(level('risk.ad_load', 0.5), 'watch');
  assert.equal(level('risk.ad_load', 1), 'act');
  assert.equal(level('risk.rejected_event_rate', 0.005), 'watch');
  assert.equal(level('risk.rejected_event_rate', 0.0199), 'watch');
  assert.equal(level('risk.rejected_event_rate', 0.02), 'act');
});

test('no value, or a metric without thresholds, is ok', () => {
  assert.equal(level('risk.crash_rate', undefined), 'ok');
  assert.equal(level('risk.crash_rate', null), 'ok');
  assert.equal(level('users.dau', 1e9), 'ok');
});
