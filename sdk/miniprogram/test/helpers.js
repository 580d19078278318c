'use strict';

const { createTracker } = require('../src/index');
const { FakeClock, createFakeWx, listLogger } = require('./fake-wx');

/** A tracker on a fake runtime and clock. Pass `storage` of an earlier setup to restart the app. */
function setup({ clock = new FakeClock(), storage, respond, appRespond, launch, performance, errorHooks, options } = {}) {
  const wx = createFakeWx({ clock, storage, respond, appRespond, launch, performance, errorHooks });
  const logger = listLogger();
  const tracker = createTracker({
    endpoint: 'https://metrics.test/',
    apiKey: 'mpk_test_key',
    miniProgramId: 'wxtest0001',
    wx,
    now: clock.now,
    random: () => 0.5,
    timers: clock,
    logger,
    ...options,
  });
  return { clock, wx, tracker, logger };
}

const SECOND = 1000;

module.exports = { setup, SECOND };
