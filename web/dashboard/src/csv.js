// The table under a chart, downloadable as CSV (RFC 4180, the export's column names), built in the browser
// from the rows on screen: a link to the API could not carry the key, which travels only in a header.
import { h } from './dom.js';

const COLUMNS = ['date', 'metric', 'dimension', 'dimension_value', 'value', 'numerator', 'denominator', 'unit', 'computed_at', 'restated'];

export function toCsv(rows) {
  const cell = (v) => {
    const s = v === undefined || v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [COLUMNS.join(',')];
  for (const r of rows) {
    lines.push([r.date, r.metric, r.dimension, r.dimensionValue, r.value, r.numerator, r.denominator, r.unit, r.computedAt, r.restated].map(cell).join(','));
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
