'use strict';

const { Outbox } = require('./outbox');
const { SessionClock } = require('./session');
const { newEventId, newSessionId, newAnonymousId } = require('./ids');
const { sessionStartProps, LaunchTimer } = require('./launch');
const { jsErrorProps, networkErrorProps, isAbort } = require('./errors');
const wire = require('./wire');

const DEFAULTS = {
  sessionTimeoutMs: 30 * 1000,
  flushIntervalMs: 5 * 1000,
  maxBatchEvents: 50,
  maxBatchBytes: 256 * 1024,
  maxStoredEvents: 500,
  baseRetryDelayMs: 1000,
  maxRetryDelayMs: 5 * 60 * 1000,
  requestTimeoutMs: 15 * 1000,
  storagePrefix: 'mpmetrics:',
  maxLoadWaitMs: 30 * 1000,
  maxErrorsPerSession: 20,
};

/** What the tracker captures without the app writing code for it; every one on unless turned off in options.autoCapture. */
const AUTO_CAPTURE = {
  /** session_start.loadMs of the launch (cold-start time). */
  loadTime: true,
  /** session_start.referrerMiniProgramId from the launch options' referrerInfo.appId. */
  referrer: true,
  /** session_start.utm_* from the launch options' query. */
  launchQuery: true,
  /** session_start.chatType from the launch options. */
  chatType: true,
  /** error (kind js_error) from wx.onError and wx.onUnhandledRejection. */
  errors: true,
  /** error (kind network) from failed requests made with tracker.request. */
  networkErrors: true,
};

/**
 * How long the launch page's onReady waits for the runtime's appLaunch performance entry before
 * using its own measure. The entry is reported when the first page has rendered, which is about
 * when onReady runs; this only covers the two arriving in either order.
 */
const LAUNCH_ENTRY_GRACE_MS = 3000;

/**
 * The mini-program tracker. Create one in app.js, call start(), wrap pages with page().
 * See README.md for the whole story; index.d.ts for the types.
 */
