'use strict';

/**
 * Identifiers. eventId must be 1-64 of `A-Z a-z 0-9 _ . : -` (the contract); the ids made here
 * are a base-36 time, a counter of this run and 64 random bits, so they sort roughly by creation
 * and two events of one run never share one even in the same millisecond. Math.random is
 * enough: the ids are de-duplication keys, not secrets.
 */

let counter = 0;

/** @param {() => number} random @param {number} hexDigits */
function randomHex(random, hexDigits) {
  let out = '';
  for (let i = 0; i < hexDigits; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

/** @param {number} nowMs @param {() => number} random */
function newEventId(nowMs, random) {
  counter = (counter + 1) % 1679616; // 36^4
  return nowMs.toString(36) + '-' + counter.toString(36) + '-' + randomHex(random, 16);
}

/** @param {number} nowMs @param {() => number} random */
function newSessionId(nowMs, random) {
  return 's-' + nowMs.toString(36) + '-' + randomHex(random, 12);
}

/** @param {() => number} random */
function newAnonymousId(random) {
  return 'anon-' + randomHex(random, 32);
}

module.exports = { newEventId, newSessionId, newAnonymousId };
