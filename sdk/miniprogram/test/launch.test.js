'use strict';

// What the launch's session_start captures by itself: loadMs (the cold-start time), the referrer,
// the utm_ parameters of the launch query and the chat type; and the hold that keeps the
// session_start first while loadMs is measured.

const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, SECOND } = require('./helpers');
const { pageInstance } = require('./fake-wx');

const ofType = (wx, type) => wx.sentEvents().filter((e) => e.type === type);
const appLaunch = (duration) => ({ entryType: 'navigation', name: 'appLaunch', navigationType: 'appLaunch', path: 'pages/index/index', startTime: 0, duration });

test('loadMs comes from the appLaunch performance entry; until then the session_start and every later event wait', async () => {
  const { wx, tracker, clock } = setup({ options: { flushIntervalMs: 5 * SECOND } });
  tracker.start();
  assert.equal(wx.performance.observers.length, 1);
  const tap = tracker.track('custom.tap', {});
  await clock.advance(10 * SECOND); // twice the flush interval: nothing may leave while the session_start is held
  assert.equal(wx.requests.length, 0);
  assert.equal(tracker.stats().queued, 2);

  wx.performance.record({ entryType: 'navigation', name: 'route', duration: 80 }); // not the launch
  wx.performance.record(appLaunch(1234.6));
  await clock.advance(5 * SECOND);
  const events = wx.sentEvents();
  assert.deepEqual(events.map((e) => e.type), ['session_start', 'custom.tap']);
  assert.equal(events[1].eventId, tap);
  assert.equal(events[0].props.loadMs, 1235);
  assert.equal(events[0].props.loadMsSource, 'appLaunch');
  assert.equal(wx.performance.observers.length, 0, 'the observer is disconnected once measured');
});

test('the session_start is held from the moment it is queued, even when it fills a batch', async () => {
  const { wx, tracker, clock } = setup({ options: { maxBatchEvents: 1 } });
  tracker.start();
  await clock.advance(0);
  assert.equal(wx.requests.length, 0);
  wx.performance.record(appLaunch(450));
  await clock.advance(0);
  assert.deepEqual(wx.sentEvents().map((e) => e.props.loadMs), [450]);
});

test('an appLaunch entry already in the performance buffer at start() is used at once', async () => {
  const { wx, tracker, clock } = setup();
  wx.performance.record(appLaunch(870));
  tracker.start();
  assert.equal(wx.performance.observers.length, 0);
  await clock.advance(5 * SECOND); // the normal flush interval, no hold
  const [start] = wx.sentEvents();
  assert.deepEqual(start.props, { scene: 1001, loadMs: 870, loadMsSource: 'appLaunch' });
});

test('without wx.getPerformance, loadMs runs from the tracker\'s creation to the first page\'s onReady', async () => {
  const { wx, tracker, clock } = setup({ performance: false });
  tracker.start();
  const calls = [];
  const page = pageInstance(tracker.page({ data: { n: 7 }, onReady() { calls.push(this.data.n); return 'ready'; } }), 'pages/index/index');
  page.onShow();
  await clock.advance(1.5 * SECOND);
  assert.equal(page.onReady(), 'ready');
  assert.deepEqual(calls, [7]);
  await clock.advance(2 * SECOND);
  const second = pageInstance(tracker.page({}), 'pages/detail/detail');
  second.onReady(); // a later page changes nothing
  await tracker.flush();
  const starts = ofType(wx, 'session_start');
  assert.equal(starts.length, 1);
  assert.equal(starts[0].props.loadMs, 1500);
  assert.equal(starts[0].props.loadMsSource, 'onReady');
});

test('only the launch page\'s onReady ends the launch (another page\'s would count browsing time)', async () => {
  const { wx, tracker, clock } = setup({ performance: false, launch: { scene: 1001, path: '/pages/shop/shop', query: {} } });
  tracker.start();
  await clock.advance(SECOND);
  pageInstance(tracker.page({}), 'pages/index/index').onReady(); // a page the launch did not open
  await clock.advance(SECOND);
  pageInstance(tracker.page({}), 'pages/shop/shop').onReady();
  await tracker.flush();
  assert.equal(wx.sentEvents()[0].props.loadMs, 2000);
});

test('with the performance API but no appLaunch entry, onReady waits 3 s for it, then uses its own measure', async () => {
  const { wx, tracker, clock } = setup();
  tracker.start();
  await clock.advance(1.2 * SECOND);
  pageInstance(tracker.page({}), 'pages/index/index').onReady();
  await clock.advance(2.9 * SECOND);
  assert.equal(tracker.stats().queued, 1);
  assert.equal(wx.requests.length, 0);
  await clock.advance(0.1 * SECOND);
  await clock.advance(5 * SECOND);
  const [start] = wx.sentEvents();
  assert.equal(start.props.loadMs, 1200, 'measured at onReady, not when the wait ended');
  assert.equal(start.props.loadMsSource, 'onReady');
  assert.equal(wx.performance.observers.length, 0);
});

