'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, SECOND } = require('./helpers');
const { accept } = require('./fake-wx');

const custom = (tracker, n) => Array.from({ length: n }, (_, i) => tracker.track('custom.tap', { i }));
const status = (statusCode, body, header) => () => ({ statusCode, data: JSON.stringify(body), header: header || {} });

test('a batch leaves when it has maxBatchEvents, the rest when the oldest has waited flushIntervalMs', async () => {
  const { wx, tracker, clock } = setup({ options: { maxBatchEvents: 4, flushIntervalMs: 5 * SECOND } });
  const ids = custom(tracker, 6);
  await clock.advance(0);
  assert.deepEqual(wx.requests.map((r) => r.body.events.length), [4, 2]); // once sending, it sends what is there

  const more = custom(tracker, 2);
  await clock.advance(4.9 * SECOND);
  assert.equal(wx.requests.length, 2);
  await clock.advance(0.1 * SECOND);
  assert.equal(wx.requests.length, 3);
  assert.deepEqual(wx.sentEvents().map((e) => e.eventId), [...ids, ...more]);
  assert.deepEqual(tracker.stats(), { sent: 8, retried: 0, dropped: 0, rejected: 0, queued: 0 });
});

test('a batch holds at most maxBatchBytes of event JSON', async () => {
  const { wx, tracker } = setup({ options: { maxBatchBytes: 32 * 1024 } });
  for (let i = 0; i < 7; i++) tracker.track('custom.note', { text: 'x'.repeat(10000) });
  await tracker.flush();
  assert.deepEqual(wx.requests.map((r) => r.body.events.length), [3, 3, 1]);
  for (const r of wx.requests) assert.ok(JSON.stringify(r.body.events).length <= 32 * 1024);
});

test('an event over 32 KiB is refused at track time', () => {
  const { tracker, logger } = setup();
  assert.equal(tracker.track('custom.note', { text: 'x'.repeat(33 * 1024) }), null);
  assert.equal(tracker.stats().dropped, 1);
  assert.ok(logger.lines.some(([, m]) => m.includes('32768')));
});

test('sentAt is stamped when the batch is sent, not when the event was tracked', async () => {
  const { wx, tracker, clock } = setup({ options: { flushIntervalMs: 5 * SECOND } });
  tracker.track('custom.tap', {});
  const trackedAt = clock.now();
  await clock.advance(5 * SECOND);
  const [request] = wx.requests;
  assert.equal(Date.parse(request.body.sentAt), trackedAt + 5 * SECOND);
  assert.equal(Date.parse(request.body.events[0].timestamp), trackedAt);
});

test('unsent events survive a restart and go out with the same eventIds', async () => {
  const offline = () => ({ fail: 'request:fail offline' });
  const first = setup({ respond: offline });
  const ids = custom(first.tracker, 3);
  await first.tracker.flush();
  assert.equal(first.wx.requests.length, 1);
  assert.equal(first.tracker.stats().queued, 3);

  const again = setup({ storage: first.wx.storage, clock: first.clock });
  await again.tracker.flush();
  assert.deepEqual(again.wx.sentEvents().map((e) => e.eventId), ids);
  assert.deepEqual(again.wx.requests[0].body.events, first.wx.requests[0].body.events);
  assert.equal(again.tracker.stats().queued, 0);
  assert.deepEqual(again.wx.getStorageSync('mpmetrics:outbox'), []);
});

test('when the outbox is full the oldest events are dropped and counted', async () => {
  const { wx, tracker } = setup({ respond: () => ({ fail: 'offline' }), options: { maxStoredEvents: 5, maxBatchEvents: 50 } });
  const ids = custom(tracker, 8);
  assert.deepEqual(tracker.stats(), { sent: 0, retried: 0, dropped: 3, rejected: 0, queued: 5 });
  assert.deepEqual(wx.getStorageSync('mpmetrics:outbox').map((e) => e.eventId), ids.slice(3));
});

test('events older than 30 days are dropped before sending (the pipeline would reject them)', async () => {
  const { wx, tracker, clock } = setup();
  tracker.track('custom.tap', {}, { timestamp: clock.now() - 31 * 24 * 3600 * SECOND });
  const fresh = tracker.track('custom.tap', {});
  await tracker.flush();
  assert.deepEqual(wx.sentEvents().map((e) => e.eventId), [fresh]);
  assert.equal(tracker.stats().dropped, 1);
});

