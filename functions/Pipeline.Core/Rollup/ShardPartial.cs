namespace Pipeline.Core.Rollup;

/// <summary>
/// What one user shard contributes to one reporting day: counters and samples (which add up
/// across shards, because every user is in exactly one shard), the shard's candidates for the
/// day's paid orders, and its <c>mini_program_published</c> events. The finaliser of the day merges
/// the partials of every shard (<see cref="DayFinaliser"/>).
/// </summary>
public sealed class ShardPartial
{
    /// <summary>The day (<see cref="DateOnly.DayNumber"/>).</summary>
    public int Day { get; init; }

    /// <summary>Events the shard held on the day.</summary>
    public long Events { get; set; }

    public DayAggregate Aggregate { get; } = new();

    /// <summary>The shard's earliest <c>order_paid</c> of each order on the day.</summary>
    public List<OrderCandidate> Orders { get; } = [];

    public List<PublishEvent> Publishes { get; } = [];
}
