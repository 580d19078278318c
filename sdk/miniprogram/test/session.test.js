'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, SECOND } = require('./helpers');

const ofType = (wx, type) => wx.sentEvents().filter((e) => e.type === type);

test('start sends session_start with the launch scene, the referrer, the platform and an anonymous user', async () => {
  const { wx, tracker, clock } = setup({ launch: { scene: 1037, referrerInfo: { appId: 'wxfriend01' } } });
  tracker.start();
  await tracker.flush();
  const [start] = wx.sentEvents();
  assert.equal(start.type, 'session_start');
  assert.deepEqual(start.props, { scene: 1037, referrerMiniProgramId: 'wxfriend01' });
  assert.equal(start.platform, 'ios');
  assert.equal(start.miniProgramId, 'wxtest0001');
  assert.match(start.userId, /^anon-[0-9a-f]{32}$/);
  assert.match(start.sessionId, /^s-/);
  assert.match(start.eventId, /^[A-Za-z0-9_.:-]{1,64}$/);
  assert.equal(start.timestamp, new Date(clock.now()).toISOString());
  assert.equal(wx.requests[0].url, 'https://metrics.test/api/v1/events');
  assert.equal(wx.requests[0].header['X-Api-Key'], 'mpk_test_key');
  assert.equal(wx.requests[0].header['Content-Type'], 'application/json');
});

test('the anonymous id survives a restart and setUserId replaces it', async () => {
  const first = setup();
  first.tracker.start();
  await first.tracker.flush();
  const again = setup({ storage: first.wx.storage, clock: first.clock });
  again.tracker.start();
  again.tracker.setUserId('o6_openid_1');
  again.tracker.track('custom.coupon_claimed', { couponId: 'c1' });
  await again.tracker.flush();
  const anonymous = first.wx.sentEvents()[0].userId;
  const events = again.wx.sentEvents();
  assert.equal(events.find((e) => e.type === 'session_start').userId, anonymous);
  assert.equal(events.find((e) => e.type === 'custom.coupon_claimed').userId, 'o6_openid_1');
});

test('a short trip to the background keeps the session; its duration counts only the foreground', async () => {
  const { wx, tracker, clock } = setup({ options: { sessionTimeoutMs: 30 * SECOND } });
  tracker.start();
  wx.show({ scene: 1001 }); // the show that follows the launch changes nothing
  await clock.advance(20 * SECOND);
  wx.hide();
  await clock.advance(10 * SECOND);
  wx.show({ scene: 1089 });
  await clock.advance(15 * SECOND);
  wx.hide();
  await clock.advance(31 * SECOND);
  wx.show({ scene: 1007 });
  await tracker.flush();

  const starts = ofType(wx, 'session_start');
  const ends = ofType(wx, 'session_end');
  assert.equal(starts.length, 2);
  assert.deepEqual(starts.map((e) => e.props.scene), [1001, 1007]);
  assert.equal(ends.length, 1);
  assert.equal(ends[0].sessionId, starts[0].sessionId);
  assert.equal(ends[0].props.durationMs, 35 * SECOND);
  // Timestamped when the app was hidden, not when the expiry was noticed.
  assert.equal(Date.parse(ends[0].timestamp), Date.parse(starts[0].timestamp) + 45 * SECOND);
  assert.notEqual(starts[1].sessionId, starts[0].sessionId);
});

test('durations come from timestamps, so frozen timers do not distort them', async () => {
  const { wx, tracker, clock } = setup({ options: { sessionTimeoutMs: 30 * SECOND } });
  tracker.start();
  await clock.advance(12 * SECOND);
  wx.hide();
  clock.freeze(10 * 60 * SECOND); // iOS suspends the JS thread: no timer runs for ten minutes
  wx.show({ scene: 1001 });
  await tracker.flush();
  const [end] = ofType(wx, 'session_end');
  assert.equal(end.props.durationMs, 12 * SECOND);
  assert.equal(ofType(wx, 'session_start').length, 2);
});

test('a session whose process was killed in the background is ended at the next launch', async () => {
  const first = setup();
  first.tracker.start();
  await first.clock.advance(40 * SECOND);
  first.wx.hide();
  const hiddenAt = first.clock.now();
  await first.clock.advance(3600 * SECOND);

  const again = setup({ storage: first.wx.storage, clock: first.clock, launch: { scene: 1011 } });
  again.tracker.start();
  await again.tracker.flush();
  const events = again.wx.sentEvents();
  const end = events.find((e) => e.type === 'session_end');
  assert.equal(end.sessionId, first.wx.sentEvents()[0].sessionId);
  assert.equal(end.props.durationMs, 40 * SECOND);
  assert.equal(Date.parse(end.timestamp), hiddenAt);
  assert.equal(events.filter((e) => e.type === 'session_start').at(-1).props.scene, 1011);
});