test('a 503 with Retry-After waits as asked, then sends the same events with a new sentAt', async () => {
  let calls = 0;
  const { wx, tracker, clock } = setup({
    respond: (req) => (++calls === 1 ? { statusCode: 503, data: '{"error":{"code":"storage_unavailable"}}', header: { 'Retry-After': '20' } } : accept(req)),
  });
  const ids = custom(tracker, 2);
  await tracker.flush();
  assert.equal(wx.requests.length, 1);
  // Asked 20 s; the jitter adds up to 10 %, at most 1 s (here random() = 0.5: 0.5 s).
  await clock.advance(20.4 * SECOND);
  assert.equal(wx.requests.length, 1);
  await tracker.flush(); // a flush does not jump the queue the pipeline asked for
  assert.equal(wx.requests.length, 1);
  await clock.advance(0.2 * SECOND);
  assert.equal(wx.requests.length, 2);
  assert.deepEqual(wx.requests[1].body.events.map((e) => e.eventId), ids);
  assert.equal(Date.parse(wx.requests[1].body.sentAt) - Date.parse(wx.requests[0].body.sentAt), 20.5 * SECOND);
  assert.deepEqual(tracker.stats(), { sent: 2, retried: 2, dropped: 0, rejected: 0, queued: 0 });
});

test('failures without Retry-After back off exponentially with jitter, up to maxRetryDelayMs', async () => {
  const { wx, tracker, clock } = setup({
    respond: () => ({ fail: 'request:fail timeout' }),
    options: { baseRetryDelayMs: 1000, maxRetryDelayMs: 8000 },
  });
  custom(tracker, 1);
  await tracker.flush();
  await clock.advance(60 * SECOND);
  const gaps = wx.requests.slice(1).map((r, i) => r.at - wx.requests[i].at);
  // Equal jitter with random() = 0.5: three quarters of 1, 2, 4, 8, 8, … seconds.
  assert.deepEqual(gaps.slice(0, 6), [750, 1500, 3000, 6000, 6000, 6000]);
  assert.equal(tracker.stats().queued, 1);
  assert.equal(tracker.stats().retried, wx.requests.length - 1);
});

test('a 429 is retried too', async () => {
  let calls = 0;
  const { wx, tracker, clock } = setup({ respond: (req) => (++calls === 1 ? status(429, { error: { code: 'rate_limited' } }, { 'retry-after': '2' })() : accept(req)) });
  custom(tracker, 1);
  await tracker.flush();
  await clock.advance(3 * SECOND);
  assert.equal(wx.requests.length, 2);
  assert.equal(tracker.stats().sent, 1);
});

test('a 400 with per-event rejections is not retried; each rejection is logged', async () => {
  let ids = [];
  const { wx, tracker, clock, logger } = setup({
    respond: () => status(400, {
      error: { code: 'all_rejected', message: 'every event was rejected' },
      rejected: ids.map((eventId, index) => ({ index, eventId, code: 'forbidden_mini_program', message: 'miniProgramId wxtest0001 is not allowed' })),
    })(),
  });
  ids = custom(tracker, 2);
  await tracker.flush();
  await clock.advance(600 * SECOND);
  assert.equal(wx.requests.length, 1);
  assert.deepEqual(tracker.stats(), { sent: 0, retried: 0, dropped: 0, rejected: 2, queued: 0 });
  for (const id of ids) assert.ok(logger.lines.some(([, m]) => m.includes(id) && m.includes('forbidden_mini_program')));
});

test('a 202 with some rejections counts both and retries nothing', async () => {
  let ids = [];
  const { tracker, wx } = setup({
    respond: () => status(202, { batchId: 'b', accepted: 2, rejected: [{ index: 0, eventId: ids[0], code: 'invalid_field', message: 'props.amount must be > 0' }] })(),
  });
  ids = custom(tracker, 3);
  await tracker.flush();
  assert.equal(wx.requests.length, 1);
  assert.deepEqual(tracker.stats(), { sent: 2, retried: 0, dropped: 0, rejected: 1, queued: 0 });
});

test('a 401 drops the batch (a wrong key does not get better) and says so', async () => {
  const { tracker, wx, logger } = setup({ respond: status(401, { error: { code: 'invalid_key', message: 'unknown key' } }) });
  custom(tracker, 2);
  await tracker.flush();
  assert.equal(wx.requests.length, 1);
  assert.deepEqual(tracker.stats(), { sent: 0, retried: 0, dropped: 2, rejected: 0, queued: 0 });
  assert.ok(logger.lines.some(([level, m]) => level === 'error' && m.includes('401')));
});

test('a 413 splits the batch', async () => {
  const { tracker, wx } = setup({ respond: (req) => (req.body.events.length > 2 ? status(413, { error: { code: 'body_too_large' } })() : accept(req)) });
  const ids = custom(tracker, 4);
  await tracker.flush();
  assert.deepEqual(wx.requests.map((r) => r.body.events.length), [4, 2, 2]);
  assert.deepEqual(wx.requests.slice(1).flatMap((r) => r.body.events.map((e) => e.eventId)), ids);
  assert.equal(tracker.stats().sent, 4);
});

test('going to the background sends what is waiting', async () => {
  const { wx, tracker } = setup({ options: { flushIntervalMs: 60 * SECOND } });
  tracker.start();
  tracker.track('custom.tap', {});
  assert.equal(wx.requests.length, 0);
  wx.hide();
  await tracker.flush();
  assert.deepEqual(wx.sentEvents().map((e) => e.type), ['session_start', 'custom.tap']);
});
