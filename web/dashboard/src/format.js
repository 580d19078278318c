// Numbers as people read them, by the catalog's unit: ratios as %, money from integer minor units to the
// currency's major unit, durations in s or ms. Pure functions (no DOM), shared with the browser tests so a
// tile is checked against the API's value formatted the same way.

const LOCALE = undefined; // the reader's browser locale

const fractionDigits = new Map();
/** Minor-unit digits of an ISO-4217 currency (CNY 2, JPY 0, KWD 3), as Intl knows them. */
export function currencyDigits(currency) {
  if (!fractionDigits.has(currency)) {
    let digits = 2;
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    } catch { /* not an ISO code Intl knows: assume cents */ }
    fractionDigits.set(currency, digits);
  }
  return fractionDigits.get(currency);
}

/** Money in minor units → major units (12345 CNY fen → 123.45). */
export function toMajor(minor, currency) {
  return minor / 10 ** currencyDigits(currency);
}

const counts = new Set(['users', 'sessions', 'events', 'orders', 'merchants', 'mini_programs', 'developers']);

/**
 * A value of the catalog's unit; currency for minor_units. compact shortens big numbers (12.3K) for tiles
 * and axes.
 */
export function formatValue(value, unit, { currency, compact = false, locale = LOCALE } = {}) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const notation = compact && Math.abs(value) >= 10000 ? 'compact' : 'standard';
  switch (unit) {
    case 'ratio':
      return new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 2 }).format(value);
    case 'minor_units': {
      if (!currency) return new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(value);
      const major = toMajor(value, currency);
      return new Intl.NumberFormat(locale, { style: 'currency', currency, notation }).format(major);
    }
    case 's':
      return new Intl.NumberFormat(locale, { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 1 }).format(value);
    case 'ms':
      return new Intl.NumberFormat(locale, { style: 'unit', unit: 'millisecond', unitDisplay: 'short', maximumFractionDigits: 0 }).format(value);
    case 'per_10k_sessions':
      return new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(value) + ' /10k';
    default:
      if (counts.has(unit)) return new Intl.NumberFormat(locale, { notation, maximumFractionDigits: notation === 'compact' ? 1 : 0 }).format(value);
      // Per-unit rates: sessions_per_user, page_views_per_session, impressions_per_session, …
      return new Intl.NumberFormat(locale, { notation, maximumFractionDigits: 2 }).format(value);
  }
}

/** A relative change (0.123 → "+12.3%"); null when there is nothing to compare with. */
export function formatChange(current, previous, locale = LOCALE) {
  if (current === undefined || previous === undefined || current === null || previous === null) return null;
  if (previous === 0) return current === 0 ? '±0%' : null;
  const change = (current - previous) / Math.abs(previous);
  return new Intl.NumberFormat(locale, { style: 'percent', signDisplay: 'exceptZero', maximumFractionDigits: 1 }).format(change);
}

/** A plain-language unit name for axis titles and labels. */
export function unitLabel(unit, currency) {
  if (unit === 'minor_units') return currency ? currency : 'money';
  if (unit === 'ratio') return '%';
  return unit.replaceAll('_', ' ');
}

/** The value in the unit charts plot: % for ratios, major units for money. */
export function chartValue(value, unit, currency) {
  if (unit === 'ratio') return value * 100;
  if (unit === 'minor_units' && currency) return toMajor(value, currency);
  return value;
}

export function formatTimestamp(iso, timeZone, locale = LOCALE) {
  if (!iso) return '–';
  return new Intl.DateTimeFormat(locale, { timeZone, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(new Date(iso));
}
