// Types of mini-program-metrics-sdk (ingest contract version 1).

export interface TrackerOptions {
  /** Base address of the pipeline, for example https://metrics.example.com; events go to {endpoint}/api/v1/events. Add it to the mini-program's request domain list. */
  endpoint: string;
  /** The source's ingest key (mpk_…), sent as X-Api-Key. */
  apiKey: string;
  /** This mini-program's id (its appId), 1-64 of A-Z a-z 0-9 _ -. */
  miniProgramId: string;
  /** The user (for example the openid); when absent, an anonymous id kept in storage. Change it later with setUserId. */
  userId?: string;
  /** The platform as the contract spells it; detected from wx.getDeviceInfo when absent. */
  platform?: 'ios' | 'android' | 'harmony' | 'windows' | 'mac' | 'devtools' | 'other';
  /** A session ends when the app has been hidden longer than this. Default 30 000. */
  sessionTimeoutMs?: number;
  /** A batch leaves when its oldest event has waited this long. Default 5 000. */
  flushIntervalMs?: number;
  /** … or when it has this many events (1-1000). Default 50. */
  maxBatchEvents?: number;
  /** Most bytes of event JSON in one request (32 KiB to 2 MiB). Default 256 KiB. */
  maxBatchBytes?: number;
  /** Most events kept waiting in storage; when full, the oldest is dropped. Default 500. */
  maxStoredEvents?: number;
  /** First back-off delay after a failed send (exponential, with jitter). Default 1 000. */
  baseRetryDelayMs?: number;
  /** Longest back-off delay, and the cap on a Retry-After. Default 300 000. */
  maxRetryDelayMs?: number;
  /** Timeout of one request. Default 15 000. */
  requestTimeoutMs?: number;
  /** Prefix of the storage keys (outbox, session, anonymousId). Default 'mpmetrics:'. */
  storagePrefix?: string;
  /** Where warnings go. Default console. */
  logger?: { warn(message: string): void; error(message: string): void };
  /** For tests and other runtimes: the wx object, the clock, timers and randomness. */
  wx?: any;
  now?: () => number;
  random?: () => number;
  timers?: { setTimeout(fn: () => void, ms: number): any; clearTimeout(handle: any): void };
}

export interface EventFields {
  /** The session; defaults to the current one. */
  sessionId?: string;
  /** When it happened, in Unix milliseconds; defaults to now. */
  timestamp?: number;
  /** Another user than the tracker's. */
  userId?: string;
  /** Another mini-program than the tracker's. */
  miniProgramId?: string;
}

export interface TrackerStats {
  /** Events the pipeline accepted. */
  sent: number;
  /** Events sent again after a failed attempt (a batch of n retried twice adds 2n). */
  retried: number;
  /** Events given up: outbox full (oldest dropped), older than 30 days, refused by track(), or in a batch the pipeline refused as a whole (401, 403, 415, …). */
  dropped: number;
  /** Events the pipeline rejected one by one (listed in its answer, and logged). */
  rejected: number;
  /** Events waiting in the outbox now. */
  queued: number;
}

export declare class Tracker {
  constructor(options: TrackerOptions);
  start(): void;
  setUserId(userId: string | null): void;
  track(type: string, props?: Record<string, unknown>, fields?: EventFields): string | null;
  page<T extends object>(pageOptions?: T): T;
  flush(): Promise<void>;
  stats(): TrackerStats;
}

export declare function createTracker(options: TrackerOptions): Tracker;
