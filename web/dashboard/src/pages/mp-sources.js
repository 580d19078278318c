// The mini-program page's distributions, from its own rows of the catalog's per-mini-program dimensions
// (miniProgram.channel, .source, .platform, .durationBucket, .depthBucket, .referrer, .event; values
// `<id>/<value>`): where its sessions come from, how long and how deep they are, which mini-programs send it
// users, and its custom events. Counts are added up over the range's days; distinct users are not (a user
// active on two days is one user), so those are shown for the last day only.
import { h, state } from '../dom.js';
import { days } from '../api.js';
import { chart, panel, bars, timeSeries } from '../charts.js';
import { formatValue } from '../format.js';
import { ownValues, sumOver } from '../series.js';
import { sourceLabel, platformLabel, channelLabel, DURATION_BUCKETS, DEPTH_BUCKETS, CUSTOM_EVENT_CAP, OTHER_EVENT } from '../labels.js';

const MAX_BARS = 12;
const TOP_REFERRERS = 10;

const count = (v) => formatValue(v, 'sessions');
const share = (part, whole) => (whole ? formatValue(part / whole, 'ratio') : '–');
const axisCount = (v) => formatValue(v, 'sessions', { compact: true });
const spanText = (range) => (range.from === range.to ? `on ${range.to}` : `${range.from} to ${range.to}`);

/** Sessions by entry channel, access source and platform; referrers. */
export function sourcesSection(id, range, rows, session) {
  const dist = (key, title, dimension, label) => distribution({ key, title, id, range, label, values: ownValues(rows, 'users.sessions', dimension, id) });
  return h('section', { class: 'grid align-start', 'aria-labelledby': 'mp-sources', id: 'sources' },
    h('h2', { id: 'mp-sources' }, 'Where visits come from ', h('span', { class: 'what' }, `sessions ${spanText(range)}`)),
    h('p', { class: 'help span-all' }, `Sessions of ${id} added up over the days of the range, each placed by its earliest session_start (users.sessions by miniProgram.channel, miniProgram.source, miniProgram.platform).`),
    dist('channel', 'Sessions by entry channel', 'miniProgram.channel', channelLabel),
    dist('source', 'Sessions by access source (WeChat)', 'miniProgram.source', sourceLabel),
    dist('platform', 'Sessions by platform', 'miniProgram.platform', platformLabel),
    referrers(id, range, rows, session));
}

/** Stay-time and visit-depth distributions of the mini-program's own sessions. */
export function staySection(id, range, rows) {
  return h('section', { class: 'grid', 'aria-labelledby': 'mp-stay', id: 'stay' },
    h('h2', { id: 'mp-stay' }, 'How long and how deep visits are ', h('span', { class: 'what' }, `sessions ${spanText(range)}`)),
    distribution({ key: 'duration', title: 'Stay-time distribution', id, range, order: DURATION_BUCKETS, values: ownValues(rows, 'users.sessions_by_duration', 'miniProgram.durationBucket', id), what: 'sessions with a session_end' }),
    distribution({ key: 'depth', title: 'Visit-depth distribution (page views per session)', id, range, order: DEPTH_BUCKETS, values: ownValues(rows, 'users.sessions_by_depth', 'miniProgram.depthBucket', id), what: 'sessions with a page view' }));
}

/**
 * One distribution over the range: a bar chart (the 12 largest values, or the buckets in order) and a table
 * of every value with its share. Cells carry data-key and data-value for the tests.
 */
