using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Storage.Resilience;
using Polly;

namespace Pipeline.Storage.Tables;

/// <summary>
/// Rollup runs and their progress in table <c>RollupRuns</c>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>PartitionKey <c>runs</c>, RowKey = run id: the run as planned, and <c>Completed</c> when it ended.</item>
/// <item>PartitionKey <c>runs</c>, RowKey <c>~active</c>: the id of the run in flight. Taken in one
/// entity-group transaction with the new run's row and an ETag condition (add when absent, replace at
/// the ETag read), so two planners racing start exactly one run and no half-started run is left.</item>
/// <item>PartitionKey = run id: RowKey <c>shard-NNN</c> per shard (its last day rolled, written only
/// by that shard, so shards never contend); RowKey <c>day-yyyy-MM-dd</c> per day finalised, and
/// RowKey <c>finalised</c>, the last day finalised, advanced with an ETag condition in the same
/// entity-group transaction as the day's row, so exactly one finaliser records each day.</item>
/// </list>
/// <para>Every shard's row is written when the run starts, before the run is in flight, with an empty
/// <c>LastDay</c> (it sorts before every day): a shard that has not rolled a day is then a row whose
/// <c>LastDay</c> is less than the day, and "is every shard done with the day" is a query for one such
/// row (<see cref="AllShardsDoneAsync"/>), which returns at most one entity however many shards there
/// are. The service still evaluates the filter over the shard rows, but sends none of them back.</para>
/// </remarks>
public sealed class TableRollupRunStore(TableServiceClient tableService, TimeProvider time) : IRollupRunStore
{
    public const string RunsPartition = "runs", ActivePartition = RunsPartition, ActiveRow = "~active", FinalisedRow = "finalised";

    /// <summary>The most operations of one entity-group transaction.</summary>
    private const int MaxBatch = 100;

    /// <summary>The shard rows of a run are the RowKeys in [<c>shard-</c>, <c>shard.</c>) ('.' follows '-').</summary>
    private const string ShardRowsFrom = "shard-", ShardRowsTo = "shard.";

    /// <summary>A shard row's <c>LastDay</c> before the shard has rolled a day: less than every day.</summary>
    private const string NoDay = "";

    private readonly TableClient _table = tableService.GetTableClient(StorageNames.RollupRunsTable);
    private readonly ResiliencePipeline _concurrency = OptimisticConcurrency.CreatePipeline();

    public Task<(bool Started, RollupRun Active)> TryStartAsync(RollupRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return StorageFailures.RunAsync("starting rollup run " + run.RunId, ct => _concurrency.ExecuteAsync(async token =>
        {
            var pointer = await _table.GetEntityIfExistsAsync<TableEntity>(ActivePartition, ActiveRow, cancellationToken: token).ConfigureAwait(false);
            if (pointer.HasValue && pointer.Value is { } current)
            {
                var existing = await GetAsync(current.GetString("RunId"), token).ConfigureAwait(false);
                var completed = existing is null || (await _table.GetEntityAsync<TableEntity>(RunsPartition, existing.RunId, cancellationToken: token).ConfigureAwait(false)).Value.GetDateTimeOffset("Completed") is not null;
                if (!completed) return (false, existing!);
                await WriteShardRowsAsync(run, token).ConfigureAwait(false);
                await SubmitAsync([new(TableTransactionActionType.Add, ToEntity(run)), new(TableTransactionActionType.UpdateReplace, Pointer(run.RunId), current.ETag)], token).ConfigureAwait(false);
                return (true, run);
            }
            // 409 when another planner won: retried, then seen as in flight (its shard rows are left, in a partition no one reads).
            await WriteShardRowsAsync(run, token).ConfigureAwait(false);
            await SubmitAsync([new(TableTransactionActionType.Add, ToEntity(run)), new(TableTransactionActionType.Add, Pointer(run.RunId))], token).ConfigureAwait(false);
            return (true, run);
        }, ct).AsTask(), cancellationToken);
    }

