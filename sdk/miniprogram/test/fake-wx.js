'use strict';

/**
 * A fake of the parts of the mini-program runtime the SDK uses, with a fake clock. Storage keeps
 * JSON copies (as the runtime does), so that a new tracker on the same storage is a restart.
 */

class FakeClock {
  constructor(start = Date.UTC(2026, 10, 23, 2, 0, 0)) {
    this.ms = start;
    this.timers = new Map();
    this.nextId = 1;
    this.now = () => this.ms;
    this.setTimeout = (fn, delay) => {
      const id = this.nextId++;
      this.timers.set(id, { at: this.ms + Math.max(0, delay || 0), fn });
      return id;
    };
    this.clearTimeout = (id) => this.timers.delete(id);
  }

  /** Moves time on, firing the timers that fall due (and what they start) in order. */
  async advance(ms) {
    const until = this.ms + ms;
    for (;;) {
      await settle();
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.ms = Math.max(this.ms, due[1].at);
      due[1].fn();
    }
    this.ms = until;
    await settle();
  }

  /** Moves time on without firing any timer: the JS thread was frozen (iOS in the background). */
  freeze(ms) {
    this.ms += ms;
  }
}

/** Lets pending promise callbacks (answers of requests) run. */
async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * The runtime's performance API (wx.getPerformance): a buffer of entries, and observers that are
 * told of new entries of the types they observe.
 */
function createFakePerformance() {
  const buffer = [];
  const observers = [];
  const list = (entries) => ({
    getEntries: () => entries.slice(),
    getEntriesByName: (name, type) => entries.filter((e) => e.name === name && (type === undefined || e.entryType === type)),
    getEntriesByType: (type) => entries.filter((e) => e.entryType === type),
  });
  return {
    observers,
    ...list(buffer),
    createObserver(callback) {
      const observer = {
        types: [],
        disconnected: false,
        observe(options) {
          observer.types = options.entryTypes || [options.type];
          observers.push(observer);
        },
        disconnect() {
          observer.disconnected = true;
          const at = observers.indexOf(observer);
          if (at >= 0) observers.splice(at, 1);
        },
        callback,
      };
      return observer;
    },
    /** The runtime records an entry: into the buffer, and (unless notify is false) to the observers of its type. */
    record(entry, { notify = true } = {}) {
      buffer.push(entry);
      if (!notify) return;
      for (const observer of observers.slice()) if (observer.types.includes(entry.entryType)) observer.callback(list([entry]));
    },
  };
}

/**
 * @param {object} o
 * @param {FakeClock} [o.clock]
 * @param {Map<string, string>} [o.storage] share it between two fakes to restart the app
 * @param {(request: any) => any} [o.respond] the answer to a request to the pipeline: { statusCode, data, header } or { fail: 'errMsg' }
 * @param {(request: any) => any} [o.appRespond] the answer to any other request (the app's own, through tracker.request); default 200
 * @param {any} [o.launch] what getLaunchOptionsSync returns
 * @param {boolean} [o.performance] false: a base library without wx.getPerformance (before 2.11.0)
 * @param {boolean} [o.errorHooks] false: a base library without wx.onError and wx.onUnhandledRejection
 * @param {(request: any) => Promise<any>} [o.transport] real HTTP instead of respond (the e2e test)
 */
