// End-to-end run of the SDK in Node against a running pipeline:
//   node e2e/run.mjs <endpoint> <ingest key> <miniProgramId>
// Two users on two simulated devices go through sessions, pages, a share, a trip to the
// background longer than the session timeout, an offline start whose events persist across a
// restart, and an answer lost after it reached the pipeline (the batch is sent again). What the
// SDK captures by itself is on the wire too: a launch the runtime measured (session_start.loadMs
// with utm_ parameters and the chat type), a script error and a failed app request (error
// events), so the pipeline's validator sees those props. The wx fake's requests to the pipeline
// are real HTTP (fetch); the lifecycle runs on a fake clock that starts a few minutes in the
// past. Prints what it did as JSON; the .NET test checks the rolled-up metrics.
//
// Not a unit test, so it lives outside test/: neither `npm test` nor a bare `node --test` in the
// package picks it up (it needs a running pipeline).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createTracker } = require('../src/index.js');
const { FakeClock, createFakeWx, pageInstance, listLogger } = require('../test/fake-wx.js');

const [endpoint, apiKey, miniProgramId] = process.argv.slice(2);

const SECOND = 1000;
const clock = new FakeClock(Date.now() - 5 * 60 * SECOND);

async function http(options) {
  const response = await fetch(options.url, { method: options.method, headers: options.header, body: options.data });
  return { statusCode: response.status, data: await response.text(), header: Object.fromEntries(response.headers) };
}

function device({ storage, transport, launch, performance }) {
  const wx = createFakeWx({ clock, storage, launch, transport, performance });
  const logger = listLogger();
  const tracker = createTracker({
    endpoint, apiKey, miniProgramId, wx, logger,
    now: clock.now, timers: clock,
    sessionTimeoutMs: 30 * SECOND, baseRetryDelayMs: 500, flushIntervalMs: 2 * SECOND, maxBatchEvents: 4,
  });
  tracker.start();
  return { wx, tracker, logger };
}

/** Sends everything, letting back-off timers run on the fake clock while real requests finish. */
async function drain(tracker) {
  for (let i = 0; i < 100 && tracker.stats().queued > 0; i++) {
    await tracker.flush();
    if (tracker.stats().queued === 0) break;
    await clock.advance(SECOND);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (tracker.stats().queued > 0) throw new Error(`events left unsent: ${JSON.stringify(tracker.stats())}`);
}

async function view(tracker, route, seconds, extra = {}) {
  const page = pageInstance(tracker.page(extra), route);
  page.onShow();
  await clock.advance(seconds * SECOND);
  return page;
}

async function main() {
  // Device A: the first answer is lost after the pipeline accepted the batch.
  let lost = 0;
  const a = device({
    launch: { scene: 1011, query: { utm_source: 'e2e', utm_campaign: 'sdk_test', id: '7' }, chatType: 3 },
    transport: async (options) => {
      const answer = await http(options);
      return lost++ === 0 ? { fail: 'request:fail socket closed after the answer' } : answer;
    },
  });
  // The runtime reports the launch: the held session_start gets loadMs and goes out first.
  a.wx.performance.record({ entryType: 'navigation', name: 'appLaunch', path: 'pages/index/index', startTime: clock.now() - 900, duration: 912.4 });
  a.wx.appRespond = () => ({ statusCode: 502, data: 'bad gateway' });
  const index = await view(a.tracker, 'pages/index/index', 8);
  a.wx.throwError("TypeError: Cannot read properties of undefined (reading 'price')\n    at e2e (pages/index/index.js:1:1)");
  a.tracker.request({ url: 'https://api.example.test/coupons?token=not-sent', method: 'GET' }); // answered 502: an error of kind network
  index.onHide();
  const detail = await view(a.tracker, 'pages/detail/detail', 5, { onShareAppMessage: () => ({ title: 'look' }) });
  detail.onShareAppMessage({ from: 'button' });
  detail.onUnload();
  index.onShow();
  await clock.advance(2 * SECOND);
  a.wx.hide();
  index.onHide();
  await clock.advance(40 * SECOND); // longer than the session timeout: the next show is a new session
  a.wx.show({ scene: 1007 });
  index.onShow();
  await clock.advance(3 * SECOND);
  index.onHide();
  a.wx.hide();
  await drain(a.tracker);

  // Device B: starts offline; its events wait in storage, the app is killed, and the next launch
  // sends them. An old base library (no wx.getPerformance): loadMs runs to the first page's onReady.
  const storageB = new Map();
  const offline = device({ storage: storageB, launch: { scene: 1001 }, performance: false, transport: async () => ({ fail: 'request:fail offline' }) });
  (await view(offline.tracker, 'pages/index/index', 4)).onHide();
  offline.wx.hide();
  await offline.tracker.flush();
  const stranded = offline.tracker.stats().queued;
  const b = device({ storage: storageB, launch: { scene: 1089 }, performance: false, transport: http });
  const first = pageInstance(b.tracker.page({}), 'pages/index/index');
  first.onShow();
  await clock.advance(700);
  first.onReady(); // first render done 0.7 s after the tracker was created: loadMs 700
  await clock.advance(6 * SECOND);
  first.onHide();
  b.wx.hide();
  await drain(b.tracker);

  const events = [...a.wx.requests, ...b.wx.requests].flatMap((r) => r.body.events);
  const unique = new Map(events.map((e) => [e.eventId, e]));
  const count = (type) => [...unique.values()].filter((e) => e.type === type).length;
  console.log(JSON.stringify({
    users: new Set([...unique.values()].map((e) => e.userId)).size,
    sessions: count('session_start'),
    sessionEnds: count('session_end'),
    pageViews: count('page_view'),
    shares: count('share'),
    errors: count('error'),
    loadMs: [...unique.values()].filter((e) => e.type === 'session_start' && e.props.loadMs !== undefined).map((e) => e.props.loadMs),
    strandedOffline: stranded,
    requests: a.wx.requests.length + b.wx.requests.length,
    statsA: a.tracker.stats(),
    statsB: b.tracker.stats(),
    rejected: a.tracker.stats().rejected + b.tracker.stats().rejected,
    warnings: [...a.logger.lines, ...b.logger.lines].filter(([level]) => level === 'error').map(([, m]) => m),
  }));
}

if (endpoint && apiKey && miniProgramId) {
  await main();
} else {
  console.error('usage: node e2e/run.mjs <endpoint> <ingest key> <miniProgramId>');
  process.exit(2);
}
