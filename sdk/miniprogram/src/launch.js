'use strict';

const wire = require('./wire');

/**
 * What a session_start says about how the session began, from the launch options
 * (wx.getLaunchOptionsSync at launch, the wx.onAppShow options afterwards).
 */

/** Campaign parameters of the launch query passed through: `utm_` and 1-32 of a-z 0-9 _ (lower case, as the convention writes them). */
const UTM_KEY = /^utm_[a-z0-9_]{1,32}$/;
/** Most utm_ parameters passed through: the standard five (source, medium, campaign, term, content), utm_id and two more. */
const MAX_UTM_PROPS = 8;
/**
 * Most bytes of JSON the utm_ parameters may add to a session_start. The rest of a session_start
 * (ids, timestamp, scene, referrer, chatType, loadMs) is well under 8 KiB even with the longest
 * userId, so the event stays under the contract's 32 KiB and is never refused for its size, which
 * would lose the session's entry channel.
 */
const MAX_UTM_BYTES = 24 * 1024;

/**
 * The props of a session_start.
 * @param {any} options launch or show options
 * @param {{ referrer: boolean, launchQuery: boolean, chatType: boolean }} capture
 * @returns {Record<string, any>}
 */
function sessionStartProps(options, capture) {
  const o = options || {};
  /** @type {Record<string, any>} */
  const props = { scene: typeof o.scene === 'number' ? o.scene : Number(o.scene) || 0 };
  if (capture.referrer) {
    const referrer = o.referrerInfo && o.referrerInfo.appId;
    // Only what looks like an appId: anything else would be a wrong join key for the analysts.
    if (typeof referrer === 'string' && wire.MINI_PROGRAM_ID.test(referrer)) props.referrerMiniProgramId = referrer;
  }
  if (capture.launchQuery) Object.assign(props, utmProps(o.query));
  // chatType: 1 WeChat contact, 2 WeCom contact, 3 WeChat group, 4 WeCom group (present when opened from a chat).
  if (capture.chatType && Number.isInteger(o.chatType)) props.chatType = o.chatType;
  return props;
}

/**
 * The utm_ parameters of a launch query, within the contract's limits. Only these: the rest of the
 * query is the app's own (ids, tokens, sometimes personal data) and is not the SDK's to send.
 * Values are kept as the runtime gives them (not URL-decoded), cut to 1024 characters; a
 * parameter without a usable value (empty, an object) is left out, and so are those past
 * MAX_UTM_PROPS or MAX_UTM_BYTES, in the order of the query.
 * @param {any} query
 */
function utmProps(query) {
  /** @type {Record<string, string>} */
  const props = {};
  if (!query || typeof query !== 'object') return props;
  let count = 0;
  let bytes = 0;
  for (const key of Object.keys(query)) {
    if (count === MAX_UTM_PROPS) break;
    if (!UTM_KEY.test(key)) continue;
    const raw = query[key];
    if (typeof raw !== 'string' && typeof raw !== 'number') continue;
    const value = wire.truncate(String(raw), wire.MAX_PROP_STRING);
    if (value.length === 0) continue;
    // As it will be written: "key":"value", (JSON escapes make some characters longer than UTF-8 alone).
    const size = wire.utf8Length(JSON.stringify(key) + JSON.stringify(value)) + 2;
    if (bytes + size > MAX_UTM_BYTES) continue;
    props[key] = value;
    bytes += size;
    count++;
  }
  return props;
}

