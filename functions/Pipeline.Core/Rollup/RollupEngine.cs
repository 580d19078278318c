using System.Collections.Frozen;
using Pipeline.Core.Catalog;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Scenes;

namespace Pipeline.Core.Rollup;

/// <summary>The rows of one rolled-up day and the window state as of the end of it.</summary>
/// <param name="Day">The day rolled up.</param>
/// <param name="Rows">Every row of the day, sorted by metric, dimension, dimension value (ordinal).</param>
/// <param name="State">The window state as of the end of <paramref name="Day"/>, for the day after.</param>
/// <param name="EventsRead">How many events the day's shards held.</param>
public sealed record DayResult(DateOnly Day, IReadOnlyList<MetricRow> Rows, WindowState State, long EventsRead);

/// <summary>One user shard's rolled day: its partial for the finaliser and its window state as of the end of the day.</summary>
public sealed record ShardDayResult(ShardPartial Partial, WindowState State);

/// <summary>
/// Rolls one reporting day's accepted events up into the metric catalog (docs/metric-definitions.md), given the
/// window state of the day before. Pure: no I/O, no clock; the same events and state always give
/// the same rows.
/// </summary>
/// <remarks>
/// <para>Each user shard is rolled on its own (<see cref="RollShard"/>) into a mergeable
/// <see cref="ShardPartial"/> (distinct-user counts are additive because a user is in exactly one
/// shard) and its own window state; <see cref="FinaliseDay"/> merges the partials and writes the
/// rows. Orders are keyed by (merchantId, orderId), not by user: each shard proposes its earliest
/// <c>order_paid</c> per order and the finaliser keeps the earliest of all (time, then ordinal
/// event id), a mergeable minimum. The fan-out hosts call the two halves from separate queue
/// invocations; <see cref="RollUp"/> composes them in one process.</para>
/// <para>Percentiles are exact, nearest rank: the value at rank ceil(p/100 * n) in ascending order.</para>
/// <para>"All accepted history" is history up to and including the day rolled up: see
/// <see cref="WindowState"/>.</para>
/// </remarks>
public sealed class RollupEngine
{
    internal const string LoadSamples = "_load_ms";

