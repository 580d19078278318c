'use strict';

const { MAX_EVENT_AGE_MS, utf8Length, retryAfterMs } = require('./wire');

/**
 * The events waiting to be sent, kept in wx storage so that they survive a restart, and the
 * loop that sends them to POST /api/v1/events in batches.
 *
 * - Bounded: at most `maxStoredEvents`; when full, the OLDEST event is dropped (and counted),
 *   since recent activity is worth more and the pipeline refuses events older than 30 days.
 * - A batch leaves when it has `maxBatchEvents` events, when its oldest event has waited
 *   `flushIntervalMs`, or on flush() (the tracker flushes when the app goes to the background).
 *   It holds at most `maxBatchBytes` of event JSON (far below the contract's 4 MiB).
 * - Transient failures (network, 408, 429, 5xx) keep the batch and retry it after an
 *   exponential back-off with jitter, or after what Retry-After asks (plus a little jitter),
 *   capped at `maxRetryDelayMs`. The events stay stored meanwhile, so retries go on after a
 *   restart, with the same eventIds: the pipeline counts each once.
 * - Answers that cannot get better are not retried: per-event rejections (in a 202 or a 400)
 *   are logged and counted as rejected; 401, 403, 415 and other 4xx drop the batch.
 * - One event can be held (add(event, true), then release()): it and everything after it wait,
 *   stored, until it is released, possibly with props added; what was queued before it goes on
 *   as usual. The tracker holds the launch's session_start while the cold-start time is
 *   measured, so that it can still carry loadMs and yet be the first event of its session on the
 *   wire. The hold lives in memory only: after a restart the stored events, the held one
 *   included, go out in order as they are.
 */
class Outbox {
  /**
   * @param {object} o
   * @param {any} o.wx
   * @param {() => number} o.now
   * @param {() => number} o.random
   * @param {{ setTimeout: Function, clearTimeout: Function }} o.timers
   * @param {string} o.url
   * @param {string} o.apiKey
   * @param {string} o.storageKey
   * @param {number} o.maxStoredEvents
   * @param {number} o.maxBatchEvents
   * @param {number} o.maxBatchBytes
   * @param {number} o.flushIntervalMs
   * @param {number} o.baseRetryDelayMs
   * @param {number} o.maxRetryDelayMs
   * @param {number} o.requestTimeoutMs
   * @param {{ warn: Function, error: Function }} o.logger
   */
  constructor(o) {
    this.o = o;
    /** @type {any[]} */
    this.events = this.load();
    this.counters = { sent: 0, retried: 0, dropped: 0, rejected: 0 };
    this.timer = null;
    this.timerIsBackoff = false;
    this.failures = 0;
    this.retryPending = false;
    this.splitLimit = 0;
    /** @type {Promise<void> | null} */
    this.draining = null;
    /** @type {string | null} eventId of the held event */
    this.heldId = null;
  }

  /**
   * Adds an event (an object of the wire shape) and schedules a send.
   * @param {any} event
   * @param {boolean} [hold] hold it: neither it nor any later event is sent until release(). Set
   * here, before anything is scheduled, because adding an event can start a send at once (a full
   * batch), which would take it along.
   */
  add(event, hold) {
    this.events.push(event);
    if (hold) this.heldId = event.eventId;
    while (this.events.length > this.o.maxStoredEvents) {
      const dropped = this.events.shift();
      this.counters.dropped++;
      if (this.counters.dropped === 1 || this.counters.dropped % 100 === 0)
        this.o.logger.warn(`[metrics] outbox full (${this.o.maxStoredEvents} events): dropped the oldest (${dropped.eventId}); ${this.counters.dropped} dropped so far`);
    }
    this.save();
    this.schedule();
  }

  /** Sends now, unless the pipeline asked to wait (back-off); resolves when the outbox is empty or a send failed. */
  flush() {
    if (this.timer !== null && this.timerIsBackoff) return Promise.resolve();
    this.clearTimer();
    // A send in progress may have started before the latest events came: send those after it.
    if (this.draining) return this.draining.then(() => this.flush());
    return this.drain();
  }

