namespace Pipeline.Storage;

/// <summary>
/// Names of the pipeline's containers, queues and tables. Constants, not settings: the Functions
/// triggers need them at compile time (<c>[QueueTrigger(StorageNames.ProcessingQueue)]</c>) and
/// the Bicep templates create the same names.
/// </summary>
public static class StorageNames
{
    // Blob containers
    /// <summary>Accepted batches as written before the <c>202</c>: <c>&lt;yyyy&gt;/&lt;MM&gt;/&lt;dd&gt;/&lt;batchId&gt;.json</c>.</summary>
    public const string LandingContainer = "landing";
    /// <summary>The event store: segments <c>&lt;yyyy-MM-dd&gt;/&lt;shard:D3&gt;/&lt;batchId&gt;.evb</c> and compacted files <c>&lt;yyyy-MM-dd&gt;/&lt;shard:D3&gt;.evc</c>.</summary>
    public const string EventsContainer = "events";
    /// <summary>Rollup state: <c>shards/&lt;day&gt;/&lt;shard&gt;.bin</c>, <c>partials/&lt;day&gt;/&lt;shard&gt;.bin</c>, <c>ledger/&lt;day&gt;/&lt;part&gt;.bin</c>.</summary>
    public const string StateContainer = "state";
    /// <summary>CSV exports <c>daily/&lt;yyyy-MM-dd&gt;.csv</c> and their Parquet twins <c>parquet/date=&lt;yyyy-MM-dd&gt;/metrics.parquet</c>; Parquet copies of the compacted event store <c>events/date=&lt;yyyy-MM-dd&gt;/shard=&lt;shard:D3&gt;.parquet</c>.</summary>
    public const string ExportsContainer = "exports";
    /// <summary>Rejected events (<c>&lt;yyyy-MM-dd&gt;/&lt;batchId&gt;.json</c>) and poison-message reasons (<c>poison/…</c>).</summary>
    public const string RejectedContainer = "rejected";

    // Queues
    /// <summary>Claim-check messages (<see cref="Core.Events.ProcessingMessage"/>), Base64-encoded JSON.</summary>
    public const string ProcessingQueue = "events-processing";
    /// <summary>Event batches dropped by trusted back ends, Base64-encoded.</summary>
    public const string InboundQueue = "events-inbound";
    /// <summary>Suffix of the queue a message moves to after <see cref="MaxDequeueCount"/> failed deliveries (the Functions host's convention).</summary>
    public const string PoisonSuffix = "-poison";
    public const string ProcessingPoisonQueue = ProcessingQueue + PoisonSuffix;
    public const string InboundPoisonQueue = InboundQueue + PoisonSuffix;
    /// <summary>Rollup fan-out: one message per (run, user shard), JSON.</summary>
    public const string RollupShardsQueue = "rollup-shards";
    /// <summary>Rollup fan-in: one message per (run, day) to finalise, JSON.</summary>
    public const string RollupDaysQueue = "rollup-days";
    public const string RollupShardsPoisonQueue = RollupShardsQueue + PoisonSuffix;
    public const string RollupDaysPoisonQueue = RollupDaysQueue + PoisonSuffix;
    /// <summary>Deliveries of a message before it is poison (the Functions host's default, set in host.json).</summary>
    public const int MaxDequeueCount = 5;

    // Tables
    public const string DailyMetricsTable = "DailyMetrics";
    public const string ProgramDailyMetricsTable = "ProgramDailyMetrics";
    public const string IngestKeysTable = "IngestKeys";
    public const string IngestSourcesTable = "IngestSources";
    public const string RollupLedgerTable = "RollupLedger";
    /// <summary>Rollup runs (PartitionKey <c>runs</c>), the run in flight (<c>active</c>), and each run's progress (PartitionKey = run id).</summary>
    public const string RollupRunsTable = "RollupRuns";
    /// <summary>Events received and rejected per request, by reporting day of receipt (<c>risk.rejected_event_rate</c>).</summary>
    public const string IngestReceiptsTable = "IngestReceipts";
    /// <summary>Published metric rows a re-roll changed or removed, by UTC date recorded (<c>GET /api/v1/restatements</c>).</summary>
    public const string RestatementsTable = "Restatements";

    public static IReadOnlyList<string> Containers { get; } =
        [LandingContainer, EventsContainer, StateContainer, ExportsContainer, RejectedContainer];

    public static IReadOnlyList<string> Queues { get; } =
        [ProcessingQueue, ProcessingPoisonQueue, InboundQueue, InboundPoisonQueue, RollupShardsQueue, RollupShardsPoisonQueue, RollupDaysQueue, RollupDaysPoisonQueue];

    public static IReadOnlyList<string> Tables { get; } =
        [DailyMetricsTable, ProgramDailyMetricsTable, IngestKeysTable, IngestSourcesTable, RollupLedgerTable, RollupRunsTable, IngestReceiptsTable, RestatementsTable];
}
