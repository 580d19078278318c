using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Core.Tests.Differential;
using Pipeline.Core.Time;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// The fan-out's protocol: runs, shard and day messages delivered twice, late, early, lost, or
/// failing half-way, and requests while a run is in flight. Each outcome is compared with the run
/// delivered once, in order.
/// </summary>
public sealed class RollupFanOutTests
{
    private static readonly DateOnly D1 = new(2026, 11, 22), D2 = new(2026, 11, 23), Yesterday = new(2026, 11, 24);

    private sealed class Fixture
    {
        public const int Shards = 4;
        public RollupRunnerTests.FakeEvents Events { get; } = new();
        public RollupRunnerTests.FakeLedger Ledger { get; } = new();
        public RollupRunnerTests.FakeMetrics Metrics { get; } = new();
        public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero));
        public InMemoryRollup Rollup { get; }

        public Fixture()
        {
            var options = new PipelineOptions { EventStoreShards = Shards, PseudonymisationKey = new string('k', 32) };
            Rollup = new InMemoryRollup(Events, Ledger, Metrics, new RollupRunnerTests.FakeExports(), new RollupRunnerTests.FakeReceipts(),
                new RollupEngine(Pipeline.Core.Scenes.SceneTable.Default, options), new ReportingCalendar("Asia/Shanghai"), options, Time);
            // Three days of users in every shard, orders whose buyers collide across shards, a publish.
            foreach (var (day, n) in new[] { (D1, 0), (D2, 1), (Yesterday, 2) })
                for (var u = 0; u < 12; u++)
                {
                    var user = $"u{u}";
                    Accept(day, Start(user, $"mp{u % 3}", $"s{n}", At(day, 8 + u % 5), u % 2 == 0 ? 1011 : 1001, loadMs: 100 + u * 10),
                        PageView(user, $"mp{u % 3}", $"s{n}", At(day, 9), "/p" + u % 2), End(user, $"mp{u % 3}", $"s{n}", At(day, 10), 20_000 * u));
                    if (u % 4 == 0) Accept(day, Paid(user, $"mp{u % 3}", "m1", $"o{n}-{u % 8}", 100 + u, "CNY", At(day, 11, u), $"s{n}"));
                }
            Accept(D2, Simple(EventType.MiniProgramPublished, "", "mp1", At(D2, 7)));
        }

        public void Accept(DateOnly day, params PipelineEvent[] events)
        {
            foreach (var e in events) Events.Add(day, UserShard.Of(e.UserKey, Shards), e);
            Ledger.Mark(day);
        }

        /// <summary>The rows of every day after one run delivered once, in order.</summary>
        public static async Task<Dictionary<DateOnly, IReadOnlyList<MetricRow>>> BaselineAsync()
        {
            var f = new Fixture();
            await f.Rollup.Runner.RunDueAsync(CancellationToken.None);
            return new Dictionary<DateOnly, IReadOnlyList<MetricRow>>(f.Metrics.Days);
        }
    }

    private static void AssertSameRows(Dictionary<DateOnly, IReadOnlyList<MetricRow>> expected, RollupRunnerTests.FakeMetrics actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Days.Keys.Order());
        foreach (var (day, rows) in expected) Assert.Equal(rows, actual.Days[day]);
    }

    [Fact]
    public async Task A_run_fans_out_one_message_per_shard_and_one_per_day()
    {
        var f = new Fixture();
        f.Rollup.Hold = true;
        var plan = await f.Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None);

        Assert.Equal(PlanOutcome.Started, plan.Outcome);
        Assert.Equal((D1, Yesterday, Fixture.Shards), (plan.Run!.From, plan.Run.To, plan.Run.Shards));
        var shardMessages = f.Rollup.TakePending().Cast<RollupShardMessage>().ToList();
        Assert.Equal([0, 1, 2, 3], shardMessages.Select(m => m.Shard));

        // Three shards done: no day is handed on. The fourth hands on the first day; each day hands on the next.
        foreach (var m in shardMessages.Take(3)) await f.Rollup.DeliverAsync(m);
        Assert.Empty(f.Rollup.Pending);
        await f.Rollup.DeliverAsync(shardMessages[3]);
        var days = new List<DateOnly>();
        while (f.Rollup.TakePending() is { Count: > 0 } pending)
            foreach (var m in pending.Cast<RollupDayMessage>())
            {
                days.Add(m.Day);
                await f.Rollup.DeliverAsync(m);
            }
        Assert.Equal([D1, D2, Yesterday], days);
        AssertSameRows(await Fixture.BaselineAsync(), f.Metrics);
        Assert.Null(await f.Rollup.GetActiveAsync(CancellationToken.None));
        Assert.Empty(f.Ledger.Marks);
    }

    [Fact]
    public async Task Every_message_delivered_twice_and_in_reverse_gives_the_same_rows()
    {
        var f = new Fixture();
        f.Rollup.Hold = true;
        await f.Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None);
        while (f.Rollup.TakePending() is { Count: > 0 } pending)
        {
            pending.Reverse();
            foreach (var m in pending.Concat(pending)) await f.Rollup.DeliverAsync(m);
        }
        AssertSameRows(await Fixture.BaselineAsync(), f.Metrics);
        Assert.Equal([D1, D2, Yesterday], f.Metrics.Replaced.Distinct()); // a duplicate day message does not finalise again
        Assert.Equal(3, f.Metrics.Replaced.Count);
    }

    [Fact]
    public async Task A_day_message_that_comes_early_does_nothing_and_the_last_shard_sends_it_again()
    {
        var f = new Fixture();
        f.Rollup.Hold = true;
        var run = (await f.Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None)).Run!;
        var shards = f.Rollup.TakePending();

        var early = await f.Rollup.Finaliser.HandleAsync(new RollupDayMessage(run.RunId, D1), CancellationToken.None);
        Assert.Null(early.Outcome);
        Assert.Null(early.Phases);
        Assert.Contains("0/4 shards", early.SkippedBecause);
        var outOfOrder = await f.Rollup.Finaliser.HandleAsync(new RollupDayMessage(run.RunId, D2), CancellationToken.None);
        Assert.Contains("waiting for 2026-11-22", outOfOrder.SkippedBecause);

        f.Rollup.Hold = false;
        foreach (var m in shards) await f.Rollup.DeliverAsync(m);
        AssertSameRows(await Fixture.BaselineAsync(), f.Metrics);
    }

    [Fact]
    public async Task A_shard_that_fails_half_way_resumes_after_its_last_recorded_day()
    {
        var f = new Fixture();
        f.Rollup.Hold = true;
        await f.Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None);
        var shards = f.Rollup.TakePending();
        var reads = new List<DateOnly>();
        f.Events.OnRead = day =>
        {
            reads.Add(day);
            // The first read of each day is the de-duplication scan, the second the roll.
            if (day == Yesterday && reads.Count(d => d == Yesterday) == 2) throw new IOException("killed while reading");
        };

        await Assert.ThrowsAsync<IOException>(() => f.Rollup.DeliverAsync(shards[0])); // shard 0 dies rolling its third day
        Assert.Equal([D1, D2, Yesterday, D1, D2, Yesterday], reads);
        await f.Rollup.DeliverAsync(shards[0]); // redelivered: only the day it had not recorded (scanned once, rolled from that read)
        Assert.Equal([D1, D2, Yesterday, D1, D2, Yesterday, Yesterday], reads);

        f.Rollup.Hold = false;
        foreach (var m in shards.Skip(1)) await f.Rollup.DeliverAsync(m);
        AssertSameRows(await Fixture.BaselineAsync(), f.Metrics);
    }

    [Fact]
    public async Task Shards_fold_each_day_and_leave_the_days_with_work_left_to_the_background_compactor()
    {
        var f = new Fixture();
        f.Events.FoldLeavesWork.Add((D2, 1));
        f.Events.FoldLeavesWork.Add((D2, 3));

        await f.Rollup.Runner.RunDueAsync(CancellationToken.None);

        Assert.Equal(3 * Fixture.Shards, f.Events.Folds.Count); // every (day, shard), once
        Assert.Equal([D2], f.Rollup.Folded.Marks.Keys);
    }

    [Fact]
    public async Task A_request_while_a_run_is_in_flight_starts_nothing_and_its_days_stay_dirty()
    {
        var f = new Fixture();
        f.Rollup.Hold = true;
        var first = await f.Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None);
        f.Rollup.TakePending(); // the shard messages are in flight elsewhere

        var scheduled = await f.Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None);
        var reroll = await f.Rollup.Planner.PlanRangeAsync(D2, D2, CancellationToken.None);

        Assert.Equal((PlanOutcome.InFlight, first.Run), (scheduled.Outcome, scheduled.Run));
        Assert.Equal((PlanOutcome.InFlight, first.Run), (reroll.Outcome, reroll.Run));
        Assert.Empty(f.Rollup.Pending);
        Assert.Equal(3, f.Ledger.Marks.Count);
    }

    [Fact]
    public async Task A_run_whose_shard_message_was_lost_is_resumed_by_the_next_request_once_stalled()
    {
        var f = new Fixture();
        f.Rollup.Hold = true;
        var run = (await f.Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None)).Run!;
        var shards = f.Rollup.TakePending();
        foreach (var m in shards.Where(m => ((RollupShardMessage)m).Shard != 2)) await f.Rollup.DeliverAsync(m); // shard 2's message is lost
        Assert.Empty(f.Rollup.Pending);

        Assert.Equal(PlanOutcome.InFlight, (await f.Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None)).Outcome);
        f.Time.Advance(new RollupOptions().StallAfter);
        var resumed = await f.Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None);

        Assert.Equal((PlanOutcome.Resumed, run), (resumed.Outcome, resumed.Run));
        Assert.Equal([new RollupShardMessage(run.RunId, 2)], f.Rollup.Pending.Cast<RollupShardMessage>());
        f.Rollup.Hold = false;
        await f.Rollup.DeliverAsync(f.Rollup.TakePending()[0]);
        AssertSameRows(await Fixture.BaselineAsync(), f.Metrics);
        Assert.Null(await f.Rollup.GetActiveAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_poisoned_day_message_leaves_the_run_stalled_until_resumed()
    {
        var f = new Fixture();
        f.Rollup.Hold = true;
        var run = (await f.Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None)).Run!;
        foreach (var m in f.Rollup.TakePending()) await f.Rollup.DeliverAsync(m);
        var day1 = Assert.Single(f.Rollup.TakePending()); // D1's finalise message: dropped, as if moved to the poison queue

        f.Time.Advance(TimeSpan.FromHours(1));
        var resumed = await f.Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None);

        Assert.Equal(PlanOutcome.Resumed, resumed.Outcome);
        Assert.Equal([new RollupDayMessage(run.RunId, D1)], f.Rollup.Pending.Cast<RollupDayMessage>());
        Assert.Equal(day1, f.Rollup.Pending.Single());
        f.Rollup.Hold = false;
        await f.Rollup.DeliverAsync(f.Rollup.TakePending()[0]);
        AssertSameRows(await Fixture.BaselineAsync(), f.Metrics);
    }

    [Fact]
    public async Task A_reroll_whose_day_before_has_no_saved_state_rolls_from_the_first_day_with_events()
    {
        var f = new Fixture();
        await f.Rollup.Runner.RunDueAsync(CancellationToken.None);
        f.Rollup.DropLedger(D1);
        f.Metrics.Replaced.Clear();

        var report = await f.Rollup.Runner.RunRangeAsync(D2, D2, CancellationToken.None);

        Assert.Equal(D1, report.Plan.Run!.From);
        Assert.Equal([D1, D2, Yesterday], f.Metrics.Replaced);
        AssertSameRows(await Fixture.BaselineAsync(), f.Metrics);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(42)]
    public async Task One_shard_and_sixteen_shards_give_identical_rows(int seed)
    {
        var ds = DatasetGenerator.Generate(seed);
        var engine = new RollupEngine(Pipeline.Core.Scenes.SceneTable.Default, ds.CommissionRate);
        var rows = new List<Dictionary<DateOnly, IReadOnlyList<MetricRow>>>();
        foreach (var shards in new[] { 1, 16 })
        {
            var pipeline = new InMemoryPipeline(engine, shards, ds.Receipts);
            pipeline.MorningAfter(ds.LastDay);
            pipeline.Store(ds.Events);
            pipeline.Mark(ds.Events.Select(e => DatasetGenerator.Calendar.DayOf(e.TimeMs)).Distinct());
            await pipeline.Runner.RunDueAsync(CancellationToken.None);
            rows.Add(new Dictionary<DateOnly, IReadOnlyList<MetricRow>>(pipeline.Rows));
        }
        Assert.NotEmpty(rows[0]);
        Assert.Equal(rows[0].Keys.Order(), rows[1].Keys.Order());
        foreach (var (day, r) in rows[0]) Assert.Equal(r, rows[1][day]);
    }
}