    /// <summary>Metrics computed from ingest receipts rather than from events: written only when the caller passes the day's <see cref="IngestTotals"/>.</summary>
    public static IReadOnlySet<string> ReceiptMetricIds { get; } = new[] { "risk.rejected_event_rate" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The metric ids the engine writes rows of: the whole catalog (those of <see cref="ReceiptMetricIds"/> only when given receipts).</summary>
    public static IReadOnlySet<string> ComputedMetricIds { get; } = MetricCatalog.All.Select(m => m.Id).ToFrozenSet(StringComparer.Ordinal);

    private readonly SceneTable _scenes;
    private readonly double _commissionRate;
    private readonly DayFinaliser _finaliser;

    public RollupEngine(SceneTable scenes, double commissionRate)
    {
        ArgumentNullException.ThrowIfNull(scenes);
        if (!(commissionRate >= 0 && commissionRate <= 1)) throw new ArgumentOutOfRangeException(nameof(commissionRate), commissionRate, "The commission rate is a fraction between 0 and 1.");
        _scenes = scenes;
        _commissionRate = commissionRate;
        _finaliser = new DayFinaliser(commissionRate);
    }

    public RollupEngine(SceneTable scenes, PipelineOptions options) : this(scenes, (options ?? throw new ArgumentNullException(nameof(options))).CommissionRate) { }

    public SceneTable Scenes => _scenes;

    public double CommissionRate => _commissionRate;

    /// <summary>
    /// Rolls up <paramref name="day"/> in one process: the composition of <see cref="RollShard"/> for
    /// every shard and <see cref="FinaliseDay"/>, over one whole state. <paramref name="shards"/> are the
    /// day's events split by user shard (every event of a user in one list; events without a user,
    /// such as <c>mini_program_published</c>, may be in any). <paramref name="previous"/> is the state as
    /// of the end of the day before (or an earlier day, or empty); it is not modified.
    /// <paramref name="receipts"/> are the events received and rejected at ingest on the day (by
    /// receipt time), for <c>risk.rejected_event_rate</c>; without them that metric is not written.
    /// </summary>
    public DayResult RollUp(DateOnly day, IReadOnlyList<IReadOnlyList<PipelineEvent>> shards, WindowState previous, IngestTotals? receipts = null)
    {
        ArgumentNullException.ThrowIfNull(shards);
        CheckOrder(day, previous);
        var d = day.DayNumber;

        var rolled = new (ShardPartial Partial, ShardDelta Delta)[shards.Count];
        Parallel.For(0, shards.Count, i => rolled[i] = ShardDayRoller.Roll(shards[i], previous, _scenes, d));

        // The new state: previous + today's deltas, pruned; window counts over all users at once.
        var state = previous.Clone();
        state.AsOfDay = d;
        var partials = new List<ShardPartial>(shards.Count + 1);
        long eventsRead = 0;
        foreach (var (partial, delta) in rolled)
        {
            Apply(state, delta);
            partials.Add(partial);
            eventsRead += partial.Events;
        }
        ShardDayRoller.PruneSessions(state, d);
        var windows = new ShardPartial { Day = d };
        WindowCounts.Add(windows.Aggregate, state, day);
        partials.Add(windows);

        var rows = _finaliser.Finalise(day, partials, state, receipts);
        return new DayResult(day, rows, state, eventsRead);
    }

    /// <summary>
    /// Rolls one user shard's day: the shard's partial (including its users' window counts) and its
    /// window state as of the end of the day. <paramref name="previous"/> is the shard's state as of
    /// the end of an earlier day (users, per-mini-program users and sessions of this shard only); it is
    /// not modified.
    /// </summary>
    public ShardDayResult RollShard(DateOnly day, IReadOnlyList<PipelineEvent> events, WindowState previous)
    {
        ArgumentNullException.ThrowIfNull(events);
        CheckOrder(day, previous);
        var d = day.DayNumber;
        var (partial, delta) = ShardDayRoller.Roll(events, previous, _scenes, d);
        var state = previous.Clone();
        state.AsOfDay = d;
        Apply(state, delta);
        ShardDayRoller.PruneSessions(state, d);
        WindowCounts.Add(partial.Aggregate, state, day);
        return new ShardDayResult(partial, state);
    }

    /// <summary>
    /// Rolls one user shard's day straight from the event store's blocks (<see cref="EventBlockCodec"/>
    /// format, in the order they are read): the same partial and state as
    /// <see cref="RollShard(DateOnly, IReadOnlyList{PipelineEvent}, WindowState)"/> over the blocks' events in
    /// that order, without materialising them (see <see cref="BlockShardRoller"/>). The blocks are read
    /// one at a time and not kept.
    /// </summary>
    /// <param name="duplicates">Copies not to count (their positions among the blocks' events), as <see cref="ShardDeduplicator"/> found them; null: none.</param>
    /// <param name="limit">Count only the events at positions below it (those the de-duplication scanned).</param>
    /// <exception cref="InvalidDataException">A block is not a valid event block.</exception>
    public ShardDayResult RollShard(DateOnly day, IEnumerable<ReadOnlyMemory<byte>> blocks, WindowState previous, DuplicateCopies? duplicates = null, long limit = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        CheckOrder(day, previous);
        var d = day.DayNumber;
        var state = previous.Clone();
        state.AsOfDay = d;
        // The roll sets the day's users, pairs and sessions in the new state itself: no delta to apply.
        var (partial, _) = BlockShardRoller.Roll(blocks, previous, _scenes, d, duplicates?.Positions.ToArray(), limit, into: state);
        ShardDayRoller.PruneSessions(state, d);
        WindowCounts.Add(partial.Aggregate, state, day);
        return new ShardDayResult(partial, state);
    }

    /// <summary>
    /// Finalises <paramref name="day"/> from every shard's partial (in shard order) and the ledger state
    /// (orders, buyers, mini-program registry) as of the end of an earlier day, which is not modified.
    /// The result's <see cref="DayResult.State"/> is the ledger as of the end of the day.
    /// </summary>
    public DayResult FinaliseDay(DateOnly day, IReadOnlyList<ShardPartial> partials, WindowState previousLedger, IngestTotals? receipts = null)
    {
        ArgumentNullException.ThrowIfNull(partials);
        CheckOrder(day, previousLedger);
        var ledger = previousLedger.Clone();
        ledger.AsOfDay = day.DayNumber;
        var rows = _finaliser.Finalise(day, partials, ledger, receipts);
        long events = 0;
        foreach (var p in partials) events += p.Events;
        return new DayResult(day, rows, ledger, events);
    }

    /// <summary>
    /// Starts finalising <paramref name="day"/>, for a host that feeds the shards' partials one at a time
    /// (<see cref="DayFinaliser.DayClose.Fold"/>, in shard order) and settles the ledger part by part
    /// (<see cref="DayFinaliser.DayClose"/>): orders and buyers in <paramref name="partitions"/> partitions
    /// each, then the registry, then the rows.
    /// </summary>
    internal DayFinaliser.DayClose BeginFinalise(DateOnly day, int partitions) => _finaliser.Begin(day, partitions);

    private static void CheckOrder(DateOnly day, WindowState previous)
    {
        ArgumentNullException.ThrowIfNull(previous);
        if (previous.AsOfDay is { } asOf && asOf >= day.DayNumber)
            throw new ArgumentException($"The window state is as of {DateOnly.FromDayNumber(asOf):yyyy-MM-dd}; rolling up {day:yyyy-MM-dd} needs the state of an earlier day.", nameof(previous));
    }

    /// <summary>Room for <paramref name="more"/> entries, growing at least twofold (one rehash instead of several).</summary>
    internal static void Reserve<TKey, TValue>(Dictionary<TKey, TValue> map, int more) where TKey : notnull
    {
        var capacity = map.EnsureCapacity(0);
        var needed = map.Count + more;
        if (needed > capacity) map.EnsureCapacity(Math.Max(needed, capacity * 2));
    }

    private static void Apply(WindowState state, ShardDelta delta)
    {
        Reserve(state.Users, delta.Users.Count);
        Reserve(state.UserPrograms, delta.UserPrograms.Count);
        Reserve(state.Sessions, delta.Sessions.Count);
        foreach (var kv in delta.Users) state.Users[kv.Key] = kv.Value;
        foreach (var kv in delta.UserPrograms) state.UserPrograms[kv.Key] = kv.Value;
        foreach (var kv in delta.Sessions) state.Sessions[kv.Key] = kv.Value;
    }
}
