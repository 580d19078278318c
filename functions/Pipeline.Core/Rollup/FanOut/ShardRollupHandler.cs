using Pipeline.Core.Ports;

namespace Pipeline.Core.Rollup;

/// <summary>What one shard invocation did, for the host's log line.</summary>
public sealed record ShardRollupResult(string RunId, int Shard, int DaysRolled, long Events, bool Skipped);

/// <summary>
/// Rolls one user shard over every day of a run, in date order (the shard's windows chain from day
/// to day): per day, compact the shard's event segments and read them, roll them with the shard's state of the day before,
/// save the shard's partial and state of the day, record the progress, and, when this shard was the
/// last of the day, put the day's finalise message on the queue.
/// </summary>
/// <remarks>
/// Idempotent and resumable: a redelivered or resumed message starts after the last day this shard
/// recorded, and a day rolled twice writes the same bytes (the engine is deterministic). Memory is
/// one shard's users and sessions plus the day's encoded blocks (decoded one at a time, no event
/// objects).
/// </remarks>
public sealed class ShardRollupHandler(IEventStore events, IRollupStateStore states, IRollupRunStore runs, IRollupQueue queue, RollupEngine engine)
{
    public async Task<ShardRollupResult> HandleAsync(RollupShardMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var run = await runs.GetAsync(message.RunId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Rollup run {message.RunId} does not exist.");
        if (message.Shard < 0 || message.Shard >= run.Shards)
            throw new InvalidOperationException($"Rollup run {run.RunId} has {run.Shards} shards; shard {message.Shard} is not one of them.");
        var progress = await runs.GetProgressAsync(run, cancellationToken).ConfigureAwait(false);
        if (progress.Completed is not null) return new ShardRollupResult(run.RunId, message.Shard, 0, 0, Skipped: true);

        var done = progress.ShardDone[message.Shard];
        var day = done is { } last && last >= run.From ? last.AddDays(1) : run.From;
        if (day > run.To) return new ShardRollupResult(run.RunId, message.Shard, 0, 0, Skipped: true);

        var state = await LoadStateAsync(run, day, message.Shard, cancellationToken).ConfigureAwait(false);
        var rolled = 0;
        long eventsRead = 0;
        for (; day <= run.To; day = day.AddDays(1))
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Fold the day's segments into the (day, shard)'s compacted file first: the read is then one file
            // (plus any segment that lands meanwhile), however many batches the day received.
            await events.CompactAsync(day, message.Shard, cancellationToken).ConfigureAwait(false);
            // Decoded and aggregated block by block: no event object, no list of the day.
            var blocks = await events.ReadBlocksAsync(day, message.Shard, cancellationToken).ConfigureAwait(false);
            var result = engine.RollShard(day, blocks, state);
            var dayEvents = result.Partial.Events;

            await states.SavePartialAsync(day, message.Shard, ShardPartialCodec.Encode(result.Partial), cancellationToken).ConfigureAwait(false);
            await states.SaveShardStateAsync(day, message.Shard, WindowStateCodec.Encode(result.State), cancellationToken).ConfigureAwait(false);
            await runs.MarkShardDoneAsync(run.RunId, message.Shard, day, dayEvents, cancellationToken).ConfigureAwait(false);

            // Fan-in: the last shard to finish a day hands it to the finaliser, once the day before is finalised
            // (otherwise the finaliser of the day before hands it on when it ends).
            var now = await runs.GetProgressAsync(run, cancellationToken).ConfigureAwait(false);
            if (now.AllShardsDone(day) && (day == run.From ? now.FinalisedThrough is null : now.FinalisedThrough == day.AddDays(-1)))
                await queue.EnqueueDayAsync(new RollupDayMessage(run.RunId, day), cancellationToken).ConfigureAwait(false);

            state = result.State;
            rolled++;
            eventsRead += dayEvents;
        }
        return new ShardRollupResult(run.RunId, message.Shard, rolled, eventsRead, Skipped: false);
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
