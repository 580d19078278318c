using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Sweep;
using Pipeline.Core.Time;
using Pipeline.Core.Tests.Rollup;

namespace Pipeline.Core.Tests.Sweep;

public sealed class EventCompactorTests
{
    private sealed class CountingStore : IEventStore
    {
        public List<(DateOnly Day, int Shard)> Compacted { get; } = [];
        public Task WriteAsync(EventSegment segment, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<PipelineEvent>> ReadAsync(DateOnly day, int shard, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<CompactionResult> CompactAsync(DateOnly day, int shard, CancellationToken cancellationToken)
        {
            lock (Compacted) Compacted.Add((day, shard));
            return Task.FromResult(new CompactionResult(day, shard, 1, 2, 10, 10, 2));
        }

        /// <summary>Each day compaction asked for: one per day, with the configured shard count.</summary>
        public List<(DateOnly Day, int Shards)> Days { get; } = [];

        public async Task<DayCompactionResult> CompactDayAsync(DateOnly day, int shards, CancellationToken cancellationToken)
        {
            lock (Days) Days.Add((day, shards));
            var results = new List<CompactionResult>();
            for (var shard = 0; shard < shards; shard++) results.Add(await CompactAsync(day, shard, cancellationToken));
            return new DayCompactionResult(day, results, 0);
        }
    }

    [Fact]
    public async Task Compacts_every_shard_of_the_dirty_days_before_today_and_leaves_today_alone()
    {
        var ledger = new RollupRunnerTests.FakeLedger();
        var store = new CountingStore();
        // 09:00 on 11-25 in Shanghai: today is 11-25.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero));
        DateOnly d22 = new(2026, 11, 22), d24 = new(2026, 11, 24), today = new(2026, 11, 25);
        foreach (var d in new[] { d22, d24, today }) ledger.Mark(d);
        var compactor = new EventCompactor(ledger, new RollupRunnerTests.FakeLedger(), store, new ReportingCalendar("Asia/Shanghai"), new PipelineOptions { EventStoreShards = 3 }, time);

        var report = await compactor.RunAsync(CancellationToken.None);

        Assert.Equal([(d22, 3), (d24, 3)], store.Days); // a day at a time, all its shards in one day compaction
        Assert.Equal([(d22, 0), (d22, 1), (d22, 2), (d24, 0), (d24, 1), (d24, 2)], store.Compacted.Order());
        Assert.Equal((2, 12, 60L), (report.DaysCompacted, report.SegmentsFolded, report.EventsFolded));
        Assert.Equal(3, ledger.Marks.Count); // compaction does not clear a mark: the rollup does
    }

    [Fact]
    public async Task Finishes_every_shard_of_the_days_the_rollup_folded_and_clears_their_marks_at_the_version_listed()
    {
        var dirty = new RollupRunnerTests.FakeLedger();
        var folded = new RollupRunnerTests.FakeLedger();
        var store = new CountingStore();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero));
        DateOnly d20 = new(2026, 11, 20), d24 = new(2026, 11, 24);
        folded.Mark(d20);
        folded.Mark(d24);
        dirty.Mark(d24);
        var compactor = new EventCompactor(dirty, folded, store, new ReportingCalendar("Asia/Shanghai"), new PipelineOptions { EventStoreShards = 2 }, time);

        var report = await compactor.RunAsync(CancellationToken.None);

        Assert.Equal([(d20, 0), (d20, 1), (d24, 0), (d24, 1)], store.Compacted.Order()); // a day both dirty and folded once
        Assert.Equal(2, report.DaysCompacted);
        Assert.Empty(folded.Marks);
        Assert.Single(dirty.Marks); // the rollup clears dirty marks, not the compactor
    }

    [Fact]
    public async Task A_failed_compaction_keeps_the_folded_marks_for_the_next_sweep()
    {
        var folded = new RollupRunnerTests.FakeLedger();
        folded.Mark(new DateOnly(2026, 11, 20));
        var compactor = new EventCompactor(new RollupRunnerTests.FakeLedger(), folded, new FailingStore(), new ReportingCalendar("Asia/Shanghai"),
            new PipelineOptions { EventStoreShards = 2 }, new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero)));

        await Assert.ThrowsAsync<IOException>(() => compactor.RunAsync(CancellationToken.None));

        Assert.Single(folded.Marks);
    }

    private sealed class FailingStore : IEventStore
    {
        public Task WriteAsync(EventSegment segment, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<PipelineEvent>> ReadAsync(DateOnly day, int shard, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<CompactionResult> CompactAsync(DateOnly day, int shard, CancellationToken cancellationToken) => throw new IOException("storage failed");
    }
}