/**
 * Measures the cold-start time of this launch, once, and hands it to `onMeasured`:
 *
 * 1. From the runtime (wx.getPerformance, base library 2.11.0+): the `navigation` entry named
 *    `appLaunch`, whose `duration` runs from the user's tap to the first page's first render. It
 *    is looked for in the performance buffer at start() (in case start() ran late) and observed
 *    with createObserver; `loadMsSource` is 'appLaunch'.
 * 2. Where the runtime does not give it: from the tracker's creation (top of app.js, just before
 *    App.onLaunch) to the launch page's onReady (its first render is done; the tracker passes on
 *    the launch page's only); `loadMsSource` is 'onReady'. It misses what happens before app.js
 *    runs (package download, runtime start), so it reads lower than 1. When the performance API
 *    exists, the launch page's onReady waits `graceMs` for the appLaunch entry (it is reported
 *    around the same moment) before falling back.
 *
 * Every call into the runtime is guarded: a missing or throwing API, or an entry without a finite
 * duration >= 0, means "not measured this way", never an exception in the app.
 */
class LaunchTimer {
  /**
   * @param {object} o
   * @param {any} o.wx
   * @param {() => number} o.now
   * @param {number} o.createdAt when the tracker was created (Unix ms)
   * @param {{ setTimeout: Function, clearTimeout: Function }} o.timers
   * @param {number} o.graceMs
   * @param {(measure: { loadMs: number, source: 'appLaunch' | 'onReady' }) => void} o.onMeasured
   */
  constructor(o) {
    this.o = o;
    this.done = false;
    this.perf = null;
    this.observer = null;
    this.graceTimer = null;
  }

  start() {
    const wx = this.o.wx;
    this.perf = guard(() => (typeof wx.getPerformance === 'function' ? wx.getPerformance() : null), null);
    if (!this.perf) return;
    if (this.fromBuffer()) return;
    const observer = guard(() => (typeof this.perf.createObserver === 'function'
      ? this.perf.createObserver((list) => this.fromEntries(guard(() => list.getEntries(), [])))
      : null), null);
    if (!observer || typeof observer.observe !== 'function') return;
    this.observer = observer;
    if (guard(() => { observer.observe({ entryTypes: ['navigation'] }); return true; }, false) !== true) this.observer = null;
  }

  /** The launch page is ready: the fallback measure, unless the runtime's entry comes soon. */
  pageReady() {
    if (this.done) return;
    const readyMs = Math.max(0, Math.round(this.o.now() - this.o.createdAt));
    if (this.fromBuffer()) return;
    if (!this.observer) {
      this.finish({ loadMs: readyMs, source: 'onReady' });
      return;
    }
    if (this.graceTimer !== null) return;
    this.graceTimer = this.o.timers.setTimeout(() => {
      this.graceTimer = null;
      if (!this.done && !this.fromBuffer()) this.finish({ loadMs: readyMs, source: 'onReady' });
    }, this.o.graceMs);
  }

  /** No more measuring (measured, or the session_start has gone without it). */
  stop() {
    this.done = true;
    if (this.graceTimer !== null) this.o.timers.clearTimeout(this.graceTimer);
    this.graceTimer = null;
    const observer = this.observer;
    this.observer = null;
    if (observer && typeof observer.disconnect === 'function') guard(() => observer.disconnect(), undefined);
  }

  fromBuffer() {
    const perf = this.perf;
    if (!perf) return false;
    const entries = guard(() => (typeof perf.getEntriesByName === 'function'
      ? perf.getEntriesByName('appLaunch', 'navigation')
      : typeof perf.getEntries === 'function' ? perf.getEntries() : []), []);
    return this.fromEntries(entries);
  }

  /** @returns {boolean} whether an appLaunch entry was found (and the measure handed over) */
  fromEntries(entries) {
    if (this.done || !Array.isArray(entries)) return false;
    const entry = entries.find((e) => e && e.entryType === 'navigation' && e.name === 'appLaunch');
    const duration = entry && entry.duration;
    if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0) return false;
    this.finish({ loadMs: Math.round(duration), source: 'appLaunch' });
    return true;
  }

  finish(measure) {
    if (this.done) return;
    this.stop();
    this.o.onMeasured(measure);
  }
}

function guard(fn, fallback) {
  try {
    return fn();
  } catch (e) {
    return fallback;
  }
}

module.exports = { sessionStartProps, utmProps, LaunchTimer, MAX_UTM_PROPS, MAX_UTM_BYTES };