test('an appLaunch entry that comes during that wait wins over the onReady measure', async () => {
  const { wx, tracker, clock } = setup();
  tracker.start();
  await clock.advance(1.2 * SECOND);
  pageInstance(tracker.page({}), 'pages/index/index').onReady();
  await clock.advance(0.5 * SECOND);
  wx.performance.record(appLaunch(2100));
  await tracker.flush();
  const [start] = wx.sentEvents();
  assert.equal(start.props.loadMs, 2100);
  assert.equal(start.props.loadMsSource, 'appLaunch');
});

test('an appLaunch entry that reaches the buffer but not the observer is found when the wait after onReady ends', async () => {
  const { wx, tracker, clock } = setup();
  tracker.start();
  await clock.advance(SECOND);
  pageInstance(tracker.page({}), 'pages/index/index').onReady();
  wx.performance.record(appLaunch(1900), { notify: false });
  await clock.advance(3 * SECOND);
  await tracker.flush();
  assert.deepEqual(wx.sentEvents()[0].props, { scene: 1001, loadMs: 1900, loadMsSource: 'appLaunch' });
});

test('events stored before the held session_start (a previous run\'s) are sent meanwhile; the held one and later ones wait', async () => {
  const first = setup();
  first.tracker.start();
  first.wx.hide(); // sends the first session_start; the session stays open in storage
  await first.clock.advance(0);
  first.wx.respond = () => ({ fail: 'request:fail offline' });
  const leftover = first.tracker.track('custom.tap', {});
  await first.tracker.flush(); // offline: it stays stored
  await first.clock.advance(3600 * SECOND);

  const again = setup({ storage: first.wx.storage, clock: first.clock, options: { flushIntervalMs: 5 * SECOND } });
  again.tracker.start();
  again.tracker.track('custom.tap', { n: 2 });
  await again.clock.advance(5 * SECOND);
  const sent = again.wx.sentEvents();
  assert.deepEqual(sent.map((e) => e.type), ['custom.tap', 'session_end']);
  assert.equal(sent[0].eventId, leftover);
  assert.equal(again.tracker.stats().queued, 2);
  again.wx.performance.record(appLaunch(750));
  await again.clock.advance(5 * SECOND);
  assert.deepEqual(again.wx.sentEvents().slice(2).map((e) => [e.type, e.props.loadMs]), [['session_start', 750], ['custom.tap', undefined]]);
});

test('hidden before the launch was measured: the session_start goes without loadMs, first, with everything after it', async () => {
  const { wx, tracker, clock } = setup();
  tracker.start();
  tracker.track('custom.tap', {});
  await clock.advance(2 * SECOND);
  wx.hide(); // sends at once, no flush() needed
  await clock.advance(0);
  assert.deepEqual(wx.sentEvents().map((e) => e.type), ['session_start', 'custom.tap']);
  wx.performance.record(appLaunch(900)); // too late: the session_start is gone
  pageInstance(tracker.page({}), 'pages/index/index').onReady();
  await clock.advance(10 * SECOND);
  const events = wx.sentEvents();
  assert.deepEqual(events.map((e) => e.type), ['session_start', 'custom.tap']);
  assert.deepEqual(events[0].props, { scene: 1001 });
});

test('the hold ends after maxLoadWaitMs when nothing measures the launch', async () => {
  const { wx, tracker, clock } = setup({ performance: false, options: { maxLoadWaitMs: 30 * SECOND, flushIntervalMs: 5 * SECOND } });
  tracker.start();
  await clock.advance(29.9 * SECOND);
  assert.equal(wx.requests.length, 0);
  await clock.advance(0.1 * SECOND);
  await clock.advance(5 * SECOND);
  const [start] = wx.sentEvents();
  assert.deepEqual(start.props, { scene: 1001 });
});

