'use strict';

// The example mini-program (example/) run on the wx fake, so that it keeps working as the SDK
// changes: its app.js and page load, and what it shows is on the wire.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { createFakeWx, pageInstance, settle } = require('./fake-wx');

const example = path.join(__dirname, '..', 'example');

/** Runs a script of the example as the runtime would, with its globals and a require that finds the SDK at ./metrics. */
function run(file, globals) {
  const code = fs.readFileSync(path.join(example, file), 'utf8');
  const requireSdk = (id) => {
    assert.equal(id, './metrics/index.js');
    return require('../src/index.js');
  };
  const names = Object.keys(globals);
  new Function('require', ...names, code)(requireSdk, ...names.map((n) => globals[n]));
}

test('the example app captures its launch, the referrer, the utm_ parameters, a failed request, a script error and an unhandled rejection', async (t) => {
  const wx = createFakeWx({
    launch: {
      scene: 1037, path: 'pages/index/index', query: { utm_source: 'wechat', utm_medium: 'share_card', id: '9' }, chatType: 1,
      referrerInfo: { appId: 'wxfriend01', extraData: { coupon: 'coupon-from-friend' } }, // opened from another mini-program
    },
    appRespond: () => ({ statusCode: 500, data: 'oops' }),
  });
  // The example uses the runtime's global wx (it passes no options.wx).
  globalThis.wx = wx;
  t.after(() => { delete globalThis.wx; });

  let app = null;
  let pageOptions = null;
  run('app.js', { App: (o) => { app = o; } });
  run('pages/index/index.js', { getApp: () => app, Page: (o) => { pageOptions = o; } });
  const { tracker } = app;

  const page = pageInstance(pageOptions, 'pages/index/index');
  page.data = { ...pageOptions.data };
  page.setData = function (d) { Object.assign(this.data, d); };
  page.onLoad();
  await settle(); // the coupons request is answered (500)
  page.onShow();
  wx.performance.record({ entryType: 'navigation', name: 'appLaunch', startTime: 0, duration: 1100 });
  page.onReady();
  let thrown = null;
  try {
    page.breakSomething();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown, 'the Break button throws');
  wx.throwError(thrown); // the runtime hands the uncaught error to wx.onError
  const rejected = await page.refreshProfile().then(() => null, (e) => e);
  assert.ok(rejected, 'the Refresh button\'s promise rejects');
  wx.rejectUnhandled(rejected); // nobody caught it: the runtime hands it to wx.onUnhandledRejection
  await settle();
  page.onHide();
  wx.hide();
  await tracker.flush();

  const events = wx.sentEvents();
  assert.equal(events[0].type, 'session_start');
  assert.deepEqual(events[0].props, {
    scene: 1037, referrerMiniProgramId: 'wxfriend01', utm_source: 'wechat', utm_medium: 'share_card', chatType: 1, loadMs: 1100, loadMsSource: 'appLaunch',
  });
  assert.ok(!JSON.stringify(events).includes('coupon-from-friend'), 'the referrer\'s extraData is not sent');
  const errors = events.filter((e) => e.type === 'error').map((e) => e.props);
  assert.equal(errors.length, 3);
  assert.equal(errors[0].kind, 'network');
  assert.equal(errors[0].url, 'https://api.example.com/coupons');
  assert.ok(!JSON.stringify(events).includes('token='), 'the request\'s query is never sent');
  assert.equal(errors[1].kind, 'js_error');
  assert.equal(errors[1].origin, 'onError');
  assert.match(errors[1].message, /^Error: example error from the Break button/);
  assert.equal(errors[2].kind, 'js_error');
  assert.equal(errors[2].origin, 'onUnhandledRejection');
  assert.match(errors[2].message, /^Error: example rejection from the Refresh button: profile service down/);
  assert.equal(page.data.nickname, '', 'the rejected refresh changes nothing on the page');
  assert.equal(page.data.coupons, 3, 'a 500 changes nothing on the page');
  assert.deepEqual(events.filter((e) => e.type === 'page_view').map((e) => e.props.page), ['/pages/index/index']);
});
