using Pipeline.Core.Rollup;

namespace Pipeline.Core.Ports;

/// <summary>
/// The rollup's saved state, as opaque bytes: per (day, user shard) the shard's window state and its
/// partial aggregate, and per day the ledger that the day's finaliser keeps, in parts
/// (<see cref="LedgerParts"/>: orders by key hash, buyers by user shard, the mini-program registry).
/// Plus the cursor.
/// </summary>
public interface IRollupStateStore
{
    /// <summary>A shard's window state as of the end of <paramref name="day"/>; null when never saved.</summary>
    Task<byte[]?> LoadShardStateAsync(DateOnly day, int shard, CancellationToken cancellationToken);

    Task SaveShardStateAsync(DateOnly day, int shard, ReadOnlyMemory<byte> state, CancellationToken cancellationToken);

    /// <summary>A shard's partial aggregate of <paramref name="day"/>; null when never saved.</summary>
    Task<byte[]?> LoadPartialAsync(DateOnly day, int shard, CancellationToken cancellationToken);

    Task SavePartialAsync(DateOnly day, int shard, ReadOnlyMemory<byte> partial, CancellationToken cancellationToken);

    /// <summary>One part of the ledger (<see cref="LedgerParts"/>) as of the end of <paramref name="day"/>; null when never saved.</summary>
    Task<byte[]?> LoadLedgerPartAsync(DateOnly day, string part, CancellationToken cancellationToken);

    Task SaveLedgerPartAsync(DateOnly day, string part, ReadOnlyMemory<byte> ledger, CancellationToken cancellationToken);

    /// <summary>
    /// A shard's de-duplication window (<see cref="EventIdWindowCodec"/>) and the version to write it back
    /// against; (null, null) when never saved.
    /// </summary>
    Task<(byte[]? Window, string? Version)> LoadIdWindowAsync(int shard, CancellationToken cancellationToken);

    /// <summary>
    /// Writes a shard's de-duplication window if it is still at <paramref name="expectedVersion"/> (null:
    /// never saved), so that two invocations of one shard cannot interleave their windows; returns the new version.
    /// </summary>
    /// <exception cref="RollupConflictException">The window was written by someone else since it was read.</exception>
    Task<string> SaveIdWindowAsync(int shard, ReadOnlyMemory<byte> window, string? expectedVersion, CancellationToken cancellationToken);

    /// <summary>A (day, shard)'s duplicate copies (<see cref="DuplicateCopies"/>); null when none were ever found.</summary>
    Task<byte[]?> LoadDuplicatesAsync(DateOnly day, int shard, CancellationToken cancellationToken);

    Task SaveDuplicatesAsync(DateOnly day, int shard, ReadOnlyMemory<byte> duplicates, CancellationToken cancellationToken);

    /// <summary>The rollup's bookkeeping (first day with events, last day rolled up); null before the first rollup.</summary>
    Task<RollupCursor?> GetCursorAsync(CancellationToken cancellationToken);

    Task SetCursorAsync(RollupCursor cursor, CancellationToken cancellationToken);
}

/// <summary>The rollup's two work queues: one message per (run, user shard), one per (run, day) to finalise.</summary>
public interface IRollupQueue
{
    Task EnqueueShardAsync(RollupShardMessage message, CancellationToken cancellationToken);