  stats() {
    return { ...this.counters, queued: this.events.length };
  }

  /**
   * Releases the held event, first adding `props` to its props (it was never sent, so its eventId
   * has not been seen by the pipeline yet and changing it is safe), and lets the waiting events go.
   * @param {Record<string, any> | null} [props]
   */
  release(props) {
    if (this.heldId === null) return;
    const held = this.events[this.heldIndex()];
    this.heldId = null;
    if (held && props) {
      held.props = { ...held.props, ...props };
      this.save();
    }
    this.schedule();
  }

  /** Index of the held event, or -1 (nothing held, or it was dropped because the outbox overflowed). */
  heldIndex() {
    return this.heldId === null ? -1 : this.events.findIndex((e) => e.eventId === this.heldId);
  }

  /** How many events, from the front, may be sent now: all of them, or those before the held one. */
  sendable() {
    const held = this.heldIndex();
    return held >= 0 ? held : this.events.length;
  }

  // ---- scheduling

  schedule() {
    const sendable = this.sendable();
    if (this.draining || sendable === 0) return;
    if (this.timer !== null && this.timerIsBackoff) return;
    if (sendable >= this.o.maxBatchEvents) {
      this.clearTimer();
      this.drain();
      return;
    }
    if (this.timer === null) this.setTimer(this.o.flushIntervalMs, false);
  }

  setTimer(ms, backoff) {
    this.clearTimer();
    this.timerIsBackoff = backoff;
    this.timer = this.o.timers.setTimeout(() => {
      this.timer = null;
      this.timerIsBackoff = false;
      this.drain();
    }, ms);
  }

  clearTimer() {
    if (this.timer !== null) this.o.timers.clearTimeout(this.timer);
    this.timer = null;
    this.timerIsBackoff = false;
  }

  drain() {
    if (this.draining) return this.draining;
    const run = (async () => {
      while (this.sendable() > 0) {
        const outcome = await this.sendOne();
        if (outcome === 'retry') return;
      }
    })().finally(() => {
      this.draining = null;
      this.schedule();
    });
    this.draining = run;
    return run;
  }

  // ---- one batch

  takeBatch() {
    const oldest = this.o.now() - MAX_EVENT_AGE_MS;
    const fresh = this.events.filter((e) => !(Date.parse(e.timestamp) < oldest));
    if (fresh.length !== this.events.length) {
      this.o.logger.warn(`[metrics] dropped ${this.events.length - fresh.length} events older than 30 days (the pipeline would refuse them)`);
      this.counters.dropped += this.events.length - fresh.length;
      this.events = fresh;
      this.save();
    }
    const limit = this.splitLimit || this.o.maxBatchEvents;
    const batch = [];
    let bytes = 0;
    for (const e of this.events.slice(0, this.sendable())) {
      const size = utf8Length(JSON.stringify(e)) + 1;
      if (batch.length >= limit || (batch.length > 0 && bytes + size > this.o.maxBatchBytes)) break;
      batch.push(e);
      bytes += size;
    }
    return batch;
  }

