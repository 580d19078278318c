// The table under a chart, downloadable as CSV, built in the browser from the rows on screen (a link to the
// API could not carry the key, which travels only in a header). Its columns, order and number format are
// the query API's format=csv (the daily export's columns, then computed_at, run_id, restated), so a
// download of a table equals the API's CSV of the same query.
import { h } from './dom.js';

export const COLUMNS = ['date', 'stakeholder', 'tier', 'metric', 'dimension', 'dimension_value', 'value', 'numerator', 'denominator', 'unit', 'computed_at', 'run_id', 'restated'];

/**
 * A number as the API writes it (.NET's round-trip "R", invariant): the shortest form that reads back the
 * same, in scientific notation (1E-05, 1E+17) when the exponent is below -4 or 17 and above, as .NET does.
 */
export function csvNumber(value) {
  if (value === undefined || value === null) return '';
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const [mantissa, exp] = value.toExponential().split('e');
  const e = Number(exp);
  if (e < -4 || e >= 17) return `${mantissa}E${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(value);
}

export function toCsv(rows) {
  const cell = (v) => {
    const s = v === undefined || v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [COLUMNS.join(',')];
  for (const r of rows) {
    lines.push([r.date, r.stakeholder, r.tier, r.metric, r.dimension, r.dimensionValue, csvNumber(r.value), csvNumber(r.numerator), csvNumber(r.denominator),
      r.unit, r.computedAt, r.runId, r.restated ? 'true' : 'false'].map(cell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export function downloadButton(rows, fileName) {
  return h('button', { type: 'button', class: 'download', 'data-file': fileName, onclick: () => {
    const url = URL.createObjectURL(new Blob([toCsv(rows)], { type: 'text/csv;charset=utf-8' }));
    const a = h('a', { href: url, download: fileName });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } }, `Download CSV (${rows.length} rows)`);
}
