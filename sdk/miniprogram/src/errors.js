'use strict';

const wire = require('./wire');

/**
 * The props of the `error` events the SDK captures by itself. Every string is cut to the
 * contract's 1024 characters here: the pipeline would cut `message` anyway, but it would reject
 * the whole event for a longer unknown prop (`url`), and shorter events are cheaper to keep.
 */

/**
 * Text of whatever the runtime hands an error listener: wx.onError gives a string (message and
 * stack) in most base libraries, an Error in some; an unhandled rejection's reason can be anything
 * (an Error, a string, a wx API's { errMsg } failure object, a plain value).
 * @param {any} value @returns {string}
 */
function describe(value) {
  if (typeof value === 'string') return value;
  if (value instanceof Error || (value && typeof value.message === 'string')) {
    // The stack usually starts with "Name: message"; when it does not (some engines), put the message first.
    const head = `${value.name || 'Error'}: ${value.message}`;
    const stack = typeof value.stack === 'string' ? value.stack : '';
    return stack ? (stack.includes(value.message) ? stack : `${head}\n${stack}`) : head;
  }
  if (value && typeof value.errMsg === 'string') return value.errMsg;
  if (value === undefined) return 'undefined';
  try {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json;
  } catch (e) {
    return String(value); // a cycle, a BigInt
  }
}

/** @param {'onError' | 'onUnhandledRejection'} origin @param {any} value */
function jsErrorProps(origin, value) {
  let message = describe(value);
  if (message.length === 0) message = '(empty error message)';
  return { kind: 'js_error', message: wire.truncate(message, wire.MAX_PROP_STRING), origin };
}

/**
 * The address of a request as it is reported: scheme, host and path only. The query and the
 * fragment are dropped (they often carry tokens, ids or personal data), and so are credentials.
 * @param {any} url
 */
function reportedUrl(url) {
  const text = String(url === undefined || url === null ? '' : url);
  const withoutQuery = text.split(/[?#]/, 1)[0];
  return wire.truncate(withoutQuery.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@]*@/, '$1'), wire.MAX_PROP_STRING);
}

/**
 * Props of a failed request made through tracker.request.
 * @param {{ url?: any, method?: any }} options the app's request options
 * @param {{ statusCode?: number, errMsg?: string }} outcome an HTTP status >= 400, or the fail callback's errMsg
 */
function networkErrorProps(options, outcome) {
  const method = typeof options.method === 'string' && options.method ? options.method.toUpperCase().slice(0, 16) : 'GET';
  const url = reportedUrl(options.url);
  /** @type {Record<string, any>} */
  const props = { kind: 'network' };
  if (typeof outcome.statusCode === 'number') {
    props.message = wire.truncate(`HTTP ${outcome.statusCode} ${method} ${url}`, wire.MAX_PROP_STRING);
    props.statusCode = outcome.statusCode;
  } else {
    props.message = wire.truncate(`${outcome.errMsg || 'request:fail'} ${method} ${url}`, wire.MAX_PROP_STRING);
  }
  props.origin = 'request';
  props.method = method;
  if (url) props.url = url;
  return props;
}

/** The fail callback of an aborted request (requestTask.abort()): the app's choice, not a network error. */
function isAbort(err) {
  return !!(err && typeof err.errMsg === 'string' && /abort/i.test(err.errMsg));
}

module.exports = { describe, jsErrorProps, networkErrorProps, reportedUrl, isAbort };
