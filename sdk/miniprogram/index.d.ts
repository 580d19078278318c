// Types of mini-program-metrics-sdk (ingest contract version 1).

/**
 * What the tracker captures without code in the app. Every switch is on unless set to false;
 * `autoCapture: false` turns them all off.
 */
export interface AutoCaptureOptions {
  /** session_start.loadMs of the launch: the runtime's appLaunch performance entry, or tracker creation to the launch page's onReady (the page wrapped with tracker.page()). The launch's session_start waits for it (see maxLoadWaitMs). */
  loadTime?: boolean;
  /** session_start.referrerMiniProgramId from the launch (or show) options' referrerInfo.appId. */
  referrer?: boolean;
  /** session_start.utm_* from the launch (or show) options' query (at most 8, values cut to 1024 characters); nothing else of the query. */
  launchQuery?: boolean;
  /** session_start.chatType from the launch (or show) options, when opened from a chat. */
  chatType?: boolean;
  /** error events (kind js_error) from wx.onError and wx.onUnhandledRejection. */
  errors?: boolean;
  /** error events (kind network) from requests made with tracker.request that fail or get an HTTP status >= 400. */
  networkErrors?: boolean;
}

/** The options of wx.request (the SDK passes them through as they are). */
export interface RequestOptions {
  url: string;
  method?: string;
  data?: unknown;
  header?: Record<string, string>;
  timeout?: number;
  dataType?: string;
  responseType?: string;
  success?: (res: { statusCode: number; data: any; header: Record<string, string>; errMsg?: string; [key: string]: any }) => void;
  fail?: (err: { errMsg: string; errno?: number; [key: string]: any }) => void;
  complete?: (res: any) => void;
  [key: string]: unknown;
}

/** What wx.request returns. */
export interface RequestTask {
  abort(): void;
  [key: string]: any;
}

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
  /** What is captured automatically; all on by default. */
  autoCapture?: AutoCaptureOptions | boolean;
  /** Longest wait for the launch's cold-start time before its session_start (and what follows it) is sent without loadMs. Default 30 000. */
  maxLoadWaitMs?: number;
  /** Most error events captured automatically in one session (errors tracked with track() are not counted). Default 20. */
  maxErrorsPerSession?: number;
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
  /** wx.request, tracking an error (kind network) when it fails or is answered with a status >= 400. */
  request(options: RequestOptions): RequestTask;
  page<T extends object>(pageOptions?: T): T;
  flush(): Promise<void>;
  stats(): TrackerStats;
}

export declare function createTracker(options: TrackerOptions): Tracker;
