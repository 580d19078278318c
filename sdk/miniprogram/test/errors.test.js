'use strict';

// The error events the SDK captures by itself: script errors (wx.onError), unhandled promise
// rejections (wx.onUnhandledRejection) and failed requests made with tracker.request.

const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, SECOND } = require('./helpers');
const { listLogger } = require('./fake-wx');
const { createTracker } = require('../src/index');

const errors = (wx) => wx.sentEvents().filter((e) => e.type === 'error');

test('a script error reaching wx.onError is an error event of kind js_error in the current session', async () => {
  const { wx, tracker } = setup();
  tracker.start();
  wx.throwError("TypeError: Cannot read properties of undefined (reading 'price')\n    at Page.pay (pages/shop/shop.js:12:20)");
  await tracker.flush();
  const [error] = errors(wx);
  assert.deepEqual(error.props, {
    kind: 'js_error',
    message: "TypeError: Cannot read properties of undefined (reading 'price')\n    at Page.pay (pages/shop/shop.js:12:20)",
    origin: 'onError',
  });
  assert.equal(error.sessionId, wx.sentEvents()[0].sessionId);
});

test('an Error object gives its name, message and stack; a long message is cut to 1024 characters without splitting a pair', async () => {
  const { wx, tracker } = setup();
  tracker.start();
  const e = new RangeError('too far');
  e.stack = '    at f (app.js:1:1)'; // an engine whose stack lacks the message
  wx.throwError(e);
  wx.throwError('x'.repeat(1023) + '😀' + 'y'.repeat(3000));
  await tracker.flush();
  const [first, long] = errors(wx);
  assert.equal(first.props.message, 'RangeError: too far\n    at f (app.js:1:1)');
  assert.equal(long.props.message, 'x'.repeat(1023));
});

test('an unhandled rejection is a js_error too, whatever its reason', async () => {
  const { wx, tracker } = setup();
  tracker.start();
  const e = new Error('coupon service down');
  wx.rejectUnhandled(e);
  wx.rejectUnhandled('plain text');
  wx.rejectUnhandled({ errMsg: 'getLocation:fail auth deny' });
  wx.rejectUnhandled({ code: 42 });
  wx.rejectUnhandled(undefined);
  await tracker.flush();
  const got = errors(wx).map((x) => x.props);
  assert.ok(got.every((p) => p.kind === 'js_error' && p.origin === 'onUnhandledRejection'));
  assert.deepEqual(got.map((p) => p.message), [e.stack, 'plain text', 'getLocation:fail auth deny', '{"code":42}', 'undefined']);
});

test('autoCapture.errors false: no listener is registered and nothing is tracked', async () => {
  const { wx, tracker } = setup({ options: { autoCapture: { errors: false } } });
  tracker.start();
  assert.equal(wx.errorListeners.length, 0);
  assert.equal(wx.rejectionListeners.length, 0);
  wx.throwError('boom');
  await tracker.flush();
  assert.deepEqual(errors(wx), []);
});

test('a base library without wx.onError or wx.onUnhandledRejection is fine', async () => {
  const { wx, tracker } = setup({ errorHooks: false });
  tracker.start();
  await tracker.flush();
  assert.equal(wx.sentEvents()[0].type, 'session_start');
});

test('at most maxErrorsPerSession errors are captured per session, with one warning; the next session starts again', async () => {
  const { wx, tracker, clock, logger } = setup({ options: { maxErrorsPerSession: 3, sessionTimeoutMs: 30 * SECOND } });
  tracker.start();
  for (let i = 0; i < 6; i++) wx.throwError(`error ${i}`);
  wx.hide();
  await clock.advance(31 * SECOND);
  wx.show({ scene: 1001 });
  wx.throwError('in the next session');
  tracker.track('error', { kind: 'crash', message: 'tracked by the app: never capped' });
  await tracker.flush();
  const got = errors(wx);
  assert.deepEqual(got.map((e) => e.props.message), ['error 0', 'error 1', 'error 2', 'in the next session', 'tracked by the app: never capped']);
  assert.notEqual(got[3].sessionId, got[0].sessionId);
  assert.equal(logger.lines.filter(([, m]) => m.includes('errors captured in this session')).length, 1);
});

test('capturing never throws back into the runtime (that would call wx.onError again)', async () => {
  const { wx, tracker } = setup({ options: { maxErrorsPerSession: 0, logger: { warn() { throw new Error('console gone'); }, error() {} } } });
  tracker.start();
  assert.doesNotThrow(() => wx.throwError('boom'));
  assert.doesNotThrow(() => wx.rejectUnhandled(new Error('boom')));
});

