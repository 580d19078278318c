using Pipeline.Core.Ports;
using Pipeline.Core.Time;

namespace Pipeline.Core.Rollup;

/// <summary>How a request for a rollup run ended.</summary>
public enum PlanOutcome
{
    /// <summary>Nothing to roll up.</summary>
    Nothing,
    /// <summary>A new run was started: its shard messages are on the queue.</summary>
    Started,
    /// <summary>Another run is in flight and making progress; this request did nothing (its days stay dirty for the next run).</summary>
    InFlight,
    /// <summary>The run in flight had made no progress for <see cref="RollupOptions.StallAfter"/>: its unfinished shards and next day were put on the queue again.</summary>
    Resumed,
}

/// <summary>The answer to a request for a run: what happened, and the run concerned (null for <see cref="PlanOutcome.Nothing"/>).</summary>
public sealed record RollupPlan(PlanOutcome Outcome, RollupRun? Run);

/// <summary>Settings of the fan-out rollup (section <c>Rollup</c>).</summary>
public sealed class RollupOptions
{
    public const string Section = "Rollup";

    /// <summary>A run in flight with no progress for this long is taken as stalled (a lost message or a poisoned shard): the next request resumes it.</summary>
    public TimeSpan StallAfter { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>
/// Plans rollup runs: decides which days to roll, records the run, and fans it out as one queue
/// message per user shard. The timer (and <c>rollup</c> on demand) calls it; the work itself is
/// done by <see cref="ShardRollupHandler"/> and <see cref="DayFinaliseHandler"/> on the queues.
/// </summary>
/// <remarks>
/// At most one run is in flight. A request while one is in flight does nothing unless that run has
/// stalled, in which case its unfinished shard messages (and the next day's finalise message, when
/// its shards are all done) are enqueued again: every handler is idempotent, so a duplicate of a
/// message that was only slow is harmless. Days that became dirty meanwhile stay dirty for the
/// next run.
/// </remarks>
public sealed class RollupPlanner(
    IDirtyDayLedger ledger,
    IRollupStateStore states,
    IRollupRunStore runs,
    IRollupQueue queue,
    ReportingCalendar calendar,
    PipelineOptions options,
    RollupOptions rollupOptions,
    TimeProvider time)
{
    /// <summary>
    /// The scheduled run: every day from M through max(latest dirty day, yesterday in the reporting
    /// time zone), where M is the earliest dirty day or the day after the last one rolled (whichever
    /// is earlier, so no day is ever skipped). Days before the first day that ever had events are
    /// never rolled: with no dirty day and no cursor there is nothing to do.
    /// </summary>
    public async Task<RollupPlan> PlanDueAsync(string trigger, CancellationToken cancellationToken)
    {
        if (await ResumeOrReportAsync(cancellationToken).ConfigureAwait(false) is { } busy) return busy;
        var dirty = await ledger.ListAsync(cancellationToken).ConfigureAwait(false);
        var cursor = await states.GetCursorAsync(cancellationToken).ConfigureAwait(false);
        if (dirty.Count == 0 && cursor is null) return new RollupPlan(PlanOutcome.Nothing, null);

        var yesterday = calendar.DayOf(time.GetUtcNow()).AddDays(-1);
        DateOnly? minDirty = null, maxDirty = null;
        foreach (var d in dirty)
        {
            if (minDirty is null || d.Day < minDirty) minDirty = d.Day;
            if (maxDirty is null || d.Day > maxDirty) maxDirty = d.Day;
        }

        DateOnly from;
        if (cursor is null) from = minDirty!.Value;
        else
        {
            from = cursor.LastRolledDay.AddDays(1);
            if (minDirty is { } m && m < from) from = m;
            // Before the first day with events there is nothing to report (unless a late event made an earlier day dirty).
            var first = minDirty is { } md && md < cursor.FirstDay ? md : cursor.FirstDay;
            if (from < first) from = first;
        }
        var to = maxDirty is { } mx && mx > yesterday ? mx : yesterday;
        if (to < from) return new RollupPlan(PlanOutcome.Nothing, null);
        return await StartAsync(from, to, dirty, cursor, trigger, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// On demand: re-rolls from <paramref name="from"/> (starting from the saved state of the day
    /// before) through <paramref name="to"/>; when <paramref name="to"/> is before the last day
    /// already rolled, through that day, since every later day's windows depend on the days re-rolled.
    /// </summary>
    public async Task<RollupPlan> PlanRangeAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        if (to < from) throw new ArgumentException($"The range {from:yyyy-MM-dd}..{to:yyyy-MM-dd} is empty.", nameof(to));
        if (await ResumeOrReportAsync(cancellationToken).ConfigureAwait(false) is { } busy) return busy;
        var dirty = await ledger.ListAsync(cancellationToken).ConfigureAwait(false);
        var cursor = await states.GetCursorAsync(cancellationToken).ConfigureAwait(false);
        if (cursor is not null && cursor.LastRolledDay > to) to = cursor.LastRolledDay;
        return await StartAsync(from, to, dirty, cursor, "range", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Null when no run is in flight; otherwise the in-flight outcome (resuming the run first when it has stalled).</summary>
    private async Task<RollupPlan?> ResumeOrReportAsync(CancellationToken cancellationToken)
    {
        var active = await runs.GetActiveAsync(cancellationToken).ConfigureAwait(false);
        if (active is null) return null;
        var progress = await runs.GetProgressAsync(active, cancellationToken).ConfigureAwait(false);
        if (progress.Completed is not null)
        {
            await runs.CompleteAsync(active.RunId, cancellationToken).ConfigureAwait(false);
            return null;
        }
        if (time.GetUtcNow() - progress.LastActivity < rollupOptions.StallAfter)
            return new RollupPlan(PlanOutcome.InFlight, active);

        for (var shard = 0; shard < active.Shards; shard++)
            if (!(progress.ShardDone[shard] >= active.To))
                await queue.EnqueueShardAsync(new RollupShardMessage(active.RunId, shard), cancellationToken).ConfigureAwait(false);
        var next = progress.FinalisedThrough is { } f ? f.AddDays(1) : active.From;
        if (next <= active.To && progress.AllShardsDone(next))
            await queue.EnqueueDayAsync(new RollupDayMessage(active.RunId, next), cancellationToken).ConfigureAwait(false);
        return new RollupPlan(PlanOutcome.Resumed, active);
    }

    private async Task<RollupPlan> StartAsync(DateOnly from, DateOnly to, IReadOnlyList<DirtyDay> dirty, RollupCursor? cursor, string trigger, CancellationToken cancellationToken)
    {
        // The state before the run: that of the day before it, unless that day is before the first day with events.
        var before = from.AddDays(-1);
        DateOnly? baseDay = cursor is null || before < cursor.FirstDay ? null : before;
        if (baseDay is { } b && cursor is not null && await states.LoadLedgerPartAsync(b, LedgerParts.Registry, cancellationToken).ConfigureAwait(false) is null)
        {
            // The saved state of the day before is gone (deleted, expired, or written by an older layout):
            // starting from empty state would make every user look new, so roll from the first day with events.
            from = cursor.FirstDay;
            baseDay = null;
        }
        var marks = dirty.Where(d => d.Day >= from && d.Day <= to).OrderBy(d => d.Day).ToList();
        var now = time.GetUtcNow();
        var run = new RollupRun(Guid.CreateVersion7(now).ToString("N"), from, to, Math.Max(1, options.EventStoreShards), baseDay, marks, trigger, now);

        var (started, active) = await runs.TryStartAsync(run, cancellationToken).ConfigureAwait(false);
        if (!started) return new RollupPlan(PlanOutcome.InFlight, active);
        for (var shard = 0; shard < run.Shards; shard++)
            await queue.EnqueueShardAsync(new RollupShardMessage(run.RunId, shard), cancellationToken).ConfigureAwait(false);
        return new RollupPlan(PlanOutcome.Started, run);
    }
}
