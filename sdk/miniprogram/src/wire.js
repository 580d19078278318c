'use strict';

/** The contract's names and limits (ingest contract version 1). */

const BUILT_IN_TYPES = [
  'session_start', 'session_end', 'page_view', 'share', 'order_paid', 'order_refunded',
  'ad_impression', 'ad_click', 'error', 'complaint', 'permission_denied', 'mini_program_published',
];

/** Types whose events must carry a sessionId. */
const SESSION_TYPES = ['session_start', 'session_end', 'page_view', 'share', 'error', 'ad_impression', 'ad_click'];

const MAX_BATCH_EVENTS = 1000;
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_EVENT_BYTES = 32 * 1024;
/** Events older than this are rejected by the pipeline (timestamp_out_of_range): not worth sending. */
const MAX_EVENT_AGE_MS = 30 * 24 * 3600 * 1000;
/**
 * Longest string value in `props`, in UTF-16 code units (JavaScript's `length`, as the pipeline
 * counts). A longer unknown prop gets the whole event rejected; only `error.message` is cut by the
 * pipeline instead, so the SDK cuts every string it adds on its own to this length.
 */
const MAX_PROP_STRING = 1024;

const CUSTOM_TYPE = /^custom\.[a-z0-9_]{1,64}$/;
const MINI_PROGRAM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** @param {string} type */
function isKnownType(type) {
  return BUILT_IN_TYPES.includes(type) || CUSTOM_TYPE.test(type);
}

/** @param {string} type */
function needsSession(type) {
  return SESSION_TYPES.includes(type);
}

/**
 * Platform of the device, as the contract spells it, from the runtime's platform string.
 * @param {string | undefined} platform
 */
function platformName(platform) {
  switch ((platform || '').toLowerCase()) {
    case 'ios': return 'ios';
    case 'android': return 'android';
    case 'ohos': case 'harmony': case 'harmonyos': return 'harmony';
    case 'windows': return 'windows';
    case 'mac': return 'mac';
    case 'devtools': return 'devtools';
    default: return 'other';
  }
}

/** UTF-8 length of a string, without TextEncoder (not in every mini-program runtime). @param {string} s */
function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i++; } // a surrogate pair: one 4-byte character
    else n += 3;
  }
  return n;
}

/**
 * The first `max` UTF-16 code units of a string, never ending in half of a surrogate pair (the
 * pipeline cuts error messages the same way). @param {string} s @param {number} max
 */
function truncate(s, max) {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/**
 * Milliseconds a Retry-After header asks for (seconds or an HTTP date), or null.
 * @param {Record<string, string> | undefined} headers @param {number} nowMs
 */
function retryAfterMs(headers, nowMs) {
  if (!headers) return null;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'retry-after');
  if (!key) return null;
  const value = String(headers[key]).trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

module.exports = {
  BUILT_IN_TYPES, MAX_BATCH_EVENTS, MAX_BODY_BYTES, MAX_EVENT_BYTES, MAX_EVENT_AGE_MS, MAX_PROP_STRING,
  MINI_PROGRAM_ID, isKnownType, needsSession, platformName, utf8Length, truncate, retryAfterMs,
};