function createFakeWx(o = {}) {
  const storage = o.storage || new Map();
  const showListeners = [];
  const hideListeners = [];
  const errorListeners = [];
  const rejectionListeners = [];
  const requests = [];
  const appRequests = [];
  const performance = createFakePerformance();
  const wx = {
    storage,
    requests,
    appRequests,
    performance,
    errorListeners,
    rejectionListeners,
    respond: o.respond || ((req) => accept(req)),
    appRespond: o.appRespond || (() => ({ statusCode: 200, data: { ok: true }, header: {} })),
    launch: o.launch || { scene: 1001, path: 'pages/index/index', query: {} },
    platform: o.platform || 'ios',

    getLaunchOptionsSync: () => JSON.parse(JSON.stringify(wx.launch)),
    getDeviceInfo: () => ({ platform: wx.platform, system: 'iOS 18.1' }),
    onAppShow: (fn) => showListeners.push(fn),
    onAppHide: (fn) => hideListeners.push(fn),
    getStorageSync: (key) => (storage.has(key) ? JSON.parse(storage.get(key)) : ''),
    setStorageSync: (key, value) => storage.set(key, JSON.stringify(value)),
    removeStorageSync: (key) => storage.delete(key),

    getPerformance: () => performance,
    onError: (fn) => errorListeners.push(fn),
    onUnhandledRejection: (fn) => rejectionListeners.push(fn),

    request(options) {
      // The app's own requests (tracker.request) go elsewhere than the pipeline's ingest path.
      if (!/\/api\/v1\/events$/.test(options.url)) return appRequest(options);
      const body = JSON.parse(options.data);
      const seen = { url: options.url, method: options.method, header: options.header, body, at: o.clock ? o.clock.now() : Date.now() };
      requests.push(seen);
      const answer = o.transport ? o.transport(options) : Promise.resolve().then(() => wx.respond(seen));
      answer.then((a) => {
        if (a && a.fail) options.fail && options.fail({ errMsg: a.fail });
        else options.success && options.success({ statusCode: a.statusCode, data: a.data, header: a.header || {} });
      }, (e) => options.fail && options.fail({ errMsg: String(e) }));
    },

    /** A script error reaches the runtime (as wx.onError listeners get it: a string with the stack, or an Error). */
    throwError(error) {
      for (const fn of errorListeners) fn(error);
    },
    /** A promise is rejected and nobody handles it. */
    rejectUnhandled(reason) {
      for (const fn of rejectionListeners) fn({ reason, promise: Promise.resolve() });
    },

    /** The user brings the app to the foreground. */
    show(options = { scene: 1001 }) {
      for (const fn of showListeners) fn(options);
    },
    /** The user leaves the app. */
    hide() {
      for (const fn of hideListeners) fn();
    },
    /** Every event of every request, in order. */
    sentEvents() {
      return requests.flatMap((r) => r.body.events);
    },
  };
  if (o.performance === false) delete wx.getPerformance;
  if (o.errorHooks === false) {
    delete wx.onError;
    delete wx.onUnhandledRejection;
  }

  /** Answers asynchronously as the runtime does: success or fail, then complete; returns a RequestTask. */
  function appRequest(options) {
    const seen = { url: options.url, method: options.method, data: options.data, aborted: false };
    appRequests.push(seen);
    const task = { abort: () => { seen.aborted = true; } };
    Promise.resolve().then(() => {
      const a = seen.aborted ? { fail: 'request:fail abort' } : wx.appRespond(seen);
      if (a && a.fail) {
        const err = { errMsg: a.fail };
        options.fail && options.fail(err);
        options.complete && options.complete(err);
      } else {
        const res = { statusCode: a.statusCode, data: a.data, header: a.header || {}, errMsg: 'request:ok' };
        options.success && options.success(res);
        options.complete && options.complete(res);
      }
    });
    return task;
  }
  return wx;
}

/** A 202 accepting every event of the request, as the pipeline answers (data as text, as with responseType 'text'). */
function accept(req) {
  return { statusCode: 202, data: JSON.stringify({ batchId: 'b' + req.at, accepted: req.body.events.length, rejected: [] }), header: {} };
}

/** A page instance as the runtime makes it from the options given to Page(). */
function pageInstance(options, route) {
  return Object.assign(Object.create(null), options, { route });
}

/** A logger that keeps what it is told. */
function listLogger() {
  const lines = [];
  return { lines, warn: (m) => lines.push(['warn', m]), error: (m) => lines.push(['error', m]) };
}

module.exports = { FakeClock, createFakeWx, accept, pageInstance, listLogger, settle };