class Tracker {
  /** @param {import('../index').TrackerOptions} options */
  constructor(options) {
    const o = { ...DEFAULTS, ...options };
    if (!o.endpoint || !/^https?:\/\//.test(o.endpoint)) throw new Error('metrics: options.endpoint must be the pipeline\'s http(s) base address');
    if (!o.apiKey) throw new Error('metrics: options.apiKey (an ingest key) is required');
    if (!wire.MINI_PROGRAM_ID.test(o.miniProgramId || '')) throw new Error('metrics: options.miniProgramId must be 1-64 of A-Z, a-z, 0-9, _ and -');
    if (!(o.maxBatchEvents >= 1 && o.maxBatchEvents <= wire.MAX_BATCH_EVENTS)) throw new Error(`metrics: options.maxBatchEvents must be 1 to ${wire.MAX_BATCH_EVENTS}`);
    if (!(o.maxBatchBytes >= wire.MAX_EVENT_BYTES && o.maxBatchBytes <= wire.MAX_BODY_BYTES / 2)) throw new Error(`metrics: options.maxBatchBytes must be ${wire.MAX_EVENT_BYTES} to ${wire.MAX_BODY_BYTES / 2}`);
    if (!(Number.isFinite(o.maxLoadWaitMs) && o.maxLoadWaitMs >= 0)) throw new Error('metrics: options.maxLoadWaitMs must be a number of milliseconds >= 0');
    if (!(Number.isInteger(o.maxErrorsPerSession) && o.maxErrorsPerSession >= 0)) throw new Error('metrics: options.maxErrorsPerSession must be an integer >= 0');
    /** @type {typeof AUTO_CAPTURE} */
    this.capture = autoCapture(o.autoCapture);
    this.o = o;
    this.wx = o.wx || /** @type {any} */ (globalThis).wx;
    if (!this.wx) throw new Error('metrics: no wx object (pass options.wx outside a mini-program)');
    this.now = o.now || (() => Date.now());
    // The fallback cold-start measure runs from here: app.js creates the tracker at its top, just before App.onLaunch.
    this.createdAt = this.now();
    this.random = o.random || Math.random;
    this.logger = o.logger || console;
    const timers = o.timers || { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (t) => clearTimeout(t) };
    this.timers = timers;
    this.outbox = new Outbox({
      wx: this.wx, now: this.now, random: this.random, timers, logger: this.logger,
      url: o.endpoint.replace(/\/+$/, '') + '/api/v1/events',
      apiKey: o.apiKey,
      storageKey: o.storagePrefix + 'outbox',
      maxStoredEvents: o.maxStoredEvents,
      maxBatchEvents: o.maxBatchEvents,
      maxBatchBytes: o.maxBatchBytes,
      flushIntervalMs: o.flushIntervalMs,
      baseRetryDelayMs: o.baseRetryDelayMs,
      maxRetryDelayMs: o.maxRetryDelayMs,
      requestTimeoutMs: o.requestTimeoutMs,
    });
    this.sessions = new SessionClock({
      wx: this.wx, now: this.now, storageKey: o.storagePrefix + 'session', timeoutMs: o.sessionTimeoutMs,
      newId: (now) => newSessionId(now, this.random),
    });
    this.userId = o.userId || this.anonymousId();
    this.platform = o.platform || this.detectPlatform();
    this.refused = 0;
    this.started = false;
    /** The launch's cold-start measurement while its session_start is held; null otherwise. */
    this.launch = null;
    this.launchWait = null;
    this.launchPath = '';
    /** Errors captured in the current session (the cap, maxErrorsPerSession). */
    this.errorsCaptured = { sessionId: '', count: 0 };
  }

  /**
   * Starts tracking: ends the session a previous run left open, begins a session with the
   * launch's entry scene (and referrer, utm_ parameters, chat type), measures the cold-start time,
   * follows the app to the background and back, listens for script errors, and sends what a
   * previous run left unsent. Call once, in app.js (at the top or in App.onLaunch).
   */
  start() {
    if (this.started) return;
    this.started = true;
    const previous = this.sessions.takeStored();
    if (previous) this.emitSessionEnd(previous);
    const launch = safe(() => this.wx.getLaunchOptionsSync(), {}) || {};
    // The launch's session_start is held while its cold-start time is measured (measureLaunch).
    const sessionStart = this.beginSession(launch, this.capture.loadTime);
    if (sessionStart && this.capture.loadTime) this.measureLaunch(typeof launch.path === 'string' ? launch.path : '');
    if (typeof this.wx.onAppShow === 'function') this.wx.onAppShow((options) => this.onAppShow(options || {}));
    if (typeof this.wx.onAppHide === 'function') this.wx.onAppHide(() => this.onAppHide());
    if (this.capture.errors) {
      if (typeof this.wx.onError === 'function')
        this.wx.onError((error) => this.capturedError(() => jsErrorProps('onError', error)));
      if (typeof this.wx.onUnhandledRejection === 'function')
        this.wx.onUnhandledRejection((res) => this.capturedError(() => jsErrorProps('onUnhandledRejection', res && typeof res === 'object' && 'reason' in res ? res.reason : res)));
    }
    this.outbox.schedule();
  }

  /**
   * wx.request, and an `error` event (kind `network`) when the request fails (the fail callback,
   * except an abort) or is answered with an HTTP status >= 400. Takes and returns what wx.request
   * does (the RequestTask); the app's success, fail and complete callbacks run as before, with
   * what the runtime gave them.
   * @param {Record<string, any>} options
   */
  request(options) {
    const own = options || {};
    if (!this.capture.networkErrors) return this.wx.request(own);
    const tracker = this;
    return this.wx.request({
      ...own,
      success(...args) {
        const res = args[0];
        if (res && typeof res.statusCode === 'number' && res.statusCode >= 400)
          tracker.capturedError(() => networkErrorProps(own, { statusCode: res.statusCode }));
        return call(own.success, this, args);
      },
      fail(...args) {
        const err = args[0];
        if (!isAbort(err)) tracker.capturedError(() => networkErrorProps(own, { errMsg: err && err.errMsg }));
        return call(own.fail, this, args);
      },
    });
  }

  /** The user from now on (for example the openid once logged in); null goes back to the anonymous id. @param {string | null} userId */
  setUserId(userId) {
    if (userId !== null && !(typeof userId === 'string' && userId.length >= 1 && userId.length <= 128))
      throw new Error('metrics: a userId is 1 to 128 characters');
    this.userId = userId || this.anonymousId();
  }

  /**
   * Tracks an event of any type of the contract (for example 'order_paid', 'ad_impression',
   * 'error', 'custom.coupon_claimed'). The current session is attached unless `fields.sessionId`
   * is given. Returns the eventId, or null when the event was refused (logged).
   * @param {string} type @param {Record<string, any>} [props] @param {import('../index').EventFields} [fields]
   */
  track(type, props, fields) {
    return this.enqueue(type, props, fields, false);
  }

  /** track(), and `hold`: the event and every later one wait in the outbox until outbox.release(). */
  enqueue(type, props, fields, hold) {
    const f = fields || {};
    if (!wire.isKnownType(type)) return this.refuse(`unknown type '${type}' (a contract type, or custom.<name> with a-z 0-9 _)`);
    const sessionId = f.sessionId || (this.sessions.current ? this.sessions.current.id : undefined);
    if (wire.needsSession(type) && !sessionId) return this.refuse(`${type} needs a session: call start() first`);
    const at = f.timestamp !== undefined ? f.timestamp : this.now();
    /** @type {Record<string, any>} */
    const event = {
      eventId: newEventId(this.now(), this.random),
      type,
      timestamp: new Date(at).toISOString(),
      miniProgramId: f.miniProgramId || this.o.miniProgramId,
      platform: this.platform,
      props: props || {},
    };
    if (type !== 'mini_program_published' || f.userId) event.userId = f.userId || this.userId;
    if (sessionId) event.sessionId = sessionId;
    const size = wire.utf8Length(JSON.stringify(event));
    if (size > wire.MAX_EVENT_BYTES) return this.refuse(`${type} event is ${size} bytes of JSON; the contract allows ${wire.MAX_EVENT_BYTES}`);
    this.outbox.add(event, hold);
    return event.eventId;
  }

  /**
   * Wraps a Page's options: page_view with the stay time from onShow to onHide/onUnload, and
   * share from onShareAppMessage (target 'chat') and onShareTimeline ('moments') when the page
   * defines them. The page's own handlers run as before, with the same `this` and result.
   * @template T @param {T} [pageOptions] @returns {T}
   */
  page(pageOptions) {
    const tracker = this;
    const own = /** @type {Record<string, any>} */ (pageOptions || {});
    const wrapped = { ...own };
    // The launch page's first render is done: the fallback end of the cold-start time.
    wrapped.onReady = function (...args) {
      tracker.pageReady(this);
      return call(own.onReady, this, args);
    };
    wrapped.onShow = function (...args) {
      tracker.pageShown(this);
      return call(own.onShow, this, args);
    };
    wrapped.onHide = function (...args) {
      tracker.pageLeft(this);
      return call(own.onHide, this, args);
    };
    wrapped.onUnload = function (...args) {
      tracker.pageLeft(this);
      return call(own.onUnload, this, args);
    };
    // Only where the page defines them: defining them is what turns the share menus on.
    if (typeof own.onShareAppMessage === 'function') {
      wrapped.onShareAppMessage = function (...args) {
        tracker.shared('chat', this);
        return own.onShareAppMessage.apply(this, args);
      };
    }
    if (typeof own.onShareTimeline === 'function') {
      wrapped.onShareTimeline = function (...args) {
        tracker.shared('moments', this);
        return own.onShareTimeline.apply(this, args);
      };
    }
    return /** @type {any} */ (wrapped);
  }

  /**
   * Sends what is waiting now (unless the pipeline asked to wait); resolves when done or a send
   * failed. A launch session_start still waiting for its cold-start time goes without it.
   */
  flush() {
    this.releaseLaunch(null);
    return this.outbox.flush();
  }

  /** Counters since this tracker was created: sent, retried, dropped, rejected, and queued now. */
  stats() {
    const s = this.outbox.stats();
    return { ...s, dropped: s.dropped + this.refused };
  }

  // ---- lifecycle

  onAppShow(options) {
    const outcome = this.sessions.show();
    if (outcome !== 'expired') return;
    const ended = this.sessions.end();
    if (ended) this.emitSessionEnd(ended);
    this.beginSession(options);
  }

  onAppHide() {
    // Hidden before the cold-start time was known: the launch was interrupted (a time that ran on
    // in the background would be wrong anyway), and the process may now be killed at any moment.
    this.releaseLaunch(null);
    this.sessions.hide();
    this.outbox.flush();
  }

  /** @param {any} options @param {boolean} [hold] @returns {string | null} the session_start's eventId */
  beginSession(options, hold) {
    const session = this.sessions.begin();
    return this.enqueue('session_start', sessionStartProps(options, this.capture), { sessionId: session.id, timestamp: session.startedAt }, !!hold);
  }

  /**
   * The launch's session_start (and so every later event) is held in the outbox while the cold-start
   * time is measured; then loadMs is added to it and everything goes, in order. The events wait in
   * storage, so none is lost if the app dies meanwhile (the next launch sends them, the
   * session_start without loadMs). The hold ends at the measure, at the first trip to the
   * background, at flush(), or after maxLoadWaitMs, whichever comes first.
   * @param {string} launchPath the page the app was launched on (launch options' path), '' if unknown
   */
  measureLaunch(launchPath) {
    this.launchPath = launchPath.replace(/^\/+/, '');
    this.launch = new LaunchTimer({
      wx: this.wx, now: this.now, createdAt: this.createdAt, timers: this.timers, graceMs: LAUNCH_ENTRY_GRACE_MS,
      onMeasured: (measure) => this.releaseLaunch(measure),
    });
    this.launchWait = this.timers.setTimeout(() => {
      this.launchWait = null;
      this.releaseLaunch(null);
    }, this.o.maxLoadWaitMs);
    this.launch.start(); // may find the measure at once (and release)
  }

  /** Ends the hold on the launch's session_start, with loadMs when measured. @param {{ loadMs: number, source: string } | null} measure */
  releaseLaunch(measure) {
    const launch = this.launch;
    if (!launch) return;
    this.launch = null;
    launch.stop();
    if (this.launchWait !== null) this.timers.clearTimeout(this.launchWait);
    this.launchWait = null;
    // loadMsSource says which measure it is (they cover different spans): 'appLaunch' or 'onReady'.
    this.outbox.release(measure ? { loadMs: measure.loadMs, loadMsSource: measure.source } : null);
  }

  /**
   * A wrapped page's onReady. Only the launch page's counts: if that page is not wrapped, a later
   * page's onReady (after the user navigated) would make a launch time out of browsing time.
   */
  pageReady(page) {
    if (!this.launch) return;
    const route = String((page && (page.route || page.__route__)) || '').replace(/^\/+/, '');
    if (this.launchPath && route && route !== this.launchPath) return;
    this.launch.pageReady();
  }

  /**
   * Tracks an error the SDK caught by itself, at most maxErrorsPerSession per session: an error in
   * a loop (a render or a timer) must not fill the outbox and push out the session's other events;
   * one error is enough for the error rate. Never throws: an exception here would reach wx.onError,
   * which would call this again.
   * @param {() => Record<string, any>} props
   */
  capturedError(props) {
    try {
      const session = this.sessions.current;
      if (!session) return;
      if (this.errorsCaptured.sessionId !== session.id) this.errorsCaptured = { sessionId: session.id, count: 0 };
      const count = ++this.errorsCaptured.count;
      if (count > this.o.maxErrorsPerSession) {
        if (count === this.o.maxErrorsPerSession + 1)
          this.logger.warn(`[metrics] ${this.o.maxErrorsPerSession} errors captured in this session: no more are tracked until the next session`);
        return;
      }
      this.track('error', props());
    } catch (e) {
      // nothing: see above
    }
  }

  emitSessionEnd(ended) {
    this.track('session_end', { durationMs: ended.durationMs }, { sessionId: ended.id, timestamp: ended.endedAt });
  }

  pageShown(page) {
    if (!page) return;
    page.__metricsView = { shownAt: this.now(), sessionId: this.sessions.current ? this.sessions.current.id : undefined };
  }

  pageLeft(page) {
    const view = page && page.__metricsView;
    if (!view) return;
    page.__metricsView = null;
    const props = { page: pagePath(page), durationMs: Math.max(0, this.now() - view.shownAt) };
    this.track('page_view', props, { sessionId: view.sessionId, timestamp: view.shownAt });
    this.sessions.touch();
  }

  shared(target, page) {
    this.track('share', { target, page: pagePath(page) });
  }

  // ---- helpers

  refuse(why) {
    this.refused++;
    this.logger.warn(`[metrics] event dropped: ${why}`);
    return null;
  }

  anonymousId() {
    const key = this.o.storagePrefix + 'anonymousId';
    let id = safe(() => this.wx.getStorageSync(key), '');
    if (typeof id !== 'string' || id.length === 0) {
      id = newAnonymousId(this.random);
      safe(() => this.wx.setStorageSync(key, id), undefined);
    }
    return id;
  }

  detectPlatform() {
    const info = safe(() => (typeof this.wx.getDeviceInfo === 'function' ? this.wx.getDeviceInfo() : this.wx.getSystemInfoSync()), {});
    return wire.platformName(info && info.platform);
  }
}

/**
 * The switches of options.autoCapture: all on by default; `false` turns them all off; an object
 * turns off those set to false. Unknown names are refused, so that a typo does not leave a capture on.
 * @param {any} option
 */
function autoCapture(option) {
  if (option === undefined || option === true) return { ...AUTO_CAPTURE };
  if (option === false) return /** @type {typeof AUTO_CAPTURE} */ (Object.fromEntries(Object.keys(AUTO_CAPTURE).map((k) => [k, false])));
  if (!option || typeof option !== 'object') throw new Error('metrics: options.autoCapture is true, false, or an object of switches');
  const capture = { ...AUTO_CAPTURE };
  for (const [name, value] of Object.entries(option)) {
    if (!(name in AUTO_CAPTURE)) throw new Error(`metrics: options.autoCapture.${name} is unknown; the switches are ${Object.keys(AUTO_CAPTURE).join(', ')}`);
    if (typeof value !== 'boolean') throw new Error(`metrics: options.autoCapture.${name} must be true or false`);
    capture[/** @type {keyof typeof AUTO_CAPTURE} */ (name)] = value;
  }
  return capture;
}

/** The page's path with a leading '/', as analysts read it (pages/index/index becomes /pages/index/index). */
function pagePath(page) {
  const route = (page && (page.route || page.__route__)) || 'unknown';
  return (route.startsWith('/') ? route : '/' + route).slice(0, 256);
}

function call(fn, self, args) {
  return typeof fn === 'function' ? fn.apply(self, args) : undefined;
}

function safe(fn, fallback) {
  try {
    return fn();
  } catch (e) {
    return fallback;
  }
}

/** @param {import('../index').TrackerOptions} options */
function createTracker(options) {
  return new Tracker(options);
}

module.exports = { createTracker, Tracker };
