using Pipeline.Core.Export;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Rollup;

/// <summary>What finalising one day did, for the host's log line.</summary>
/// <param name="Phases">Where a finalised day's time went (null when skipped).</param>
public sealed record DayFinaliseResult(string RunId, DateOnly Day, DayOutcome? Outcome, string? SkippedBecause, FinalisePhases? Phases = null);

/// <summary>
/// The finaliser's time by phase, for the log line an operator reads when a day is slow: merging the shards' partials,
/// settling the ledger parts, computing the rows, replacing them in the tables, and writing the CSV and Parquet exports.
/// </summary>
public sealed record FinalisePhases(TimeSpan Merge, TimeSpan Ledger, TimeSpan Rows, TimeSpan Tables, TimeSpan Exports)
{
    public override string ToString() =>
        FormattableString.Invariant($"merge {Merge.TotalSeconds:0.0} s, ledger {Ledger.TotalSeconds:0.0} s, rows {Rows.TotalSeconds:0.0} s, tables {Tables.TotalSeconds:0.0} s, exports {Exports.TotalSeconds:0.0} s");
}

/// <summary>
/// Finalises one day of a run, once every shard has rolled it and the day before is finalised:
/// merges the shards' partials (folded in one at a time, each dropped once folded) with the ledger of
/// the day before (settled part by part: orders by key hash, buyers by user shard, the registry), saves each part under the day, replaces the day's rows in
/// both tables (with why the day is rolled, for the restatements of rows it changes), writes the CSV and Parquet exports, clears the day's dirty mark (at the
/// version the run saw), advances the cursor, records the day as finalised and hands on to the
/// next day (or ends the run).
/// </summary>
/// <remarks>
/// Idempotent: a duplicate message for a day already finalised does nothing; two invocations racing
/// on the same day compute the same rows and ledger, and only the one that records the day first
/// hands on. A message that arrives too early (shards unfinished, or the day before not finalised)
/// does nothing: the last shard, or the finaliser of the day before, sends it again.
/// </remarks>
public sealed class DayFinaliseHandler(
    IRollupStateStore states,
    IRollupRunStore runs,
    IRollupQueue queue,
    IMetricsStore metrics,
    IExportStore exports,
    IIngestReceiptLedger receipts,
    IDirtyDayLedger dirty,
    RollupEngine engine,
    TimeProvider time)
{
    /// <summary>Partials loaded ahead of the fold: the most the finaliser holds at once besides the merged day.</summary>
    public const int ReadParallelism = 8;

    public async Task<DayFinaliseResult> HandleAsync(RollupDayMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var run = await runs.GetAsync(message.RunId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Rollup run {message.RunId} does not exist.");
        var day = message.Day;
        if (day < run.From || day > run.To)
            throw new InvalidOperationException($"Rollup run {run.RunId} rolls {run.From:yyyy-MM-dd}..{run.To:yyyy-MM-dd}; {day:yyyy-MM-dd} is not one of its days.");

        // The whole progress, once a day: its check of the shards does not rely on every shard's record having
        // been written when the run started (a run started before they were), and a day finalised before every
        // shard rolled it would merge whatever partials of the day an earlier run left.
        var progress = await runs.GetProgressAsync(run, cancellationToken).ConfigureAwait(false);
        if (progress.Completed is not null || progress.FinalisedThrough >= day) return Skip("already finalised");
        var expected = progress.FinalisedThrough is { } f ? f.AddDays(1) : run.From;
        if (day != expected) return Skip($"waiting for {expected:yyyy-MM-dd} to be finalised first");
        if (!progress.AllShardsDone(day)) return Skip($"{progress.ShardDone.Count(d => d >= day)}/{run.Shards} shards have rolled it");

        var phase = time.GetTimestamp();
        TimeSpan Lap()
        {
            var now = time.GetTimestamp();
            var elapsed = time.GetElapsedTime(phase, now);
            phase = now;
            return elapsed;
        }

        var close = engine.BeginFinalise(day, run.Shards);
        await FoldPartialsAsync(run, day, close, cancellationToken).ConfigureAwait(false);
        var merge = Lap();
        // The ledger, one part at a time: orders (every partition before the buyers), buyers, registry.
        for (var p = 0; p < run.Shards; p++)
            await SettleAsync(run, day, LedgerParts.Orders(p), part => close.SettleOrders(p, part), cancellationToken).ConfigureAwait(false);
        for (var p = 0; p < run.Shards; p++)
            await SettleAsync(run, day, LedgerParts.Buyers(p), part => close.SettleBuyers(p, part), cancellationToken).ConfigureAwait(false);
        await SettleAsync(run, day, LedgerParts.Registry, close.SettleRegistry, cancellationToken).ConfigureAwait(false);
        var ledger = Lap();
        var received = await receipts.TotalsAsync(day, cancellationToken).ConfigureAwait(false);
        var rows = close.Rows(received);
        var events = close.Events;
        var computed = Lap();

        var now = time.GetUtcNow();
        await metrics.ReplaceDayAsync(day, rows, run.RunId, now, RestatementReasons.For(run, day), cancellationToken).ConfigureAwait(false);
        var tables = Lap();
        // Both exports before the dirty mark is cleared: a failure here leaves the day dirty and the message is retried.
        await exports.WriteDailyAsync(day, DailyCsv.Write(day, rows), cancellationToken).ConfigureAwait(false);
        await exports.WriteDailyParquetAsync(day, rows, cancellationToken).ConfigureAwait(false);
        var phases = new FinalisePhases(merge, ledger, computed, tables, Lap());
        foreach (var mark in run.Marks)
            if (mark.Day == day) await dirty.ClearAsync(mark, cancellationToken).ConfigureAwait(false);
        await AdvanceCursorAsync(run, day, events, cancellationToken).ConfigureAwait(false);

        var outcome = new DayOutcome(day, rows.Count, events, now);
        if (!await runs.TryMarkFinalisedAsync(run.RunId, outcome, cancellationToken).ConfigureAwait(false))
            return Skip("finalised meanwhile by another invocation");

        if (day == run.To)
            await runs.CompleteAsync(run.RunId, cancellationToken).ConfigureAwait(false);
        // Asked after the day is recorded, as the last shard of the next day asks after its own record: at least one of the two hands it on.
        else if (await runs.AllShardsDoneAsync(run, day.AddDays(1), cancellationToken).ConfigureAwait(false))
            await queue.EnqueueDayAsync(new RollupDayMessage(run.RunId, day.AddDays(1)), cancellationToken).ConfigureAwait(false);
        return new DayFinaliseResult(run.RunId, day, outcome, null, phases);

        DayFinaliseResult Skip(string why) => new(run.RunId, day, null, why);
    }

    /// <summary>Loads a ledger part as of the day before, advances it to the end of the day, saves it under the day.</summary>
    private async Task SettleAsync(RollupRun run, DateOnly day, string part, Action<WindowState> settle, CancellationToken cancellationToken)
    {
        var state = WindowState.Empty();
        if (!(day == run.From && run.BaseDay is null))
        {
            var before = day.AddDays(-1);
            var bytes = await states.LoadLedgerPartAsync(before, part, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Rollup run {run.RunId}: the ledger part '{part}' of {before:yyyy-MM-dd} is missing; re-roll from the first day with events (rollup --from).");
            state = WindowStateCodec.Decode(bytes);
        }
        settle(state);
        await states.SaveLedgerPartAsync(day, part, WindowStateCodec.Encode(state), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Folds every shard's partial into the day, in shard order (the one-process rollup's order), loading
    /// up to <see cref="ReadParallelism"/> ahead. A partial is dropped once folded, so the finaliser holds
    /// the merged day and at most <see cref="ReadParallelism"/> partials, however many shards there are.
    /// </summary>
    private async Task FoldPartialsAsync(RollupRun run, DateOnly day, DayFinaliser.DayClose close, CancellationToken cancellationToken)
    {
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loading = new Queue<Task<ShardPartial>>(ReadParallelism);
        var next = 0;
        try
        {
            while (next < run.Shards || loading.Count > 0)
            {
                while (next < run.Shards && loading.Count < ReadParallelism)
                    loading.Enqueue(LoadPartialAsync(run, day, next++, abandon.Token));
                close.Fold(await loading.Dequeue().ConfigureAwait(false));
            }
        }
        finally
        {
            if (loading.Count > 0)
            {
                // A load or a fold failed: the loads still running are not wanted; their own failures (or cancellation) are not the cause.
                await abandon.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(loading).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    private async Task<ShardPartial> LoadPartialAsync(RollupRun run, DateOnly day, int shard, CancellationToken cancellationToken)
    {
        var bytes = await states.LoadPartialAsync(day, shard, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Rollup run {run.RunId}: shard {shard} recorded {day:yyyy-MM-dd} as rolled but its partial is missing.");
        var partial = ShardPartialCodec.Decode(bytes);
        if (partial.Day != day.DayNumber)
            throw new InvalidDataException($"Rollup run {run.RunId}: the partial of shard {shard} for {day:yyyy-MM-dd} is of another day.");
        return partial;
    }

    /// <summary>The cursor's first day is the earliest day rolled that had events; its last day only moves forward.</summary>
    private async Task AdvanceCursorAsync(RollupRun run, DateOnly day, long events, CancellationToken cancellationToken)
    {
        var cursor = await states.GetCursorAsync(cancellationToken).ConfigureAwait(false);
        var firstDay = cursor?.FirstDay;
        if (events > 0 && (firstDay is null || day < firstDay)) firstDay = day;
        firstDay ??= run.From; // no day with events yet: start where this run started
        var lastRolled = cursor is not null && cursor.LastRolledDay > day ? cursor.LastRolledDay : day;
        await states.SetCursorAsync(new RollupCursor(firstDay.Value, lastRolled), cancellationToken).ConfigureAwait(false);
    }
}