  /** @returns {Promise<'ok' | 'retry'>} */
  async sendOne() {
    const batch = this.takeBatch();
    if (batch.length === 0) return 'ok';
    if (this.retryPending) {
      this.counters.retried += batch.length;
      this.retryPending = false;
    }
    // sentAt is stamped at each attempt: the pipeline corrects clock skew with receivedAt - (sentAt - timestamp).
    const body = JSON.stringify({ sentAt: new Date(this.o.now()).toISOString(), events: batch });
    const answer = await this.request(body);
    const status = answer.statusCode;
    const data = parse(answer.data);

    if (status >= 200 && status < 300) {
      const rejected = Array.isArray(data && data.rejected) ? data.rejected : [];
      this.remove(batch);
      this.counters.sent += typeof (data && data.accepted) === 'number' ? data.accepted : batch.length - rejected.length;
      this.counters.rejected += rejected.length;
      this.logRejections(rejected);
      this.failures = 0;
      this.splitLimit = 0;
      return 'ok';
    }
    if (status === 400) {
      const rejected = Array.isArray(data && data.rejected) ? data.rejected : [];
      this.remove(batch);
      this.counters.rejected += rejected.length;
      this.counters.dropped += Math.max(0, batch.length - rejected.length);
      this.logRejections(rejected);
      if (rejected.length < batch.length) this.logRefusal(batch.length, status, data);
      this.failures = 0;
      return 'ok';
    }
    if (status === 413 && batch.length > 1) {
      this.splitLimit = Math.ceil(batch.length / 2);
      return 'ok';
    }
    if (status === 0 || status === 408 || status === 429 || status >= 500) {
      this.failures++;
      this.retryPending = true;
      const asked = retryAfterMs(answer.header, this.o.now());
      const delay = asked !== null ? this.retryAfterDelay(asked) : this.backoffDelay(this.failures);
      this.o.logger.warn(`[metrics] batch of ${batch.length} events not sent (${status === 0 ? answer.errMsg : status}); retry ${this.failures} in ${delay} ms`);
      this.setTimer(delay, true);
      return 'retry';
    }
    this.remove(batch);
    this.counters.dropped += batch.length;
    this.logRefusal(batch.length, status, data);
    this.splitLimit = 0;
    return 'ok';
  }

  /** Exponential back-off with "equal jitter": half the step fixed, half random. */
  backoffDelay(failures) {
    const step = Math.min(this.o.maxRetryDelayMs, this.o.baseRetryDelayMs * Math.pow(2, failures - 1));
    return Math.round(step / 2 + this.o.random() * (step / 2));
  }

  /** What Retry-After asks, plus up to 10 % (at most 1 s) so that clients told the same do not return together. */
  retryAfterDelay(askedMs) {
    const jitter = this.o.random() * Math.min(1000, askedMs * 0.1);
    return Math.round(Math.min(this.o.maxRetryDelayMs, askedMs + jitter));
  }

  /** @returns {Promise<{ statusCode: number, data?: any, header?: Record<string, string>, errMsg?: string }>} */
  request(body) {
    return new Promise((resolve) => {
      try {
        this.o.wx.request({
          url: this.o.url,
          method: 'POST',
          data: body,
          dataType: 'text',
          responseType: 'text',
          timeout: this.o.requestTimeoutMs,
          header: { 'Content-Type': 'application/json', 'X-Api-Key': this.o.apiKey },
          success: (res) => resolve({ statusCode: res.statusCode, data: res.data, header: res.header }),
          fail: (err) => resolve({ statusCode: 0, errMsg: (err && err.errMsg) || 'request failed' }),
        });
      } catch (e) {
        resolve({ statusCode: 0, errMsg: String(e) });
      }
    });
  }

  remove(batch) {
    const ids = new Set(batch.map((e) => e.eventId));
    this.events = this.events.filter((e) => !ids.has(e.eventId));
    this.save();
  }

  logRejections(rejected) {
    for (const r of rejected.slice(0, 10))
      this.o.logger.warn(`[metrics] event ${r.eventId} rejected (${r.code}): ${r.message}`);
  }

  logRefusal(count, status, data) {
    const error = (data && data.error) || {};
    this.o.logger.error(`[metrics] batch of ${count} events dropped: the pipeline answered ${status} ${error.code || ''}: ${error.message || ''}`);
  }

  // ---- storage

  load() {
    try {
      const stored = this.o.wx.getStorageSync(this.o.storageKey);
      return Array.isArray(stored) ? stored.filter((e) => e && typeof e.eventId === 'string') : [];
    } catch (e) {
      return [];
    }
  }

  save() {
    try {
      this.o.wx.setStorageSync(this.o.storageKey, this.events);
    } catch (e) {
      // Storage full (the runtime allows about 1 MB per key): the events stay in memory.
      this.o.logger.warn(`[metrics] could not store the outbox: ${e && e.errMsg ? e.errMsg : e}`);
    }
  }
}

function parse(data) {
  if (typeof data !== 'string') return data || null;
  try {
    return JSON.parse(data);
  } catch (e) {
    return null;
  }
}

module.exports = { Outbox };