    /// <summary>
    /// Every shard's row, as "no day rolled yet", in transactions of at most <see cref="MaxBatch"/>. Written
    /// before the run is in flight, so no shard has written its own yet: writing them again (a retried start) changes nothing.
    /// </summary>
    private async Task WriteShardRowsAsync(RollupRun run, CancellationToken cancellationToken)
    {
        for (var first = 0; first < run.Shards; first += MaxBatch)
        {
            var batch = Enumerable.Range(first, Math.Min(MaxBatch, run.Shards - first))
                .Select(shard => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(run.RunId, ShardRow(shard)) { ["LastDay"] = NoDay }));
            await SubmitAsync(batch, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task<RollupRun?> GetActiveAsync(CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("reading the rollup run in flight", async ct =>
        {
            var pointer = await _table.GetEntityIfExistsAsync<TableEntity>(ActivePartition, ActiveRow, cancellationToken: ct).ConfigureAwait(false);
            return pointer.HasValue && pointer.Value is { } p ? await GetAsync(p.GetString("RunId"), ct).ConfigureAwait(false) : null;
        }, cancellationToken);

    public Task<RollupRun?> GetAsync(string runId, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("reading rollup run " + runId, async ct =>
        {
            var e = await _table.GetEntityIfExistsAsync<TableEntity>(RunsPartition, runId, cancellationToken: ct).ConfigureAwait(false);
            return e.HasValue && e.Value is { } entity ? ToRun(entity) : null;
        }, cancellationToken);

    public Task MarkShardDoneAsync(string runId, int shard, DateOnly day, long events, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync($"recording rollup shard {shard} of run {runId}", ct =>
        {
            var entity = new TableEntity(runId, ShardRow(shard)) { ["LastDay"] = Day(day), ["LastDayEvents"] = events };
            return _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct);
        }, cancellationToken);

    public Task<DateOnly?> GetShardDoneAsync(string runId, int shard, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync($"reading the progress of rollup shard {shard} of run {runId}", async ct =>
        {
            var row = await _table.GetEntityIfExistsAsync<TableEntity>(runId, ShardRow(shard), ["LastDay"], ct).ConfigureAwait(false);
            return row.HasValue && row.Value is { } e ? ParseDayOrNone(e.GetString("LastDay")) : null;
        }, cancellationToken);

    public Task<bool> AllShardsDoneAsync(RollupRun run, DateOnly day, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return StorageFailures.RunAsync($"asking whether every shard of rollup run {run.RunId} has rolled {Day(day)}", async ct =>
        {
            var behind = TableClient.CreateQueryFilter(
                $"PartitionKey eq {run.RunId} and RowKey ge {ShardRowsFrom} and RowKey lt {ShardRowsTo} and LastDay lt {Day(day)}");
            // One entity a page: the first shard found behind answers the question (pages may come back empty, with a continuation).
            await foreach (var _ in _table.QueryAsync<TableEntity>(behind, maxPerPage: 1, select: ["RowKey"], cancellationToken: ct).ConfigureAwait(false))
                return false;
            return true;
        }, cancellationToken);
    }

    public Task<DateOnly?> GetFinalisedThroughAsync(string runId, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync($"reading the last day finalised of rollup run {runId}", async ct =>
        {
            var pointer = await _table.GetEntityIfExistsAsync<TableEntity>(runId, FinalisedRow, ["Through"], ct).ConfigureAwait(false);
            return pointer.HasValue && pointer.Value is { } p ? ParseDay(p.GetString("Through")) : (DateOnly?)null;
        }, cancellationToken);

    public Task<bool> TryMarkFinalisedAsync(string runId, DayOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return StorageFailures.RunAsync($"recording {Day(outcome.Day)} of rollup run {runId} as finalised", async ct =>
        {
            var run = await GetAsync(runId, ct).ConfigureAwait(false) ?? throw new InvalidOperationException($"Rollup run {runId} does not exist.");
            var pointer = await _table.GetEntityIfExistsAsync<TableEntity>(runId, FinalisedRow, cancellationToken: ct).ConfigureAwait(false);
            var through = pointer.HasValue && pointer.Value is { } p ? ParseDay(p.GetString("Through")) : (DateOnly?)null;
            var expected = through is { } t ? t.AddDays(1) : run.From;
            if (outcome.Day != expected) return false;

            var next = new TableEntity(runId, FinalisedRow) { ["Through"] = Day(outcome.Day) };
            var dayRow = new TableEntity(runId, DayRow(outcome.Day))
            {
                ["Rows"] = outcome.Rows, ["Events"] = outcome.Events, ["FinalisedAt"] = outcome.FinalisedAt,
            };
            TableTransactionAction advance = pointer.HasValue && pointer.Value is { } current
                ? new(TableTransactionActionType.UpdateReplace, next, current.ETag)
                : new(TableTransactionActionType.Add, next);
            try
            {
                await _table.SubmitTransactionAsync([advance, new(TableTransactionActionType.UpsertReplace, dayRow)], ct).ConfigureAwait(false);
                return true;
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
            {
                return false; // another invocation recorded the day first
            }
        }, cancellationToken);
    }

    public Task CompleteAsync(string runId, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("completing rollup run " + runId, async ct =>
        {
            var entity = new TableEntity(RunsPartition, runId) { ["Completed"] = time.GetUtcNow() };
            var existing = await _table.GetEntityIfExistsAsync<TableEntity>(RunsPartition, runId, cancellationToken: ct).ConfigureAwait(false);
            if (existing.HasValue && existing.Value is { } e && e.GetDateTimeOffset("Completed") is null)
                await _table.UpdateEntityAsync(entity, ETag.All, TableUpdateMode.Merge, ct).ConfigureAwait(false);
            var pointer = await _table.GetEntityIfExistsAsync<TableEntity>(ActivePartition, ActiveRow, cancellationToken: ct).ConfigureAwait(false);
            if (pointer.HasValue && pointer.Value is { } p && p.GetString("RunId") == runId)
            {
                try { await _table.DeleteEntityAsync(ActivePartition, ActiveRow, p.ETag, ct).ConfigureAwait(false); }
                catch (RequestFailedException ex) when (ex.Status is 404 or 412) { } // already cleared, or replaced by the next run
            }
        }, cancellationToken);

    public Task<RollupProgress> GetProgressAsync(RollupRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return StorageFailures.RunAsync("reading the progress of rollup run " + run.RunId, async ct =>
        {
            var shardDone = new DateOnly?[run.Shards];
            var finalised = new List<DayOutcome>();
            DateOnly? through = null;
            var last = run.CreatedAt;
            await foreach (var e in _table.QueryAsync<TableEntity>(e => e.PartitionKey == run.RunId, cancellationToken: ct).ConfigureAwait(false))
            {
                if (e.Timestamp is { } ts && ts > last) last = ts;
                if (e.RowKey.StartsWith("shard-", StringComparison.Ordinal)
                    && int.TryParse(e.RowKey.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var shard) && shard < run.Shards)
                    shardDone[shard] = ParseDayOrNone(e.GetString("LastDay"));
                else if (e.RowKey.StartsWith("day-", StringComparison.Ordinal))
                    finalised.Add(new DayOutcome(ParseDay(e.RowKey[4..]), e.GetInt32("Rows") ?? 0, e.GetInt64("Events") ?? 0, e.GetDateTimeOffset("FinalisedAt") ?? last));
                else if (e.RowKey == FinalisedRow)
                    through = ParseDay(e.GetString("Through"));
            }
            // Only days up to the finalised pointer count (a day row is written in the same transaction, so they agree).
            finalised.RemoveAll(f => through is null || f.Day > through);
            finalised.Sort((a, b) => a.Day.CompareTo(b.Day));
            var runEntity = await _table.GetEntityIfExistsAsync<TableEntity>(RunsPartition, run.RunId, cancellationToken: ct).ConfigureAwait(false);
            var completed = runEntity.HasValue && runEntity.Value is { } r ? r.GetDateTimeOffset("Completed") : null;
            return new RollupProgress(run, shardDone, finalised, completed, last);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<RollupRun>> ListRecentAsync(int max, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync<IReadOnlyList<RollupRun>>("listing rollup runs", async ct =>
        {
            var runs = new List<RollupRun>();
            await foreach (var e in _table.QueryAsync<TableEntity>(e => e.PartitionKey == RunsPartition, cancellationToken: ct).ConfigureAwait(false))
                if (e.RowKey != ActiveRow) runs.Add(ToRun(e));
            runs.Sort((a, b) => string.CompareOrdinal(b.RunId, a.RunId)); // version-7 ids: time order
            return runs.Take(max).ToList();
        }, cancellationToken);

    /// <summary>A transaction whose failure surfaces as the status the retry policy knows (409/412).</summary>
    private async Task SubmitAsync(IEnumerable<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        try
        {
            await _table.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new RequestFailedException(ex.Status, ex.Message, ex);
        }
    }

    private static TableEntity Pointer(string runId) => new(ActivePartition, ActiveRow) { ["RunId"] = runId };

    private static TableEntity ToEntity(RollupRun run) => new(RunsPartition, run.RunId)
    {
        ["From"] = Day(run.From), ["To"] = Day(run.To), ["Shards"] = run.Shards, ["BaseDay"] = run.BaseDay is { } b ? Day(b) : "",
        ["Marks"] = string.Join('\n', run.Marks.Select(m => Day(m.Day) + "|" + m.Version)), ["Trigger"] = run.Trigger, ["CreatedAt"] = run.CreatedAt,
    };

    private static RollupRun ToRun(TableEntity e)
    {
        var marks = new List<DirtyDay>();
        foreach (var line in (e.GetString("Marks") ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var bar = line.IndexOf('|', StringComparison.Ordinal);
            marks.Add(new DirtyDay(ParseDay(line[..bar]), line[(bar + 1)..]));
        }
        var baseDay = e.GetString("BaseDay");
        return new RollupRun(e.RowKey, ParseDay(e.GetString("From")), ParseDay(e.GetString("To")), e.GetInt32("Shards") ?? 1,
            string.IsNullOrEmpty(baseDay) ? null : ParseDay(baseDay), marks, e.GetString("Trigger") ?? "", e.GetDateTimeOffset("CreatedAt") ?? e.Timestamp ?? default);
    }

    private static string ShardRow(int shard) => "shard-" + shard.ToString("D3", CultureInfo.InvariantCulture);

    private static string DayRow(DateOnly day) => "day-" + Day(day);

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static DateOnly ParseDay(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A shard row's last day: none while it is the empty <see cref="NoDay"/> written when the run started.</summary>
    private static DateOnly? ParseDayOrNone(string? text) => string.IsNullOrEmpty(text) ? null : ParseDay(text);
}
