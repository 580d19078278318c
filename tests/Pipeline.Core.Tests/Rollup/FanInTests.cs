using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using Pipeline.Core.Time;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// The fan-in's decisions (which shard hands a day to the finaliser, and when) and their cost: the
/// progress records a shard reads per day it rolls do not grow with the number of shards.
/// </summary>
public sealed class FanInTests
{
    private static readonly DateOnly D1 = new(2026, 11, 22), D2 = new(2026, 11, 23), Yesterday = new(2026, 11, 24);
    private static readonly DateOnly[] Days = [D1, D2, Yesterday];

    /// <summary>A run over three days and <see cref="Shards"/> shards, its messages held; shard messages are delivered through <see cref="Runs"/>.</summary>
    private sealed class Fixture
    {
        public int Shards { get; }
        public RollupRunnerTests.FakeEvents Events { get; } = new();
        public RollupRunnerTests.FakeLedger Ledger { get; } = new();
        public RollupRunnerTests.FakeMetrics Metrics { get; } = new();
        public InMemoryRollup Rollup { get; }
        public CountingRunStore Runs { get; }
        public ShardRollupHandler Shard { get; }

        public Fixture(int shards)
        {
            Shards = shards;
            var options = new PipelineOptions { EventStoreShards = shards, PseudonymisationKey = new string('k', 32) };
            var engine = new RollupEngine(Pipeline.Core.Scenes.SceneTable.Default, options);
            var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero));
            Rollup = new InMemoryRollup(Events, Ledger, Metrics, new RollupRunnerTests.FakeExports(), new RollupRunnerTests.FakeReceipts(),
                engine, new ReportingCalendar("Asia/Shanghai"), options, time) { Hold = true };
            Runs = new CountingRunStore(Rollup);
            Shard = new ShardRollupHandler(Events, Rollup, Runs, Rollup, engine, Rollup.Folded);
            for (var u = 0; u < 3 * shards; u++)
                foreach (var (day, n) in Days.Select((d, i) => (d, i)))
                {
                    var user = $"u{u}";
                    Accept(day, Start(user, $"mp{u % 3}", $"s{n}", At(day, 8 + u % 5), 1001), End(user, $"mp{u % 3}", $"s{n}", At(day, 10), 20_000));
                }
        }

        private void Accept(DateOnly day, params PipelineEvent[] events)
        {
            foreach (var e in events) Events.Add(day, UserShard.Of(e.UserKey, Shards), e);
            Ledger.Mark(day);
        }

        public async Task<List<RollupShardMessage>> PlanAsync()
        {
            await Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None);
            return Rollup.TakePending().Cast<RollupShardMessage>().ToList();
        }

        public List<DateOnly> PendingDays() => Rollup.Pending.Cast<RollupDayMessage>().Select(m => m.Day).ToList();
    }

    [Theory]
    [InlineData(4)]
    [InlineData(64)]
    public async Task A_shard_reads_a_few_progress_records_per_day_however_many_shards_there_are(int shards)
    {
        var f = new Fixture(shards);
        var messages = await f.PlanAsync();

        long most = 0;
        foreach (var m in messages)
        {
            var before = f.Runs.RecordsRead;
            await f.Shard.HandleAsync(m, CancellationToken.None);
            most = Math.Max(most, f.Runs.RecordsRead - before);
        }

        // The run and its own record, then per day the finalised pointer and at most one shard found behind.
        Assert.True(most <= 2 + 2 * Days.Length, $"a shard invocation read {most} progress records over {Days.Length} days of {shards} shards");
        Assert.Equal([D1], f.PendingDays());
    }

    [Fact]
    public async Task Only_the_last_shard_of_a_day_hands_it_on_and_only_once_the_day_before_is_finalised()
    {
        var f = new Fixture(shards: 4);
        var messages = await f.PlanAsync();

        // Shards 0-2 roll every day: none is the last of any day.
        foreach (var m in messages.Take(3)) await f.Shard.HandleAsync(m, CancellationToken.None);
        Assert.Empty(f.PendingDays());
        // The last shard is the last of every day, but only D1 has its day before finalised (it has none).
        await f.Shard.HandleAsync(messages[3], CancellationToken.None);
        Assert.Equal([D1], f.PendingDays());

        // Each finaliser hands on the next day, whose shards are all done.
        var handed = new List<DateOnly>();
        while (f.Rollup.TakePending() is [RollupDayMessage day])
        {
            handed.Add(day.Day);
            await f.Rollup.DeliverAsync(day);
        }
        Assert.Equal(Days, handed);
        Assert.Equal(Days, f.Metrics.Days.Keys.Order());
    }

    [Fact]
    public async Task A_resumed_shard_that_finishes_a_day_after_the_day_before_is_finalised_hands_it_on()
    {
        var f = new Fixture(shards: 2);
        var messages = await f.PlanAsync();
        await f.Shard.HandleAsync(messages[1], CancellationToken.None);
        var d2Reads = 0;
        // Shard 0 dies rolling D2 (its second read of D2; the first is the de-duplication scan), having recorded D1.
        f.Events.OnRead = day => { if (day == D2 && ++d2Reads == 2) throw new IOException("killed while reading"); };
        await Assert.ThrowsAsync<IOException>(() => f.Shard.HandleAsync(messages[0], CancellationToken.None));
        f.Events.OnRead = null;

        // It was the last of D1: D1 is finalised, and D2 is not handed on (shard 0 has not rolled it).
        Assert.Equal([D1], f.PendingDays());
        await f.Rollup.DeliverAsync(f.Rollup.TakePending()[0]);
        Assert.Empty(f.PendingDays());

        // Redelivered, it resumes at D2, is its last shard with D1 finalised, and hands it on; not Yesterday (D2 is not finalised yet).
        await f.Shard.HandleAsync(messages[0], CancellationToken.None);
        Assert.Equal([D2], f.PendingDays());
    }
}
