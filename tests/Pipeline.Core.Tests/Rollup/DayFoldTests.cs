using System.Runtime.CompilerServices;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;
using Pipeline.Core.Tests.Differential;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// The finaliser's streaming merge: partials are folded into the day one at a time and not kept, and the
/// rows do not depend on the order they are folded in.
/// </summary>
public sealed class DayFoldTests
{
    private static readonly DateOnly Day = new(2026, 11, 24);

    [Theory]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(42)]
    public void Folding_the_partials_in_any_order_gives_the_rows_of_shard_order(int seed)
    {
        var ds = DatasetGenerator.Generate(seed);
        var engine = new RollupEngine(SceneTable.Default, ds.CommissionRate);
        var rng = new Random(seed);
        var byDay = EngineDriver.ByDay(ds.Events);
        const int shardCount = 8;
        var states = Enumerable.Range(0, shardCount).Select(_ => WindowState.Empty()).ToArray();
        var ledger = WindowState.Empty();
        var days = 0;
        for (var day = ds.FirstDay; day <= ds.LastDay; day = day.AddDays(1))
        {
            var shards = EngineDriver.Shard(byDay.TryGetValue(day, out var l) ? l : [], shardCount, rng);
            var partials = new List<ShardPartial>(shardCount);
            for (var s = 0; s < shardCount; s++)
            {
                var rolled = engine.RollShard(day, shards[s], states[s]);
                states[s] = rolled.State;
                partials.Add(rolled.Partial);
            }
            var inShardOrder = engine.FinaliseDay(day, partials, ledger, ds.Receipts.GetValueOrDefault(day));
            var shuffled = partials.OrderBy(_ => rng.Next()).ToList();
            var inAnyOrder = engine.FinaliseDay(day, shuffled, ledger, ds.Receipts.GetValueOrDefault(day));

            Assert.Equal(inShardOrder.Rows, inAnyOrder.Rows);
            Assert.Equal(WindowStateCodec.Encode(inShardOrder.State), WindowStateCodec.Encode(inAnyOrder.State));
            ledger = inShardOrder.State;
            days++;
        }
        Assert.True(days > 1);
    }

    [Fact]
    public void A_folded_partial_is_not_kept_by_the_day()
    {
        var close = new RollupEngine(SceneTable.Default, 0.05).BeginFinalise(Day, partitions: 2);

        var folded = FoldOne(close);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(folded.TryGetTarget(out _));
        Assert.Equal(3, close.Events); // what it contributed is in the day
    }

    /// <summary>Folds a partial no one else references; not inlined, so that no local of the test keeps it alive.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference<ShardPartial> FoldOne(DayFinaliser.DayClose close)
    {
        var partial = new ShardPartial { Day = Day.DayNumber, Events = 3 };
        partial.Aggregate.AddTotal("users.dau", 2);
        partial.Aggregate.AddSample(RollupEngine.LoadSamples, "total", "", 120);
        close.Fold(partial);
        return new WeakReference<ShardPartial>(partial);
    }

    [Fact]
    public void A_partial_of_another_day_or_folded_after_settling_is_refused()
    {
        var close = new RollupEngine(SceneTable.Default, 0.05).BeginFinalise(Day, partitions: 1);

        Assert.Throws<ArgumentException>(() => close.Fold(new ShardPartial { Day = Day.DayNumber - 1 }));
        close.Fold(new ShardPartial { Day = Day.DayNumber });
        close.SettleOrders(0, WindowState.Empty());
        Assert.Throws<InvalidOperationException>(() => close.Fold(new ShardPartial { Day = Day.DayNumber }));
    }
}
