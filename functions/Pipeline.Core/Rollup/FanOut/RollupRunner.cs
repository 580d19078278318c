using Pipeline.Core.Ports;

namespace Pipeline.Core.Rollup;

/// <summary>What a rollup run did.</summary>
/// <param name="Plan">How the request ended (started, in flight, resumed, nothing to do).</param>
/// <param name="DaysRolled">The days finalised, in order.</param>
/// <param name="RowsWritten">Rows written per day finalised.</param>
/// <param name="EventsRead">Events read over all days.</param>
/// <param name="Elapsed">Wall-clock time from the request to the end of the wait.</param>
public sealed record RollupReport(RollupPlan Plan, IReadOnlyList<DateOnly> DaysRolled, IReadOnlyDictionary<DateOnly, int> RowsWritten, long EventsRead, TimeSpan Elapsed)
{
    public static RollupReport Of(RollupPlan plan, RollupProgress? progress, TimeSpan elapsed)
    {
        var finalised = progress?.Finalised ?? [];
        return new RollupReport(plan, finalised.Select(f => f.Day).ToList(), finalised.ToDictionary(f => f.Day, f => f.Rows), finalised.Sum(f => f.Events), elapsed);
    }

    /// <summary>One line for logs and the CLI.</summary>
    public override string ToString() => Plan.Outcome switch
    {
        PlanOutcome.Nothing => $"nothing to roll up ({Elapsed.TotalSeconds:0.0} s)",
        PlanOutcome.InFlight => $"run {Plan.Run!.RunId} ({Plan.Run.From:yyyy-MM-dd}..{Plan.Run.To:yyyy-MM-dd}) is in flight; nothing started (its progress: rollup --status)",
        _ when DaysRolled.Count == 0 => $"run {Plan.Run!.RunId}: no day finalised yet ({Elapsed.TotalSeconds:0.0} s)",
        _ => $"rolled up {DaysRolled.Count} day(s) {DaysRolled[0]:yyyy-MM-dd}..{DaysRolled[^1]:yyyy-MM-dd}: {EventsRead:N0} events read, {RowsWritten.Values.Sum():N0} rows written in {Elapsed.TotalSeconds:0.0} s",
    };
}

/// <summary>
/// Asks for a rollup run and waits for it: the timer entry and the CLI's <c>rollup</c>. The run
/// itself is done by whoever listens on the rollup queues (the Functions app, every <c>serve</c>, or
/// the CLI's own listeners while it waits).
/// </summary>
public sealed class RollupRunner(RollupPlanner planner, IRollupRunStore runs, TimeProvider time)
{
    /// <summary>How often <see cref="WaitAsync"/> looks at the run's progress.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Plans the scheduled run and waits for it (see <see cref="RollupPlanner.PlanDueAsync"/>).</summary>
    public async Task<RollupReport> RunDueAsync(CancellationToken cancellationToken, IProgress<RollupProgress>? progress = null)
    {
        var started = time.GetTimestamp();
        var plan = await planner.PlanDueAsync("on-demand", cancellationToken).ConfigureAwait(false);
        return await WaitForAsync(plan, started, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Plans a re-roll of a range and waits for it (see <see cref="RollupPlanner.PlanRangeAsync"/>).</summary>
    public async Task<RollupReport> RunRangeAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken, IProgress<RollupProgress>? progress = null)
    {
        var started = time.GetTimestamp();
        var plan = await planner.PlanRangeAsync(from, to, cancellationToken).ConfigureAwait(false);
        return await WaitForAsync(plan, started, progress, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RollupReport> WaitForAsync(RollupPlan plan, long started, IProgress<RollupProgress>? progress, CancellationToken cancellationToken)
    {
        if (plan.Run is null || plan.Outcome == PlanOutcome.InFlight) return RollupReport.Of(plan, null, time.GetElapsedTime(started));
        var final = await WaitAsync(plan.Run, progress, cancellationToken).ConfigureAwait(false);
        return RollupReport.Of(plan, final, time.GetElapsedTime(started));
    }

    /// <summary>How long <see cref="WaitAsync"/> keeps waiting while storage cannot tell the run's progress.</summary>
    public TimeSpan UnreadableProgressLimit { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Waits until <paramref name="run"/> has completed, reporting its progress at each look. With
    /// <paramref name="stallAfter"/>, gives up with <see cref="RollupStalledException"/> once the run has
    /// made no progress for that long (a lost or poisoned message: the caller may resume it).
    /// </summary>
    /// <remarks>
    /// A progress read that fails (storage busy or briefly unreachable) is not the run failing: the run's
    /// messages are retried by the queues whatever the waiter does. So the waiter backs off and looks again,
    /// and gives up (rethrowing) only when progress has been unreadable for <see cref="UnreadableProgressLimit"/>.
    /// Measured: a 1,000,000-event day on a loaded 2-core machine made Azurite time out a progress read
    /// while the finaliser wrote the day's rows, and the CLI used to end there with the run still going.
    /// </remarks>
    public async Task<RollupProgress> WaitAsync(RollupRun run, IProgress<RollupProgress>? progress, CancellationToken cancellationToken, TimeSpan? stallAfter = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        DateTimeOffset? unreadableSince = null;
        var delay = PollInterval;
        while (true)
        {
            RollupProgress now;
            try
            {
                now = await runs.GetProgressAsync(run, cancellationToken).ConfigureAwait(false);
                unreadableSince = null;
                delay = PollInterval;
            }
            catch (StorageUnavailableException) when (!cancellationToken.IsCancellationRequested)
            {
                unreadableSince ??= time.GetUtcNow();
                if (time.GetUtcNow() - unreadableSince > UnreadableProgressLimit) throw;
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                continue;
            }
            progress?.Report(now);
            if (now.Completed is not null) return now;
            if (stallAfter is { } limit && time.GetUtcNow() - now.LastActivity > limit) throw new RollupStalledException(now);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false); // pacing of storage reads: wall time, whatever clock the domain runs on
        }
    }
}

/// <summary>A run made no progress for longer than the caller would wait.</summary>
public sealed class RollupStalledException(RollupProgress progress)
    : Exception($"{progress} has made no progress since {progress.LastActivity:u}: shards behind: " +
        string.Join(", ", Enumerable.Range(0, progress.Run.Shards).Where(s => !(progress.ShardDone[s] >= progress.Run.To))) +
        ". A message may be on rollup-shards-poison or rollup-days-poison; rollup --status shows the run.")
{
    public RollupProgress Progress { get; } = progress;
}
