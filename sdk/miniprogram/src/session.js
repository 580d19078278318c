'use strict';

/**
 * The app's session, from the app lifecycle. A session starts at launch, or when the app comes
 * back after being hidden longer than `sessionTimeoutMs`; its duration is the time spent in the
 * foreground. Everything is computed from timestamps taken at the lifecycle callbacks, never
 * from running timers, because the runtime freezes timers in the background (iOS suspends the
 * whole JS thread) and a timer-based clock would be wrong by the time spent hidden.
 *
 * The state is stored (wx storage) at every change, so that a session whose process was killed
 * in the background is still ended, at the next launch, with the time it was hidden.
 */
class SessionClock {
  /**
   * @param {object} o
   * @param {any} o.wx
   * @param {() => number} o.now
   * @param {(nowMs: number) => string} o.newId
   * @param {string} o.storageKey
   * @param {number} o.timeoutMs
   */
  constructor(o) {
    this.o = o;
    /** @type {{ id: string, startedAt: number, foregroundMs: number, foregroundSince: number | null, hiddenAt: number | null, lastSeenAt: number } | null} */
    this.current = null;
  }

  /** The session left by a previous run of the app (killed, or closed in the background), if any. */
  takeStored() {
    let stored = null;
    try {
      stored = this.o.wx.getStorageSync(this.o.storageKey) || null;
    } catch (e) {
      stored = null;
    }
    if (!stored || typeof stored.id !== 'string') return null;
    this.current = stored;
    return this.end();
  }

  /** Starts a session now; returns it. */
  begin() {
    const now = this.o.now();
    this.current = { id: this.o.newId(now), startedAt: now, foregroundMs: 0, foregroundSince: now, hiddenAt: null, lastSeenAt: now };
    this.save();
    return this.current;
  }

  /**
   * Ends the current session; returns when it ended (when it was hidden, or when it was last
   * seen if its process died in the foreground) and its time in the foreground.
   * @returns {{ id: string, endedAt: number, durationMs: number } | null}
   */
  end() {
    const s = this.current;
    if (!s) return null;
    const endedAt = s.hiddenAt !== null ? s.hiddenAt : Math.max(s.lastSeenAt, s.foregroundSince || s.lastSeenAt);
    const openMs = s.foregroundSince !== null ? Math.max(0, endedAt - s.foregroundSince) : 0;
    this.current = null;
    this.clear();
    return { id: s.id, endedAt, durationMs: s.foregroundMs + openMs };
  }

  /** The app went to the background. */
  hide() {
    const s = this.current;
    if (!s || s.foregroundSince === null) return;
    const now = this.o.now();
    s.foregroundMs += Math.max(0, now - s.foregroundSince);
    s.foregroundSince = null;
    s.hiddenAt = now;
    s.lastSeenAt = now;
    this.save();
  }

  /**
   * The app came to the foreground.
   * @returns {'launch' | 'resumed' | 'expired'} 'launch' when it was not hidden (the show that
   * follows the launch), 'expired' when it was hidden longer than the timeout (the caller ends
   * the session and begins another).
   */
  show() {
    const s = this.current;
    if (!s || s.foregroundSince !== null) return 'launch';
    const now = this.o.now();
    if (s.hiddenAt !== null && now - s.hiddenAt > this.o.timeoutMs) return 'expired';
    s.foregroundSince = now;
    s.hiddenAt = null;
    s.lastSeenAt = now;
    this.save();
    return 'resumed';
  }

  /** Something happened in the foreground (a page was left): the last sign of life, if the process dies. */
  touch() {
    if (!this.current || this.current.foregroundSince === null) return;
    this.current.lastSeenAt = this.o.now();
    this.save();
  }

  save() {
    try {
      this.o.wx.setStorageSync(this.o.storageKey, this.current);
    } catch (e) {
      // Without storage, a session killed in the background is not ended: its duration is lost.
    }
  }

  clear() {
    try {
      this.o.wx.removeStorageSync(this.o.storageKey);
    } catch (e) {
      // nothing stored
    }
  }
}

module.exports = { SessionClock };
