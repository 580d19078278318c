// The date-range picker: the last 7, 30 or 90 rolled-up days, or a custom range. The range lives in the
// page's address (#/…?range=30 or ?from=…&to=…), so a view can be bookmarked and shared without the key.
import { h } from './dom.js';
import { addDays } from './api.js';

export const PRESETS = [7, 30, 90];
export const DEFAULT_PRESET = 30;

/** The range a route asks for, ending on the latest rolled-up day unless it names its own. */
export function resolveRange(query, latest) {
  const from = query.get('from'), to = query.get('to');
  const valid = (d) => /^\d{4}-\d{2}-\d{2}$/.test(d || '');
  if (valid(from) && valid(to) && from <= to) return { preset: 'custom', from, to };
  const preset = PRESETS.includes(Number(query.get('range'))) ? Number(query.get('range')) : DEFAULT_PRESET;
  return { preset, from: addDays(latest, -(preset - 1)), to: latest };
}

/** The picker; onChange gets the new query parameters ({range} or {from, to}). */
export function rangePicker(range, latest, onChange) {
  const fromInput = h('input', { type: 'date', id: 'range-from', value: range.from, max: latest, 'aria-label': 'From (reporting day)' });
  const toInput = h('input', { type: 'date', id: 'range-to', value: range.to, max: latest, 'aria-label': 'To (reporting day)' });
  const custom = h('form', { class: 'custom-range', hidden: range.preset !== 'custom', onsubmit: (e) => {
    e.preventDefault();
    if (!fromInput.value || !toInput.value || fromInput.value > toInput.value) {
      toInput.setCustomValidity('The range must end on or after its first day.');
      toInput.reportValidity();
      return;
    }
    toInput.setCustomValidity('');
    onChange({ from: fromInput.value, to: toInput.value });
  } },
  h('label', { for: 'range-from' }, 'From'), fromInput,
  h('label', { for: 'range-to' }, 'to'), toInput,
  h('button', { type: 'submit' }, 'Apply'));

  const buttons = PRESETS.map((n) => h('button', {
    type: 'button', 'data-range': n, 'aria-pressed': String(range.preset === n),
    onclick: () => onChange({ range: String(n) }),
  }, `Last ${n} days`));
  const customButton = h('button', {
    type: 'button', 'data-range': 'custom', 'aria-pressed': String(range.preset === 'custom'), 'aria-expanded': String(range.preset === 'custom'),
    onclick: () => { custom.hidden = !custom.hidden; customButton.setAttribute('aria-expanded', String(!custom.hidden)); if (!custom.hidden) fromInput.focus(); },
  }, 'Custom…');
  return h('div', { class: 'range', role: 'group', 'aria-label': 'Date range' }, ...buttons, customButton, custom);
}
