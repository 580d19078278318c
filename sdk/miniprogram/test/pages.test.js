'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { setup, SECOND } = require('./helpers');
const { pageInstance } = require('./fake-wx');

test('page_view carries the stay time from onShow to onHide, once, and the page handlers still run', async () => {
  const { wx, tracker, clock } = setup();
  tracker.start();
  const calls = [];
  const page = pageInstance(tracker.page({
    data: { n: 1 },
    onShow() { calls.push(['show', this.data.n]); },
    onHide() { calls.push(['hide']); return 'hidden'; },
  }), 'pages/index/index');

  page.onShow();
  const shownAt = clock.now();
  await clock.advance(7 * SECOND);
  assert.equal(page.onHide(), 'hidden');
  page.onUnload(); // after onHide: no second view
  await tracker.flush();

  const views = wx.sentEvents().filter((e) => e.type === 'page_view');
  assert.equal(views.length, 1);
  assert.deepEqual(views[0].props, { page: '/pages/index/index', durationMs: 7 * SECOND });
  assert.equal(Date.parse(views[0].timestamp), shownAt);
  assert.equal(views[0].sessionId, wx.sentEvents()[0].sessionId);
  assert.deepEqual(calls, [['show', 1], ['hide']]);
});

test('onUnload ends a view too (navigating back)', async () => {
  const { wx, tracker, clock } = setup();
  tracker.start();
  const page = pageInstance(tracker.page({}), 'pages/detail/detail');
  page.onShow();
  await clock.advance(3 * SECOND);
  page.onUnload();
  await tracker.flush();
  const [view] = wx.sentEvents().filter((e) => e.type === 'page_view');
  assert.deepEqual(view.props, { page: '/pages/detail/detail', durationMs: 3 * SECOND });
});

test('share is tracked from onShareAppMessage and onShareTimeline, whose results pass through', async () => {
  const { wx, tracker } = setup();
  tracker.start();
  const page = pageInstance(tracker.page({
    onShareAppMessage() { return { title: 'Come and see', path: '/pages/shop/shop?id=1' }; },
    onShareTimeline() { return { title: 'Moments' }; },
  }), 'pages/shop/shop');
  assert.deepEqual(page.onShareAppMessage({ from: 'menu' }), { title: 'Come and see', path: '/pages/shop/shop?id=1' });
  assert.deepEqual(page.onShareTimeline(), { title: 'Moments' });
  await tracker.flush();
  const shares = wx.sentEvents().filter((e) => e.type === 'share');
  assert.deepEqual(shares.map((e) => e.props), [{ target: 'chat', page: '/pages/shop/shop' }, { target: 'moments', page: '/pages/shop/shop' }]);
  assert.ok(shares.every((e) => e.sessionId === wx.sentEvents()[0].sessionId));
});

test('a page without share handlers does not get them (they turn the share menus on)', () => {
  const { tracker } = setup();
  const wrapped = tracker.page({ onLoad() {} });
  assert.equal(wrapped.onShareAppMessage, undefined);
  assert.equal(wrapped.onShareTimeline, undefined);
  assert.equal(typeof wrapped.onLoad, 'function');
});

test('track sends any contract type with the current session, and refuses unknown types', async () => {
  const { wx, tracker, logger } = setup();
  tracker.start();
  const id = tracker.track('order_paid', { orderId: 'o1', amount: 1280, currency: 'CNY', merchantId: 'm1' });
  assert.equal(tracker.track('page_viewed', {}), null);
  assert.equal(tracker.track('custom.Bad', {}), null);
  await tracker.flush();
  const order = wx.sentEvents().find((e) => e.eventId === id);
  assert.equal(order.type, 'order_paid');
  assert.equal(order.sessionId, wx.sentEvents()[0].sessionId);
  assert.equal(tracker.stats().dropped, 2);
  assert.ok(logger.lines.some(([, m]) => m.includes("unknown type 'page_viewed'")));
});
