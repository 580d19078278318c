'use strict';

const { Outbox } = require('./outbox');
const { SessionClock } = require('./session');
const { newEventId, newSessionId, newAnonymousId } = require('./ids');
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
};

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
    this.o = o;
    this.wx = o.wx || /** @type {any} */ (globalThis).wx;
    if (!this.wx) throw new Error('metrics: no wx object (pass options.wx outside a mini-program)');
    this.now = o.now || (() => Date.now());
    this.random = o.random || Math.random;
    this.logger = o.logger || console;
    const timers = o.timers || { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (t) => clearTimeout(t) };
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
  }

  /**
   * Starts tracking: ends the session a previous run left open, begins a session with the
   * launch's entry scene, follows the app to the background and back, and sends what a
   * previous run left unsent. Call once, in app.js (at the top or in App.onLaunch).
   */
  start() {
    if (this.started) return;
    this.started = true;
    const previous = this.sessions.takeStored();
    if (previous) this.emitSessionEnd(previous);
    this.beginSession(safe(() => this.wx.getLaunchOptionsSync(), {}));
    if (typeof this.wx.onAppShow === 'function') this.wx.onAppShow((options) => this.onAppShow(options || {}));
    if (typeof this.wx.onAppHide === 'function') this.wx.onAppHide(() => this.onAppHide());
    this.outbox.schedule();
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
    this.outbox.add(event);
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

  /** Sends what is waiting now (unless the pipeline asked to wait); resolves when done or a send failed. */
  flush() {
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
    this.sessions.hide();
    this.outbox.flush();
  }

  beginSession(options) {
    const session = this.sessions.begin();
    /** @type {Record<string, any>} */
    const props = { scene: typeof options.scene === 'number' ? options.scene : Number(options.scene) || 0 };
    const referrer = options.referrerInfo && options.referrerInfo.appId;
    if (typeof referrer === 'string' && wire.MINI_PROGRAM_ID.test(referrer)) props.referrerMiniProgramId = referrer;
    this.track('session_start', props, { sessionId: session.id, timestamp: session.startedAt });
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
