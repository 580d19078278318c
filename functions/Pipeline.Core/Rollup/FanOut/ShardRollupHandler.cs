using Pipeline.Core.Ports;

namespace Pipeline.Core.Rollup;

/// <summary>What one shard invocation did, for the host's log line.</summary>
public sealed record ShardRollupResult(string RunId, int Shard, int DaysRolled, long Events, bool Skipped);

/// <summary>
/// Rolls one user shard over every day of a run, in date order (the shard's windows chain from day
/// to day): first compact and read every day's events and decide which copies are duplicates
/// (<see cref="ShardDeduplicator"/>), then per day roll the rest with the shard's state of the day before,
/// save the shard's partial and state of the day, record the progress, and, when this shard was the
/// last of the day, put the day's finalise message on the queue. The progress it reads is its own
/// record and a record or two per day, never the whole run's (which grows with the shards).
/// </summary>
/// <remarks>
/// Idempotent and resumable: a redelivered or resumed message starts after the last day this shard
/// recorded, and a day rolled twice writes the same bytes (the engine and the de-duplication are
/// deterministic). Memory is one shard's users and sessions, its de-duplication window and the run's
/// new event ids, plus one day's encoded blocks at a time (decoded one block at a time, no event
/// objects). Each day's compacted file is read twice (scan, then roll) unless the run has one day.
/// </remarks>
public sealed class ShardRollupHandler(IEventStore events, IRollupStateStore states, IRollupRunStore runs, IRollupQueue queue, RollupEngine engine, IFoldedDayLedger folded)
{
    public async Task<ShardRollupResult> HandleAsync(RollupShardMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var run = await runs.GetAsync(message.RunId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Rollup run {message.RunId} does not exist.");
        if (message.Shard < 0 || message.Shard >= run.Shards)
            throw new InvalidOperationException($"Rollup run {run.RunId} has {run.Shards} shards; shard {message.Shard} is not one of them.");
        // Its own record only: a run ends only after every shard has rolled every day (its last day is then
        // run.To and the message is skipped below), so the run's whole progress would say nothing more.
        var done = await runs.GetShardDoneAsync(run.RunId, message.Shard, cancellationToken).ConfigureAwait(false);
        var day = done is { } last && last >= run.From ? last.AddDays(1) : run.From;
        if (day > run.To) return new ShardRollupResult(run.RunId, message.Shard, 0, 0, Skipped: true);

        var state = await LoadStateAsync(run, day, message.Shard, cancellationToken).ConfigureAwait(false);
        var days = new List<DateOnly>();
        for (var d = day; d <= run.To; d = d.AddDays(1)) days.Add(d);

        var (seen, decision, kept) = await DeduplicateAsync(run, message.Shard, days, cancellationToken).ConfigureAwait(false);

        var rolled = 0;
        long eventsRead = 0;
        for (var i = 0; i < days.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            day = days[i];
            // The compacted file again (a one-day run kept it from the scan): only the events the scan saw are counted.
            var blocks = kept ?? await events.ReadCompactedBlocksAsync(day, message.Shard, cancellationToken).ConfigureAwait(false);
            // Decoded and aggregated block by block: no event object, no list of the day.
            var result = engine.RollShard(day, blocks, state, decision.Dropped[day], seen[i]);
            var dayEvents = result.Partial.Events;

            await states.SavePartialAsync(day, message.Shard, ShardPartialCodec.Encode(result.Partial), cancellationToken).ConfigureAwait(false);
            await states.SaveShardStateAsync(day, message.Shard, WindowStateCodec.Encode(result.State), cancellationToken).ConfigureAwait(false);
            await runs.MarkShardDoneAsync(run.RunId, message.Shard, day, dayEvents, cancellationToken).ConfigureAwait(false);

            if (await IsLastToFinishAsync(run, day, cancellationToken).ConfigureAwait(false))
                await queue.EnqueueDayAsync(new RollupDayMessage(run.RunId, day), cancellationToken).ConfigureAwait(false);

            state = result.State;
            rolled++;
            eventsRead += dayEvents;
        }
        return new ShardRollupResult(run.RunId, message.Shard, rolled, eventsRead, Skipped: false);
    }

    /// <summary>
    /// Fan-in: the last shard to finish a day hands it to the finaliser, once the day before is finalised
    /// (otherwise the finaliser of the day before hands it on when it ends). Asked after this shard's record
    /// of the day is written, as the finaliser of the day before asks after its own: of the two, at least
    /// one sees the other's record. Two shards finishing at once may both hand the day on; the finaliser
    /// records each day once. At most two records read, whatever the number of shards.
    /// </summary>
    private async Task<bool> IsLastToFinishAsync(RollupRun run, DateOnly day, CancellationToken cancellationToken)
    {
        var finalised = await runs.GetFinalisedThroughAsync(run.RunId, cancellationToken).ConfigureAwait(false);
        if (day == run.From ? finalised is not null : finalised != day.AddDays(-1)) return false;
        return await runs.AllShardsDoneAsync(run, day, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Compacts and scans every day this invocation rolls, then decides their duplicates together (a retry
    /// stamped across midnight onto an earlier day must not beat the first copy received), and saves the
    /// drops, then the window. A kill between the two saves recomputes the same drops from the old window.
    /// </summary>
    /// <returns>Per day the events the scan saw (the roll counts those only), the decision, and the one day's blocks of a one-day run.</returns>
    private async Task<(long[] Seen, DedupDecision Decision, IReadOnlyList<ReadOnlyMemory<byte>>? Kept)> DeduplicateAsync(
        RollupRun run, int shard, List<DateOnly> days, CancellationToken cancellationToken)
    {
        var (windowBytes, windowVersion) = await states.LoadIdWindowAsync(shard, cancellationToken).ConfigureAwait(false);
        var window = windowBytes is null ? EventIdWindow.Empty : EventIdWindowCodec.Decode(windowBytes);
        var today = DateOnly.FromDateTime(run.CreatedAt.UtcDateTime);

        var scans = new List<DayScan>(days.Count);
        var unfinished = new List<DateOnly>();
        IReadOnlyList<ReadOnlyMemory<byte>>? kept = null;
        foreach (var day in days)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Fold the day's segments into the (day, shard)'s compacted file and read that file alone: one read
            // however many batches the day received, and positions that never change. A segment that lands
            // after the fold marks the day dirty again (after it is written), so the next run reads it. The
            // fold leaves deleting the folded segments and the Parquet copy to the sweeper's compactor.
            var (fold, blocks) = await events.FoldAndReadAsync(day, shard, cancellationToken).ConfigureAwait(false);
            if (fold.FinishPending) unfinished.Add(day);
            var previous = await states.LoadDuplicatesAsync(day, shard, cancellationToken).ConfigureAwait(false) is { } bytes
                ? DuplicateCopies.Decode(bytes)
                : DuplicateCopies.None;
            scans.Add(ShardDeduplicator.Scan(day, blocks, window, previous, today, expectedEvents: fold.EventsCompacted));
            if (days.Count == 1) kept = blocks;
        }

        if (unfinished.Count > 0) await folded.MarkAsync(unfinished, cancellationToken).ConfigureAwait(false);

        var decision = ShardDeduplicator.Decide(scans, window, today);
        foreach (var day in days)
            if (decision.NewlyDropped[day] > 0)
                await states.SaveDuplicatesAsync(day, shard, decision.Dropped[day].Encode(), cancellationToken).ConfigureAwait(false);
        if (decision.WindowChanged)
            await states.SaveIdWindowAsync(shard, EventIdWindowCodec.Encode(decision.Window), windowVersion, cancellationToken).ConfigureAwait(false);
        // The scans' candidates (tens of MB a shard-day at scale) are not kept through the roll: only their counts.
        return ([.. scans.Select(s => s.Events)], decision, kept);
    }

    /// <summary>The shard's state as of the end of the day before <paramref name="day"/>: the run's base state for its first day, else what this shard saved.</summary>
    private async Task<WindowState> LoadStateAsync(RollupRun run, DateOnly day, int shard, CancellationToken cancellationToken)
    {
        var before = day.AddDays(-1);
        if (day == run.From && run.BaseDay is null) return WindowState.Empty();
        var bytes = await states.LoadShardStateAsync(before, shard, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Rollup run {run.RunId}, shard {shard}: the shard's state of {before:yyyy-MM-dd} is missing; re-roll from the first day with events (rollup --from).");
        return WindowStateCodec.Decode(bytes);
    }
}
