// Names people read for the values of the per-mini-program distributions. The WeChat access-source numbers
// are named from the pipeline's own scene table (functions/Pipeline.Core/Scenes/scenes.json), which esbuild
// bundles at build time: one table for the rollup and the page, and nothing fetched at run time.
import { sources } from '../../../functions/Pipeline.Core/Scenes/scenes.json';

const SOURCE_NAMES = new Map(sources.map((s) => [String(s.source), s.meaning]));

/** "4 · scan" for access source 4; the number alone when the table does not know it. */
export function sourceLabel(value) {
  const meaning = SOURCE_NAMES.get(value);
  return meaning ? `${value} · ${meaning}` : value;
}

const PLATFORMS = { ios: 'iOS', android: 'Android', harmony: 'HarmonyOS', windows: 'Windows', mac: 'macOS', devtools: 'DevTools', other: 'other', unknown: 'unknown' };
export const platformLabel = (value) => PLATFORMS[value] ?? value;

const CHANNELS = { official_account: 'official account', mini_program: 'other mini-program' };
export const channelLabel = (value) => CHANNELS[value] ?? value;

/** WeChat's stay-time and visit-depth buckets, in their order (metric-definitions.md). */
export const DURATION_BUCKETS = ['0-2s', '3-5s', '6-10s', '11-20s', '21-30s', '31-50s', '51-100s', '100s+'];
export const DEPTH_BUCKETS = ['1', '2', '3', '4', '5', '6-10', '10+'];

/** Past this many names a day, a mini-program's custom events are counted under (other) (Decision 22). */
export const CUSTOM_EVENT_CAP = 100;
export const OTHER_EVENT = '(other)';