test('an app killed while its session_start is held loses nothing: the next launch sends it first, without loadMs', async () => {
  const first = setup();
  first.tracker.start();
  const page = pageInstance(first.tracker.page({}), 'pages/index/index');
  page.onShow();
  await first.clock.advance(2 * SECOND);
  page.onHide();
  const tap = first.tracker.track('custom.tap', {});
  assert.equal(first.wx.requests.length, 0);
  // The process dies here, in the foreground, before the launch was measured.

  const again = setup({ storage: first.wx.storage, clock: first.clock });
  again.tracker.start();
  again.wx.performance.record(appLaunch(640));
  await again.tracker.flush();
  const events = again.wx.sentEvents();
  assert.deepEqual(events.map((e) => e.type), ['session_start', 'page_view', 'custom.tap', 'session_end', 'session_start']);
  const [lostStart, view, tapped, end, nextStart] = events;
  assert.deepEqual(lostStart.props, { scene: 1001 });
  assert.equal(view.sessionId, lostStart.sessionId);
  assert.equal(tapped.eventId, tap);
  assert.equal(end.sessionId, lostStart.sessionId);
  assert.equal(nextStart.props.loadMs, 640);
});

test('a session begun by a show after the timeout is no cold start: no loadMs, and no hold', async () => {
  const { wx, tracker, clock } = setup({ options: { sessionTimeoutMs: 30 * SECOND, flushIntervalMs: 5 * SECOND } });
  tracker.start();
  wx.performance.record(appLaunch(700));
  wx.hide();
  await clock.advance(31 * SECOND);
  wx.show({ scene: 1089 });
  await clock.advance(5 * SECOND);
  const starts = ofType(wx, 'session_start');
  assert.equal(starts.length, 2);
  assert.equal(starts[0].props.loadMs, 700);
  assert.deepEqual(starts[1].props, { scene: 1089 });
});

test('autoCapture.loadTime false: no observer, no hold, no loadMs', async () => {
  const { wx, tracker, clock } = setup({ options: { autoCapture: { loadTime: false }, flushIntervalMs: 5 * SECOND } });
  tracker.start();
  assert.equal(wx.performance.observers.length, 0);
  wx.performance.record(appLaunch(700));
  pageInstance(tracker.page({}), 'pages/index/index').onReady();
  await clock.advance(5 * SECOND);
  const [start] = wx.sentEvents();
  assert.deepEqual(start.props, { scene: 1001 });
});

test('a throwing performance API, or an entry without a usable duration, falls back to onReady', async () => {
  const throwing = setup();
  throwing.wx.getPerformance = () => { throw new Error('getPerformance:fail not supported'); };
  throwing.tracker.start();
  await throwing.clock.advance(SECOND);
  pageInstance(throwing.tracker.page({}), 'pages/index/index').onReady();
  await throwing.tracker.flush();
  assert.deepEqual(throwing.wx.sentEvents()[0].props, { scene: 1001, loadMs: 1000, loadMsSource: 'onReady' });

  const odd = setup();
  odd.tracker.start();
  odd.wx.performance.record(appLaunch(NaN));
  odd.wx.performance.record(appLaunch(-5));
  odd.wx.performance.record(appLaunch('800'));
  await odd.clock.advance(0.8 * SECOND);
  pageInstance(odd.tracker.page({}), 'pages/index/index').onReady();
  await odd.clock.advance(3 * SECOND);
  await odd.tracker.flush();
  assert.deepEqual(odd.wx.sentEvents()[0].props, { scene: 1001, loadMs: 800, loadMsSource: 'onReady' });
});

test('the held session_start pushed out of a full outbox releases the rest at once', async () => {
  const { wx, tracker, clock, logger } = setup({ options: { maxStoredEvents: 3, flushIntervalMs: 5 * SECOND } });
  tracker.start();
  for (let i = 0; i < 3; i++) tracker.track('custom.tap', { i });
  await clock.advance(5 * SECOND);
  assert.deepEqual(wx.sentEvents().map((e) => e.props.i), [0, 1, 2]);
  assert.equal(tracker.stats().dropped, 1);
  assert.ok(logger.lines.some(([, m]) => m.includes('outbox full')));
  wx.performance.record(appLaunch(500)); // nothing left to complete: no error
  await tracker.flush();
  assert.equal(ofType(wx, 'session_start').length, 0);
});

test('session_start carries the referrer, the utm_ parameters of the query and the chat type; nothing else of the query', async () => {
  const { wx, tracker } = setup({
    launch: {
      scene: 1044,
      path: 'pages/index/index',
      query: { utm_source: 'wechat_group', utm_medium: 'share_card', utm_campaign: 'double11', utm_id: 7, id: '42', token: 'secret', UTM_TERM: 'upper', utm_content: '', utm_term: { nested: true } },
      chatType: 3,
      referrerInfo: { appId: 'wxfriend01', extraData: { coupon: 'c1' } },
    },
  });
  tracker.start();
  await tracker.flush();
  const [start] = wx.sentEvents();
  assert.deepEqual(start.props, {
    scene: 1044, referrerMiniProgramId: 'wxfriend01',
    utm_source: 'wechat_group', utm_medium: 'share_card', utm_campaign: 'double11', utm_id: '7',
    chatType: 3,
  });
});

