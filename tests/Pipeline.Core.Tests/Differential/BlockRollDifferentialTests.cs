using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;

namespace Pipeline.Core.Tests.Differential;

/// <summary>
/// The streaming roll from encoded blocks (<see cref="RollupEngine.RollShard(DateOnly, IEnumerable{ReadOnlyMemory{byte}}, WindowState)"/>)
/// against the roll from decoded events, on the 200 datasets of <see cref="DifferentialTests"/>: every day in order,
/// 1..8 user shards each carrying its own window state, each shard's events shuffled and encoded into several blocks
/// of random sizes (so every block has its own string dictionary to remap). For every shard and day the two paths'
/// partials and states must encode to the same bytes (<see cref="ShardPartialCodec"/>, <see cref="WindowStateCodec"/>:
/// both sort, so this is equality of content), and the day finalised from the streaming partials must equal the
/// reference's rows.
/// </summary>
public sealed class BlockRollDifferentialTests
{
    public static IEnumerable<object[]> Seeds => DifferentialTests.Seeds;

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Streaming_roll_equals_event_roll_and_reference(int seed)
    {
        var ds = DatasetGenerator.Generate(seed);
        var engine = new RollupEngine(SceneTable.Default, ds.CommissionRate);
        var reference = new ReferenceRollup(ds.Events, ds.Receipts, SceneTable.Default, ds.CommissionRate);
        var rng = new Random(seed * 104_729 + 3);
        var byDay = EngineDriver.ByDay(ds.Events);
        var shardCount = rng.Next(1, 9);
        var states = Enumerable.Range(0, shardCount).Select(_ => WindowState.Empty()).ToArray();
        var ledger = WindowState.Empty();
        var failures = new List<string>();

        for (var day = ds.FirstDay; day <= ds.LastDay; day = day.AddDays(1))
        {
            var shards = EngineDriver.Shard(byDay.TryGetValue(day, out var l) ? l : [], shardCount, rng);
            var partials = new List<ShardPartial>(shardCount);
            for (var s = 0; s < shardCount; s++)
            {
                var events = shards[s];
                var blocks = Blocks(events, rng);
                var fromEvents = engine.RollShard(day, events, states[s]);
                var fromBlocks = engine.RollShard(day, blocks, states[s]);
                if (!ShardPartialCodec.Encode(fromEvents.Partial).AsSpan().SequenceEqual(ShardPartialCodec.Encode(fromBlocks.Partial)))
                    failures.Add($"seed {seed}, {day:yyyy-MM-dd}, shard {s} of {shardCount} ({events.Count} events in {blocks.Count} blocks): the partials differ: {PartialDiff(fromEvents.Partial, fromBlocks.Partial)}");
                if (!WindowStateCodec.Encode(fromEvents.State).AsSpan().SequenceEqual(WindowStateCodec.Encode(fromBlocks.State)))
                    failures.Add($"seed {seed}, {day:yyyy-MM-dd}, shard {s} of {shardCount}: the states differ");
                states[s] = fromBlocks.State;
                partials.Add(fromBlocks.Partial);
            }
            var finalised = engine.FinaliseDay(day, partials, ledger, ds.Receipts.GetValueOrDefault(day));
            ledger = finalised.State;
            var diff = RowDiff.Diff(reference.RowsOf(day), finalised.Rows, "reference", "streaming");
            if (diff.Count > 0) failures.Add(RowDiff.Report(ds, day, "streaming roll vs reference", diff));
            if (failures.Count > 0) break;
        }
        if (failures.Count > 0) Assert.Fail(string.Join("\n", failures.Take(3)));
    }

    /// <summary>The events (in their order) as blocks of random sizes, now and then an empty one.</summary>
    internal static List<ReadOnlyMemory<byte>> Blocks(IReadOnlyList<PipelineEvent> events, Random rng)
    {
        var blocks = new List<ReadOnlyMemory<byte>>();
        var i = 0;
        while (i < events.Count)
        {
            var n = Math.Min(events.Count - i, rng.Next(4) == 0 ? rng.Next(1, 4) : rng.Next(1, 120));
            blocks.Add(EventBlockCodec.Encode(events.Skip(i).Take(n).ToList()));
            i += n;
            if (rng.Next(10) == 0) blocks.Add(EventBlockCodec.Encode([]));
        }
        return blocks;
    }

    private static string PartialDiff(ShardPartial a, ShardPartial b)
    {
        var lines = new List<string>();
        foreach (var (k, v) in a.Aggregate.Counters)
            if (!b.Aggregate.Counters.TryGetValue(k, out var w)) lines.Add($"missing {k}={v}");
            else if (v != w) lines.Add($"{k}: {v} vs {w}");
        foreach (var (k, v) in b.Aggregate.Counters)
            if (!a.Aggregate.Counters.ContainsKey(k)) lines.Add($"extra {k}={v}");
        foreach (var (k, v) in a.Aggregate.Samples)
            if (!b.Aggregate.Samples.TryGetValue(k, out var w) || !v.SequenceEqual(w)) lines.Add($"samples {k} differ");
        if (a.Aggregate.Samples.Count != b.Aggregate.Samples.Count) lines.Add("sample keys differ");
        if (!a.Orders.ToHashSet().SetEquals(b.Orders)) lines.Add("orders differ: " + string.Join("; ", a.Orders.Except(b.Orders).Take(2)) + " vs " + string.Join("; ", b.Orders.Except(a.Orders).Take(2)));
        if (!a.Publishes.SequenceEqual(b.Publishes)) lines.Add("publishes differ");
        if (a.Events != b.Events) lines.Add($"events {a.Events} vs {b.Events}");
        return string.Join("; ", lines.Take(10));
    }
}
