// Rows of the query API grouped the ways pages draw them.
import { days } from './api.js';

/** Map of metric → dimensionValue → date → row. */
export function index(rows) {
  const out = new Map();
  for (const r of rows) {
    if (!out.has(r.metric)) out.set(r.metric, new Map());
    const byValue = out.get(r.metric);
    if (!byValue.has(r.dimensionValue)) byValue.set(r.dimensionValue, new Map());
    byValue.get(r.dimensionValue).set(r.date, r);
  }
  return out;
}

/** One metric's value on each day of [from, to] (undefined where there is no row). */
export function daily(idx, metric, value, from, to) {
  const byDate = idx.get(metric)?.get(value);
  return days(from, to).map((d) => byDate?.get(d));
}

/** The currency of a money row: the dimension value of `currency`, the part after '/' of `miniProgram.currency`. */
export function currencyOf(row) {
  if (row.dimension === 'currency') return row.dimensionValue;
  if (row.dimension === 'miniProgram.currency') return row.dimensionValue.slice(row.dimensionValue.lastIndexOf('/') + 1);
  return undefined;
}

/**
 * One mini-program's rows of a `miniProgram.<x>` dimension (`<id>/<value>`): Map of value → date → row, the
 * `<id>/` prefix stripped. Keyed by dimension as well as metric, because the values of two dimensions of
 * one metric can be the same text (`other` is a channel and a platform of users.sessions).
 */
export function ownValues(rows, metric, dimension, id) {
  const prefix = id + '/';
  const out = new Map();
  for (const r of rows) {
    if (r.metric !== metric || r.dimension !== dimension || !r.dimensionValue.startsWith(prefix)) continue;
    const value = r.dimensionValue.slice(prefix.length);
    if (!out.has(value)) out.set(value, new Map());
    out.get(value).set(r.date, r);
  }
  return out;
}

/** The sum of a count's rows over [from, to] (undefined when no day has a row). */
export function sumOver(byDate, from, to) {
  let sum;
  for (const [date, row] of byDate ?? []) if (date >= from && date <= to) sum = (sum ?? 0) + row.value;
  return sum;
}