test('tracker.request: a successful request tracks nothing; the app\'s callbacks get what the runtime gave', async () => {
  const { wx, tracker } = setup();
  tracker.start();
  const calls = [];
  const task = tracker.request({
    url: 'https://api.example.com/coupons',
    success: (res) => calls.push(['success', res.statusCode, res.data]),
    complete: (res) => calls.push(['complete', res.errMsg]),
  });
  assert.equal(typeof task.abort, 'function');
  await tracker.flush();
  assert.deepEqual(calls, [['success', 200, { ok: true }], ['complete', 'request:ok']]);
  assert.deepEqual(errors(wx), []);
  assert.equal(wx.appRequests.length, 1);
});

test('tracker.request: an HTTP status >= 400 is an error of kind network, without the query or credentials of the address', async () => {
  const { wx, tracker } = setup({ appRespond: () => ({ statusCode: 503, data: 'busy' }) });
  tracker.start();
  const seen = [];
  tracker.request({
    url: 'https://user:pw@api.example.com/orders/o1?token=secret#frag',
    method: 'post',
    data: { n: 1 },
    success: (res) => seen.push(res.statusCode),
  });
  await tracker.flush();
  assert.deepEqual(seen, [503]);
  const [error] = errors(wx);
  assert.deepEqual(error.props, {
    kind: 'network',
    message: 'HTTP 503 POST https://api.example.com/orders/o1',
    statusCode: 503,
    origin: 'request',
    method: 'POST',
    url: 'https://api.example.com/orders/o1',
  });
  assert.deepEqual(wx.appRequests[0].data, { n: 1 });
});

test('tracker.request: a failed request (offline, timeout) is a network error; an aborted one is not', async () => {
  const { wx, tracker } = setup({ appRespond: () => ({ fail: 'request:fail timeout' }) });
  tracker.start();
  const calls = [];
  tracker.request({ url: 'https://api.example.com/coupons', fail: (err) => calls.push(['fail', err.errMsg]), complete: () => calls.push(['complete']) });
  const task = tracker.request({ url: 'https://api.example.com/slow', fail: (err) => calls.push(['fail', err.errMsg]) });
  task.abort();
  await tracker.flush();
  assert.deepEqual(calls, [['fail', 'request:fail timeout'], ['complete'], ['fail', 'request:fail abort']]);
  const got = errors(wx);
  assert.equal(got.length, 1);
  assert.deepEqual(got[0].props, {
    kind: 'network', message: 'request:fail timeout GET https://api.example.com/coupons', origin: 'request', method: 'GET', url: 'https://api.example.com/coupons',
  });
});

test('autoCapture.networkErrors false: tracker.request is wx.request, untouched', async () => {
  const { wx, tracker } = setup({ appRespond: () => ({ statusCode: 500 }), options: { autoCapture: { networkErrors: false } } });
  tracker.start();
  const given = [];
  const real = wx.request;
  wx.request = (options) => { given.push(options); return real(options); };
  const options = { url: 'https://api.example.com/x', success() {} };
  tracker.request(options);
  await tracker.flush();
  assert.equal(given[0], options);
  assert.deepEqual(errors(wx), []);
});

test('tracker.request before start() still makes the request, and tracks nothing (no session yet)', async () => {
  const { wx, tracker, clock, logger } = setup({ appRespond: () => ({ statusCode: 500 }) });
  let status = 0;
  tracker.request({ url: 'https://api.example.com/x', success: (res) => { status = res.statusCode; } });
  await clock.advance(0);
  assert.equal(status, 500);
  assert.equal(wx.requests.length, 0);
  assert.deepEqual(logger.lines, []);
});

test('autoCapture: false turns every capture off; unknown switches and non-booleans are refused', async () => {
  const { wx, tracker } = setup({ launch: { scene: 1037, query: { utm_source: 's' }, chatType: 3, referrerInfo: { appId: 'wxfriend01' } }, options: { autoCapture: false } });
  tracker.start();
  assert.equal(wx.performance.observers.length, 0);
  assert.equal(wx.errorListeners.length, 0);
  await tracker.flush();
  assert.deepEqual(wx.sentEvents()[0].props, { scene: 1037 });

  const make = (autoCapture) => () => createTracker({ endpoint: 'https://m.test', apiKey: 'k', miniProgramId: 'wxtest0001', wx, logger: listLogger(), autoCapture });
  assert.throws(make({ error: false }), /autoCapture\.error is unknown/);
  assert.throws(make({ errors: 'no' }), /autoCapture\.errors must be true or false/);
  assert.throws(make('off'), /autoCapture is true, false, or an object/);
  assert.doesNotThrow(make(true));
});