function distribution({ key, title, id, range, values, order, label = (v) => v, what = 'sessions' }) {
  let list = [...values].map(([value, byDate]) => ({ value, sum: sumOver(byDate, range.from, range.to) ?? 0 })).filter((e) => e.sum > 0);
  if (order) list = order.map((v) => list.find((e) => e.value === v)).filter(Boolean).concat(list.filter((e) => !order.includes(e.value)));
  else list.sort((a, b) => b.sum - a.sum || a.value.localeCompare(b.value));
  const figure = (...content) => { const f = panel(title, ...content); f.id = `dist-${key}`; return f; };
  if (list.length === 0) return figure(state.empty(`No ${what} of ${id} ${spanText(range)}.`));
  const total = list.reduce((s, e) => s + e.sum, 0);
  const shown = order ? list : list.slice(0, MAX_BARS);
  const horizontal = !order;
  const el = chart(`${title} of ${id}, ${spanText(range)}: ${shown.map((e) => `${label(e.value)} ${count(e.sum)}`).join(', ')}${shown.length < list.length ? `, and ${list.length - shown.length} more in the table` : ''}`,
    bars({ labels: shown.map((e) => label(e.value)), values: shown.map((e) => e.sum), name: 'sessions', horizontal, format: axisCount, valueText: count }));
  if (horizontal) el.style.height = `${Math.max(160, 40 + shown.length * 24)}px`;
  return figure(el,
    h('details', { class: 'data' },
      h('summary', {}, `Table: ${list.length} value${list.length === 1 ? '' : 's'}, ${count(total)} ${what}`),
      h('div', { class: 'table-wrap' }, h('table', { class: 'rows compact', id: `dist-${key}-table` },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, key), h('th', { scope: 'col', class: 'num' }, 'sessions'), h('th', { scope: 'col', class: 'num' }, 'share'))),
        h('tbody', {}, ...list.map((e) => h('tr', {},
          h('td', {}, label(e.value)),
          h('td', { class: 'num', 'data-key': e.value, 'data-value': e.sum }, count(e.sum)),
          h('td', { class: 'num' }, share(e.sum, total)))))))));
}

/** The mini-programs that sent this one its sessions (users.referred_sessions by miniProgram.referrer). */
function referrers(id, range, rows, session) {
  const values = ownValues(rows, 'users.referred_sessions', 'miniProgram.referrer', id);
  const list = [...values].map(([referrer, byDate]) => ({ referrer, sum: sumOver(byDate, range.from, range.to) ?? 0 }))
    .filter((e) => e.sum > 0).sort((a, b) => b.sum - a.sum || a.referrer.localeCompare(b.referrer));
  const fig = (...content) => { const f = panel('Referral sources: sessions sent by other mini-programs', ...content); f.id = 'referrers'; return f; };
  if (list.length === 0) return fig(state.empty(`No session of ${id} was referred by another mini-program ${spanText(range)}.`));
  const referred = list.reduce((s, e) => s + e.sum, 0);
  const sessions = sumOver(rows.filter((r) => r.metric === 'users.sessions' && r.dimension === 'miniProgram' && r.dimensionValue === id).reduce((m, r) => m.set(r.date, r), new Map()), range.from, range.to);
  const top = list.slice(0, TOP_REFERRERS);
  const rest = list.slice(TOP_REFERRERS);
  const el = chart(`Top referrers of ${id}, ${spanText(range)}: ${top.map((e) => `${e.referrer} ${count(e.sum)}`).join(', ')}`,
    bars({ labels: top.map((e) => e.referrer), values: top.map((e) => e.sum), name: 'referred sessions', horizontal: true, format: axisCount, valueText: count }));
  el.style.height = `${Math.max(140, 40 + top.length * 24)}px`;
  const name = (referrer) => (session.kind === 'platform' ? h('a', { href: `#/mini-program/${encodeURIComponent(referrer)}` }, referrer) : h('code', {}, referrer));
  return fig(
    h('p', { class: 'help', id: 'referred-summary' }, `${count(referred)} sessions from ${list.length} mini-program${list.length === 1 ? '' : 's'}`,
      sessions ? `: ${share(referred, sessions)} of the ${count(sessions)} sessions of ${id}.` : '.'),
    el,
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Referral sources' },
      h('table', { class: 'rows compact', id: 'referrers-table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'referring mini-program'), h('th', { scope: 'col', class: 'num' }, 'sessions'), h('th', { scope: 'col', class: 'num' }, 'share'))),
        h('tbody', {}, ...top.map((e) => h('tr', {},
          h('td', {}, name(e.referrer)),
          h('td', { class: 'num', 'data-key': e.referrer, 'data-value': e.sum }, count(e.sum)),
          h('td', { class: 'num' }, share(e.sum, referred)))),
        rest.length ? h('tr', {}, h('td', {}, `${rest.length} more`), h('td', { class: 'num' }, count(rest.reduce((s, e) => s + e.sum, 0))), h('td', { class: 'num' }, share(rest.reduce((s, e) => s + e.sum, 0), referred))) : null))));
}

