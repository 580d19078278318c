using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using Pipeline.Core.Time;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// A run over three days of users in every one of <see cref="Shards"/> shards, in memory, its messages
/// held for the test to deliver; <see cref="Shard"/> reads the run's progress through <see cref="Runs"/>, which counts the records read.
/// </summary>
internal sealed class HeldRun
{
    public static readonly DateOnly D1 = new(2026, 11, 22), D2 = new(2026, 11, 23), Yesterday = new(2026, 11, 24);
    public static readonly DateOnly[] Days = [D1, D2, Yesterday];

    public int Shards { get; }
    public RollupRunnerTests.FakeEvents Events { get; } = new();
    public RollupRunnerTests.FakeLedger Ledger { get; } = new();
    public RollupRunnerTests.FakeMetrics Metrics { get; } = new();
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero));
    public RollupEngine Engine { get; }
    public InMemoryRollup Rollup { get; }
    public CountingRunStore Runs { get; }
    public ShardRollupHandler Shard { get; }

    public HeldRun(int shards)
    {
        Shards = shards;
        var options = new PipelineOptions { EventStoreShards = shards, PseudonymisationKey = new string('k', 32) };
        Engine = new RollupEngine(Pipeline.Core.Scenes.SceneTable.Default, options);
        Rollup = new InMemoryRollup(Events, Ledger, Metrics, new RollupRunnerTests.FakeExports(), new RollupRunnerTests.FakeReceipts(),
            Engine, new ReportingCalendar("Asia/Shanghai"), options, Time) { Hold = true };
        Runs = new CountingRunStore(Rollup);
        Shard = new ShardRollupHandler(Events, Rollup, Runs, Rollup, Engine, Rollup.Folded);
        for (var u = 0; u < 3 * shards; u++)
            foreach (var (day, n) in Days.Select((d, i) => (d, i)))
            {
                var user = $"u{u}";
                Accept(day, Start(user, $"mp{u % 3}", $"s{n}", At(day, 8 + u % 5), 1001, loadMs: 100 + u), End(user, $"mp{u % 3}", $"s{n}", At(day, 10), 20_000));
                if (u % 5 == 0) Accept(day, Paid(user, $"mp{u % 3}", "m1", $"o{n}-{u % 7}", 100 + u, "CNY", At(day, 11, u % 60), $"s{n}"));
            }
    }

    private void Accept(DateOnly day, params PipelineEvent[] events)
    {
        foreach (var e in events) Events.Add(day, UserShard.Of(e.UserKey, Shards), e);
        Ledger.Mark(day);
    }

    /// <summary>Plans the run; returns its shard messages (taken off the queue).</summary>
    public async Task<List<RollupShardMessage>> PlanAsync()
    {
        await Rollup.Planner.PlanDueAsync("schedule", CancellationToken.None);
        return Rollup.TakePending().Cast<RollupShardMessage>().ToList();
    }

    /// <summary>The days whose finalise message is waiting.</summary>
    public List<DateOnly> PendingDays() => Rollup.Pending.Cast<RollupDayMessage>().Select(m => m.Day).ToList();
}