test('at most 8 utm_ parameters are kept, the first in the query', async () => {
  const query = {};
  for (let i = 0; i < 12; i++) query[`utm_k${i}`] = `v${i}`;
  const { wx, tracker } = setup({ launch: { scene: 1001, query } });
  tracker.start();
  await tracker.flush();
  const [start] = wx.sentEvents();
  assert.deepEqual(Object.keys(start.props), ['scene', 'utm_k0', 'utm_k1', 'utm_k2', 'utm_k3', 'utm_k4', 'utm_k5', 'utm_k6', 'utm_k7']);
});

test('utm_ values are cut to 1024 characters (a surrogate pair is never split), and the event stays under 32 KiB', async () => {
  const long = 'a'.repeat(1023) + '😀' + 'b'.repeat(500); // the emoji straddles character 1024
  const query = {};
  for (let i = 0; i < 10; i++) query[`utm_p${i}`] = i === 0 ? long : '网'.repeat(2000);
  const { wx, tracker } = setup({ launch: { scene: 1001, query } });
  tracker.start();
  await tracker.flush();
  const [start] = wx.sentEvents();
  const utm = Object.keys(start.props).filter((k) => k.startsWith('utm_'));
  assert.deepEqual(utm, ['utm_p0', 'utm_p1', 'utm_p2', 'utm_p3', 'utm_p4', 'utm_p5', 'utm_p6', 'utm_p7']);
  assert.equal(start.props.utm_p0, 'a'.repeat(1023), 'cut before the pair, not through it');
  assert.equal(start.props.utm_p1.length, 1024);
  assert.ok(Buffer.byteLength(JSON.stringify(start)) <= 32 * 1024);
  assert.equal(tracker.stats().dropped, 0);
});

test('utm_ values that JSON escapes heavily are limited by bytes, so the session_start is never refused for its size', async () => {
  const query = {};
  for (let i = 0; i < 8; i++) query[`utm_x${i}`] = '\u0001'.repeat(1024); // 6 bytes each as JSON
  const { wx, tracker } = setup({ launch: { scene: 1001, query } });
  tracker.start();
  await tracker.flush();
  const [start] = wx.sentEvents();
  assert.equal(start.type, 'session_start');
  const kept = Object.keys(start.props).filter((k) => k.startsWith('utm_')).length;
  assert.ok(kept >= 1 && kept < 8, `kept ${kept}`);
  assert.ok(Buffer.byteLength(JSON.stringify(start)) <= 32 * 1024);
  assert.equal(tracker.stats().dropped, 0);
});

test('a session begun by a show takes the referrer, query and chat type of that show', async () => {
  const { wx, tracker, clock } = setup({ launch: { scene: 1001, query: { utm_source: 'first' } }, options: { sessionTimeoutMs: 30 * SECOND } });
  tracker.start();
  wx.hide();
  await clock.advance(31 * SECOND);
  wx.show({ scene: 1037, query: { utm_source: 'second' }, chatType: 1, referrerInfo: { appId: 'wxother02' } });
  await tracker.flush();
  const starts = ofType(wx, 'session_start');
  assert.deepEqual(starts.map((e) => e.props), [
    { scene: 1001, utm_source: 'first' },
    { scene: 1037, referrerMiniProgramId: 'wxother02', utm_source: 'second', chatType: 1 },
  ]);
});

test('referrer, launchQuery and chatType can each be turned off; an odd referrer appId is left out', async () => {
  const launch = { scene: 1037, query: { utm_source: 's' }, chatType: 3, referrerInfo: { appId: 'wxfriend01' } };
  const props = async (autoCapture, l = launch) => {
    const { wx, tracker } = setup({ launch: l, options: { autoCapture } });
    tracker.start();
    await tracker.flush();
    return wx.sentEvents()[0].props;
  };
  assert.deepEqual(await props({ referrer: false }), { scene: 1037, utm_source: 's', chatType: 3 });
  assert.deepEqual(await props({ launchQuery: false }), { scene: 1037, referrerMiniProgramId: 'wxfriend01', chatType: 3 });
  assert.deepEqual(await props({ chatType: false }), { scene: 1037, referrerMiniProgramId: 'wxfriend01', utm_source: 's' });
  assert.deepEqual(await props(false), { scene: 1037 });
  assert.deepEqual(await props({}, { ...launch, referrerInfo: { appId: 'not an app id!' } }), { scene: 1037, utm_source: 's', chatType: 3 });
});
