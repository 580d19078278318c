// End-to-end run of the SDK in Node against a running pipeline:
//   node test/e2e.mjs <endpoint> <ingest key> <miniProgramId>
// Two users on two simulated devices go through sessions, pages, a share, a trip to the
// background longer than the session timeout, an offline start whose events persist across a
// restart, and an answer lost after it reached the pipeline (the batch is sent again). The wx
// fake's request is real HTTP (fetch); the lifecycle runs on a fake clock that starts a few
// minutes in the past. Prints what it did as JSON; the .NET test checks the rolled-up metrics.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createTracker } = require('../src/index.js');
const { FakeClock, createFakeWx, pageInstance, listLogger } = require('./fake-wx.js');

const [endpoint, apiKey, miniProgramId] = process.argv.slice(2);
if (!endpoint || !apiKey || !miniProgramId) {
  console.error('usage: node test/e2e.mjs <endpoint> <ingest key> <miniProgramId>');
  process.exit(2);
}

const SECOND = 1000;
const clock = new FakeClock(Date.now() - 5 * 60 * SECOND);

async function http(options) {
  const response = await fetch(options.url, { method: options.method, headers: options.header, body: options.data });
  return { statusCode: response.status, data: await response.text(), header: Object.fromEntries(response.headers) };
}

function device({ storage, transport, launch }) {
  const wx = createFakeWx({ clock, storage, launch, transport });
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

// Device A: the first answer is lost after the pipeline accepted the batch.
let lost = 0;
const a = device({
  launch: { scene: 1011 },
  transport: async (options) => {
    const answer = await http(options);
    return lost++ === 0 ? { fail: 'request:fail socket closed after the answer' } : answer;
  },
});
const index = await view(a.tracker, 'pages/index/index', 8);
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

// Device B: starts offline; its events wait in storage, the app is killed, and the next launch sends them.
const storageB = new Map();
const offline = device({ storage: storageB, launch: { scene: 1001 }, transport: async () => ({ fail: 'request:fail offline' }) });
(await view(offline.tracker, 'pages/index/index', 4)).onHide();
offline.wx.hide();
await offline.tracker.flush();
const stranded = offline.tracker.stats().queued;
const b = device({ storage: storageB, launch: { scene: 1089 }, transport: http });
(await view(b.tracker, 'pages/index/index', 6)).onHide();
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
  strandedOffline: stranded,
  requests: a.wx.requests.length + b.wx.requests.length,
  statsA: a.tracker.stats(),
  statsB: b.tracker.stats(),
  warnings: [...a.logger.lines, ...b.logger.lines].filter(([level]) => level === 'error').map(([, m]) => m),
}));