/**
 * The mini-program's custom events (custom.<name>): per name, the events over the range and the events and
 * distinct users on the last day; (other) gathers the names past the day's cap and is explained beside it.
 */
export function customEventsSection(id, range, rows) {
  const events = ownValues(rows, 'custom.events', 'miniProgram.event', id);
  const users = ownValues(rows, 'custom.users', 'miniProgram.event', id);
  const day = range.to;
  const list = [...new Set([...events.keys(), ...users.keys()])].map((name) => ({
    name,
    total: sumOver(events.get(name), range.from, range.to) ?? 0,
    events: events.get(name)?.get(day)?.value,
    users: users.get(name)?.get(day)?.value,
  })).filter((e) => e.total > 0 || e.users)
    .sort((a, b) => (a.name === OTHER_EVENT) - (b.name === OTHER_EVENT) || b.total - a.total || a.name.localeCompare(b.name));
  const noteText = `${OTHER_EVENT} counts together the names past the first ${CUSTOM_EVENT_CAP} of a day: each mini-program keeps at most ${CUSTOM_EVENT_CAP} event names a day under their own name (the first in byte order, not the busiest), and counts the events and users of every other name under ${OTHER_EVENT}. They still count in the totals; the Parquet event export keeps every name.`;
  const note = h('p', { class: 'note', id: 'custom-other-note' }, noteText);
  const section = h('section', { 'aria-labelledby': 'mp-custom', id: 'custom-events' },
    h('h2', { id: 'mp-custom' }, 'Custom events ', h('span', { class: 'what' }, spanText(range))),
    h('p', { class: 'help' }, `The developer's own events (custom.<name>) of ${id}: events over the range, and events and distinct users on ${day} (users are not added up over days: one user on two days is one user).`));
  if (list.length === 0) {
    section.append(state.empty(`No custom events of ${id} ${spanText(range)}.`), note);
    return section;
  }
  const sum = (key) => list.reduce((s, e) => s + (e[key] ?? 0), 0);
  const label = (name) => (name === OTHER_EVENT
    ? h('span', { class: 'other', title: noteText, 'aria-describedby': 'custom-other-note' }, h('code', {}, name), ' names past the cap')
    : h('code', {}, name));
  const chartNames = list.slice(0, MAX_BARS).map((e) => e.name);
  const trend = chart(`Custom events of ${id} per day by name, ${range.from} to ${range.to}`, timeSeries({
    series: chartNames.map((name) => ({ name, data: days(range.from, range.to).map((d) => [d, events.get(name)?.get(d)?.value ?? 0, events.get(name)?.get(d)]) })),
    yFormat: axisCount, stacked: true, bars: true,
  }));
  section.append(
    h('div', { class: 'grid align-start' },
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Custom events' },
        h('table', { class: 'rows', id: 'custom-events-table' },
          h('caption', {}, `${list.length} event name${list.length === 1 ? '' : 's'}; range ${range.from} to ${range.to}, day ${day}`),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, 'event'),
            h('th', { scope: 'col', class: 'num' }, 'events, range'),
            h('th', { scope: 'col', class: 'num' }, 'events, day'),
            h('th', { scope: 'col', class: 'num' }, 'users, day'))),
          h('tbody', {}, ...list.map((e) => h('tr', { 'data-event': e.name },
            h('td', {}, label(e.name)),
            h('td', { class: 'num', 'data-column': 'total', 'data-value': e.total }, count(e.total)),
            h('td', { class: 'num', 'data-column': 'events', 'data-value': e.events }, formatValue(e.events, 'events')),
            h('td', { class: 'num', 'data-column': 'users', 'data-value': e.users }, formatValue(e.users, 'users'))))),
          h('tfoot', {}, h('tr', {},
            h('th', { scope: 'row' }, 'all custom events'),
            h('td', { class: 'num' }, count(sum('total'))),
            h('td', { class: 'num' }, count(sum('events'))),
            h('td', { class: 'num', title: 'Distinct users are not added up across names: a user of two names is one user.' }, '–'))))),
      panel('Custom events per day', trend)),
    note);
  return section;
}