    Task EnqueueDayAsync(RollupDayMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// Rollup runs and their progress. At most one run is in flight: <see cref="TryStartAsync"/> fails
/// while another is. Progress is one record per (run, shard), written only by that shard's
/// invocation, and one per (run, day) finalised, so shards never contend with each other.
/// </summary>
/// <remarks>
/// A shard invocation asks its questions of the fan-in with <see cref="GetShardDoneAsync"/>,
/// <see cref="AllShardsDoneAsync"/> and <see cref="GetFinalisedThroughAsync"/>, each of which reads at
/// most one record whatever the number of shards: with S shards each asking after every day,
/// reading the whole progress instead would cost S² records a day.
/// </remarks>
public interface IRollupRunStore
{
    /// <summary>
    /// Records <paramref name="run"/> and makes it the run in flight, unless one already is (then returns that one and false).
    /// Before the run is in flight every shard has a progress record that says it has rolled no day yet,
    /// so that <see cref="AllShardsDoneAsync"/> sees a shard that has not started as behind.
    /// </summary>
    Task<(bool Started, RollupRun Active)> TryStartAsync(RollupRun run, CancellationToken cancellationToken);

    /// <summary>The run in flight; null when none is.</summary>
    Task<RollupRun?> GetActiveAsync(CancellationToken cancellationToken);

    Task<RollupRun?> GetAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Records that <paramref name="shard"/> has rolled <paramref name="day"/> (and every run day before it).</summary>
    Task MarkShardDoneAsync(string runId, int shard, DateOnly day, long events, CancellationToken cancellationToken);

    /// <summary>The last day <paramref name="shard"/> has rolled in the run; null when it has rolled none yet. Reads one record.</summary>
    Task<DateOnly?> GetShardDoneAsync(string runId, int shard, CancellationToken cancellationToken);

    /// <summary>
    /// Whether every shard of <paramref name="run"/> has rolled <paramref name="day"/>: asks for one shard
    /// still behind it, so reads at most one record whatever the number of shards.
    /// </summary>
    Task<bool> AllShardsDoneAsync(RollupRun run, DateOnly day, CancellationToken cancellationToken);

    /// <summary>The last day of the run finalised; null when none is yet. Reads one record.</summary>
    Task<DateOnly?> GetFinalisedThroughAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Records that <paramref name="day"/> is finalised, only if the day before it is the last one
    /// finalised (or <paramref name="day"/> is the run's first): returns false when another
    /// invocation already did (a duplicate message), so only one goes on to the next day.
    /// </summary>
    Task<bool> TryMarkFinalisedAsync(string runId, DayOutcome outcome, CancellationToken cancellationToken);

    /// <summary>Ends the run (it is no longer in flight).</summary>
    Task CompleteAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Everything known about a run's progress: reads a record per shard and per day finalised (for the waiter, the status and the finaliser's check).</summary>
    Task<RollupProgress> GetProgressAsync(RollupRun run, CancellationToken cancellationToken);

    /// <summary>The most recent runs, newest first.</summary>
    Task<IReadOnlyList<RollupRun>> ListRecentAsync(int max, CancellationToken cancellationToken);
}

/// <summary>Where metric rows go: the two tables of the catalog.</summary>
public interface IMetricsStore
{
    /// <summary>Replaces every row of the day in <c>DailyMetrics</c> and <c>ProgramDailyMetrics</c> with <paramref name="rows"/>: no stale row survives.</summary>
    Task ReplaceDayAsync(DateOnly day, IReadOnlyList<MetricRow> rows, string runId, DateTimeOffset computedAt, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="ReplaceDayAsync(DateOnly, IReadOnlyList{MetricRow}, string, DateTimeOffset, CancellationToken)"/>, with why the
    /// day is rolled again (<see cref="RestatementReasons.For"/>), for the restatements of the rows it changes or removes.
    /// A store that keeps no restatements ignores the reason.
    /// </summary>
    Task ReplaceDayAsync(DateOnly day, IReadOnlyList<MetricRow> rows, string runId, DateTimeOffset computedAt, string reason, CancellationToken cancellationToken) =>
        ReplaceDayAsync(day, rows, runId, computedAt, cancellationToken);

    /// <summary>Every row stored for the day (from <c>DailyMetrics</c>).</summary>
    Task<IReadOnlyList<MetricRow>> ReadDayAsync(DateOnly day, CancellationToken cancellationToken);
}

/// <summary>
/// The analysts' daily exports of the metric rows: the CSV <c>exports/daily/&lt;yyyy-MM-dd&gt;.csv</c> and
/// the Parquet file <c>exports/parquet/date=&lt;yyyy-MM-dd&gt;/metrics.parquet</c> (docs/exports.md). Both
/// hold the same rows in the same order (<see cref="Export.DailyCsv.InExportOrder"/>); each roll-up of a
/// day overwrites them.
/// </summary>
public interface IExportStore
{
    Task WriteDailyAsync(DateOnly day, ReadOnlyMemory<byte> csv, CancellationToken cancellationToken);

    /// <summary>The export of a day; null when none was written.</summary>
    Task<byte[]?> ReadDailyAsync(DateOnly day, CancellationToken cancellationToken);

    /// <summary>The location of a day's export, for people (for example <c>exports/daily/2026-11-23.csv</c>).</summary>
    string DescribeDaily(DateOnly day);

    /// <summary>
    /// Writes the day's rows as its Parquet export, replacing any earlier one. The rows are encoded by the
    /// store (Core knows no file format but the CSV), in the exports' order whatever order they come in.
    /// </summary>
    Task WriteDailyParquetAsync(DateOnly day, IReadOnlyList<MetricRow> rows, CancellationToken cancellationToken);

    /// <summary>The Parquet export of a day, as the file's bytes; null when none was written.</summary>
    Task<byte[]?> ReadDailyParquetAsync(DateOnly day, CancellationToken cancellationToken);

    /// <summary>The location of a day's Parquet export, for people (for example <c>exports/parquet/date=2026-11-23/metrics.parquet</c>).</summary>
    string DescribeDailyParquet(DateOnly day);
}
