using Pipeline.Core.Ports;

namespace Pipeline.Core.Rollup;

/// <summary>
/// One rollup run: the days it rolls (in order), over how many user shards, from which saved
/// state, and which dirty marks it clears when each day is finalised.
/// </summary>
/// <param name="RunId">Time-ordered id (a version-7 GUID without dashes), also stamped on every row written.</param>
/// <param name="From">First day rolled.</param>
/// <param name="To">Last day rolled.</param>
/// <param name="Shards">User shards (<see cref="PipelineOptions.EventStoreShards"/> when planned).</param>
/// <param name="BaseDay">The day whose saved state the run starts from (<see cref="From"/> - 1), or null to start from empty state.</param>
/// <param name="Marks">The dirty marks seen when planning; a day's mark is cleared at this version when the day is finalised, so a mark made meanwhile survives.</param>
/// <param name="Trigger">Who asked: <c>schedule</c>, <c>on-demand</c> or <c>range</c>.</param>
/// <param name="CreatedAt">When it was planned.</param>
public sealed record RollupRun(
    string RunId, DateOnly From, DateOnly To, int Shards, DateOnly? BaseDay, IReadOnlyList<DirtyDay> Marks, string Trigger, DateTimeOffset CreatedAt)
{
    public int DayCount => To.DayNumber - From.DayNumber + 1;

    public IEnumerable<DateOnly> Days()
    {
        for (var d = From; d <= To; d = d.AddDays(1)) yield return d;
    }
}

/// <summary>Rolls one user shard over every day of a run, in date order.</summary>
public sealed record RollupShardMessage(string RunId, int Shard);

/// <summary>Finalises one day of a run.</summary>
public sealed record RollupDayMessage(string RunId, DateOnly Day);

/// <summary>What finalising one day produced.</summary>
public sealed record DayOutcome(DateOnly Day, int Rows, long Events, DateTimeOffset FinalisedAt);

/// <summary>A run's progress: per shard the last day rolled, and the days finalised.</summary>
/// <param name="Run">The run.</param>
/// <param name="ShardDone">Per shard (index), the last day it rolled; null when it has rolled none yet.</param>
/// <param name="Finalised">The days finalised, in order.</param>
/// <param name="Completed">When the run ended; null while it is in flight.</param>
/// <param name="LastActivity">The latest time any shard or finaliser recorded progress (or the run's creation).</param>
public sealed record RollupProgress(
    RollupRun Run, IReadOnlyList<DateOnly?> ShardDone, IReadOnlyList<DayOutcome> Finalised, DateTimeOffset? Completed, DateTimeOffset LastActivity)
{
    public DateOnly? FinalisedThrough => Finalised.Count == 0 ? null : Finalised[^1].Day;

    /// <summary>Shards that have rolled every day of the run.</summary>
    public int ShardsFinished => ShardDone.Count(d => d >= Run.To);

    /// <summary>Whether every shard has rolled <paramref name="day"/>.</summary>
    public bool AllShardsDone(DateOnly day) => ShardDone.All(d => d >= day);

    /// <summary>Shard-days rolled so far, out of <see cref="RollupRun.Shards"/> x days.</summary>
    public long ShardDaysDone => ShardDone.Sum(d => d is { } x ? x.DayNumber - Run.From.DayNumber + 1L : 0L);

    public long EventsFinalised => Finalised.Sum(f => f.Events);

    /// <summary>One line for logs and the CLI.</summary>
    public override string ToString() =>
        $"run {Run.RunId} {Run.From:yyyy-MM-dd}..{Run.To:yyyy-MM-dd} ({Run.Trigger}): shards {ShardsFinished}/{Run.Shards} done, " +
        $"days {Finalised.Count}/{Run.DayCount} finalised, {EventsFinalised:N0} events" + (Completed is null ? "" : ", completed");
}
