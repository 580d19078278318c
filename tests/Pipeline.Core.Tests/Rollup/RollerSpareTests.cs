using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;
using Pipeline.Core.Tests.Differential;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// The streaming roller's reuse of its buffers: at most one spare roller per processor however many threads roll,
/// and a reused roller (taken on another thread than the one that rolled with it) rolls exactly as a new one.
/// </summary>
public sealed class RollerSpareTests
{
    private static readonly DateOnly D = new(2026, 11, 23);

    [Fact]
    public void Many_threads_rolling_at_once_keep_at_most_one_spare_roller_per_processor_and_roll_the_same_as_one()
    {
        var engine = new RollupEngine(SceneTable.Default, 0.006);
        var random = new Random(3);
        var days = Enumerable.Range(0, 24).Select(d => Enumerable.Range(0, 400).Select(i =>
            PageView($"u{random.Next(60)}", $"mp{random.Next(3)}", $"s{d}-{random.Next(100)}", At(D, 9) + i, $"p{random.Next(12)}", id: $"d{d}-e{i:000}")).ToList()).ToList();
        var expected = days.Select(events => ShardPartialCodec.Encode(engine.RollShard(D, events, WindowState.Empty()).Partial)).ToList();

        // 24 dedicated threads (not the pool), each rolling one shard-day, all started together.
        var actual = new byte[days.Count][];
        using var start = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, days.Count).Select(i => new Thread(() =>
        {
            start.Wait();
            actual[i] = ShardPartialCodec.Encode(engine.RollShard(D, BlockRollDifferentialTests.Blocks(days[i], new Random(i)), WindowState.Empty()).Partial);
        })).ToList();
        threads.ForEach(t => t.Start());
        start.Set();
        threads.ForEach(t => t.Join());

        Assert.InRange(BlockShardRoller.SpareCount, 0, BlockShardRoller.MaxSpares); // other tests may hold some at this moment: the cap is the point
        for (var i = 0; i < days.Count; i++) Assert.Equal(expected[i], actual[i]);
    }
}
