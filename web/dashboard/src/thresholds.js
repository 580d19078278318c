// Guardrail thresholds: where a risk factor turns amber (watch) and red (act). The catalog says only that
// these numbers "must not rise while the others improve"; these levels are the dashboard's, documented in
// docs/dashboard.md, and a reading on or above a level takes its colour.
export const GUARDRAILS = {
  'risk.crash_rate': { watch: 0.005, act: 0.01, why: 'sessions with a crash: 0.5% watch, 1% act' },
  'risk.complaints_per_10k_sessions': { watch: 5, act: 10, why: 'complaints per 10,000 sessions: 5 watch, 10 act' },
  'risk.permission_denial_rate': { watch: 0.05, act: 0.1, why: 'permission denials per session: 0.05 watch, 0.1 act' },
  'risk.top10_session_share': { watch: 0.6, act: 0.8, why: 'share of sessions in the 10 biggest mini-programs: 60% watch, 80% act' },
  'risk.ad_load': { watch: 0.5, act: 1, why: 'ad impressions per session: 0.5 watch, 1 act' },
  'risk.rejected_event_rate': { watch: 0.005, act: 0.02, why: 'events rejected at ingest: 0.5% watch, 2% act' },
};

/** 'ok', 'watch' or 'act' for a guardrail's value; 'ok' for metrics without thresholds. */
export function level(metric, value) {
  const t = GUARDRAILS[metric];
  if (!t || value === undefined || value === null) return 'ok';
  if (value >= t.act) return 'act';
  if (value >= t.watch) return 'watch';
  return 'ok';
}
