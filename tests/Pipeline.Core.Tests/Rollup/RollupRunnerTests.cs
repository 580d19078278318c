using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Events;
using Pipeline.Core.Export;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Core.Time;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

public sealed class RollupRunnerTests
{
    private static readonly DateOnly D1 = new(2026, 11, 22), D2 = new(2026, 11, 23), Yesterday = new(2026, 11, 24);

    private sealed class Fixture
    {
        public const int Shards = 4;
        public FakeEvents Events { get; } = new();
        public FakeLedger Ledger { get; } = new();
        public InMemoryRollup States { get; }
        public FakeMetrics Metrics { get; } = new();
        public FakeExports Exports { get; } = new();
        public FakeReceipts Receipts { get; } = new();
        // 01:00 UTC on 11-25 is 09:00 in Shanghai: "yesterday" is 11-24.
        public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero));
        public RollupRunner Runner { get; }

        public Fixture()
        {
            var options = new PipelineOptions { EventStoreShards = Shards, PseudonymisationKey = new string('k', 32) };
            States = new InMemoryRollup(Events, Ledger, Metrics, Exports, Receipts, new RollupEngine(Pipeline.Core.Scenes.SceneTable.Default, options),
                new ReportingCalendar("Asia/Shanghai"), options, Time);
            Runner = States.Runner;
        }

        public void Accept(DateOnly day, params PipelineEvent[] events)
        {
            foreach (var e in events) Events.Add(day, UserShard.Of(e.UserKey, Shards), e);
            Ledger.Mark(day);
        }
    }

    internal sealed class FakeReceipts : IIngestReceiptLedger
    {
        public Dictionary<DateOnly, IngestTotals> Totals { get; } = new();
        public Task RecordAsync(IngestReceipt receipt, DateOnly receiptDay, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IngestTotals> TotalsAsync(DateOnly receiptDay, CancellationToken cancellationToken) =>
            Task.FromResult(Totals.GetValueOrDefault(receiptDay));
    }

    [Fact]
    public async Task The_rejected_event_rate_comes_from_the_receipts_of_the_day_of_receipt()
    {
        var f = new Fixture();
        f.Accept(D1, Start("u1", "mp1", "s1", At(D1, 9), 1001));
        f.Receipts.Totals[D1] = new IngestTotals(Received: 40, Rejected: 3);
        // D2 received nothing: no ratio row (denominator 0), though D2 is rolled.
        await f.Runner.RunDueAsync(CancellationToken.None);

        var row = Assert.Single(f.Metrics.Days[D1], r => r.Metric == "risk.rejected_event_rate");
        Assert.Equal((3.0, 40.0, 3.0 / 40), (row.Numerator, row.Denominator, row.Value));
        Assert.DoesNotContain(f.Metrics.Days[D2], r => r.Metric == "risk.rejected_event_rate");
    }

    internal sealed class FakeEvents : IEventStore
    {
        private readonly Dictionary<(DateOnly, int), List<PipelineEvent>> _events = new();
        public Action<DateOnly>? OnRead { get; set; }
        /// <summary>(day, shard)s whose fold leaves work for the background compactor, as a blob store's does.</summary>
        public HashSet<(DateOnly, int)> FoldLeavesWork { get; } = [];
        public List<(DateOnly Day, int Shard)> Folds { get; } = [];
        public Task<CompactionResult> FoldAsync(DateOnly day, int shard, CancellationToken cancellationToken)
        {
            lock (Folds) Folds.Add((day, shard));
            return Task.FromResult(CompactionResult.Nothing(day, shard) with { FinishPending = FoldLeavesWork.Contains((day, shard)) });
        }
        public void Add(DateOnly day, int shard, PipelineEvent e)
        {
            if (!_events.TryGetValue((day, shard), out var list)) _events[(day, shard)] = list = [];
            list.Add(e);
        }
        public Task WriteAsync(EventSegment segment, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<PipelineEvent>> ReadAsync(DateOnly day, int shard, CancellationToken cancellationToken)
        {
            if (shard == 0) OnRead?.Invoke(day);
            return Task.FromResult<IReadOnlyList<PipelineEvent>>(_events.TryGetValue((day, shard), out var l) ? l.ToArray() : []);
        }
    }

    internal sealed class FakeLedger : IDirtyDayLedger, IFoldedDayLedger
    {
        private int _version;
        public Dictionary<DateOnly, string> Marks { get; } = new();
        public List<(DirtyDay Day, bool Cleared)> Clears { get; } = [];
        public void Mark(DateOnly day) => Marks[day] = $"v{++_version}";
        public Task MarkAsync(IReadOnlyCollection<DateOnly> days, CancellationToken cancellationToken)
        {
            foreach (var d in days) Mark(d);
            return Task.CompletedTask;
        }
        public Task<IReadOnlyList<DirtyDay>> ListAsync(CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<DirtyDay>>(Marks.Select(kv => new DirtyDay(kv.Key, kv.Value)).ToList());
        public Task<bool> ClearAsync(DirtyDay day, CancellationToken cancellationToken)
        {
            var cleared = Marks.TryGetValue(day.Day, out var v) && v == day.Version && Marks.Remove(day.Day);
            Clears.Add((day, cleared));
            return Task.FromResult(cleared);
        }
    }

    internal sealed class FakeMetrics : IMetricsStore
    {
        public Dictionary<DateOnly, IReadOnlyList<MetricRow>> Days { get; } = new();
        public List<DateOnly> Replaced { get; } = [];
        public Task ReplaceDayAsync(DateOnly day, IReadOnlyList<MetricRow> rows, string runId, DateTimeOffset computedAt, CancellationToken cancellationToken)
        {
            Assert.False(string.IsNullOrEmpty(runId));
            Days[day] = rows.ToArray();
            Replaced.Add(day);
            return Task.CompletedTask;
        }
        public Task<IReadOnlyList<MetricRow>> ReadDayAsync(DateOnly day, CancellationToken cancellationToken) =>
            Task.FromResult(Days.GetValueOrDefault(day) ?? []);
    }

    internal sealed class FakeExports : IExportStore
    {
        public Dictionary<DateOnly, byte[]> Files { get; } = new();
        public Task WriteDailyAsync(DateOnly day, ReadOnlyMemory<byte> csv, CancellationToken cancellationToken)
        {
            Files[day] = csv.ToArray();
            return Task.CompletedTask;
        }
        public Task<byte[]?> ReadDailyAsync(DateOnly day, CancellationToken cancellationToken) => Task.FromResult(Files.GetValueOrDefault(day));
        public string DescribeDaily(DateOnly day) => $"exports/daily/{day:yyyy-MM-dd}.csv";

        /// <summary>The rows handed over for each day's Parquet export (the store encodes them; Storage's tests cover the file).</summary>
        public Dictionary<DateOnly, IReadOnlyList<MetricRow>> ParquetRows { get; } = new();
        public Task WriteDailyParquetAsync(DateOnly day, IReadOnlyList<MetricRow> rows, CancellationToken cancellationToken)
        {
            ParquetRows[day] = rows.ToArray();
            return Task.CompletedTask;
        }
        public Task<byte[]?> ReadDailyParquetAsync(DateOnly day, CancellationToken cancellationToken) => Task.FromResult<byte[]?>(null);
        public string DescribeDailyParquet(DateOnly day) => $"exports/parquet/date={day:yyyy-MM-dd}/metrics.parquet";
    }

    private static double Value(IReadOnlyList<MetricRow> rows, string metric, string dimension = "total", string value = "") =>
        rows.Single(r => r.Metric == metric && r.Dimension == dimension && r.DimensionValue == value).Value;

    [Fact]
    public async Task Does_nothing_before_the_first_event()
    {
        var f = new Fixture();
        var report = await f.Runner.RunDueAsync(CancellationToken.None);
        Assert.Empty(report.DaysRolled);
        Assert.Empty(f.Metrics.Replaced);
        Assert.Null(f.States.Cursor);
    }

    [Fact]
    public async Task Rolls_dirty_days_through_yesterday_chains_state_and_clears_marks()
    {
        var f = new Fixture();
        f.Accept(D1, Start("u1", "mp1", "s1", At(D1, 4), 1011));
        f.Accept(D2, Start("u1", "mp1", "s2", At(D2, 4), 1001), Start("u2", "mp1", "s1", At(D2, 5), 1011));

        var report = await f.Runner.RunDueAsync(CancellationToken.None);

        Assert.Equal([D1, D2, Yesterday], report.DaysRolled);
        Assert.Equal(3, report.EventsRead);
        Assert.Equal(f.Metrics.Days[D2].Count, report.RowsWritten[D2]);
        Assert.Empty(f.Ledger.Marks);
        Assert.Equal(new RollupCursor(D1, Yesterday), f.States.Cursor);
        Assert.Equal([D1, D2, Yesterday], f.States.LedgerDays.Order());
        Assert.Equal([D1, D2, Yesterday], f.Exports.Files.Keys.Order());

        var d2 = f.Metrics.Days[D2];
        Assert.Equal(2, Value(d2, "users.dau"));
        Assert.Equal(1, Value(d2, "users.new")); // u1 was new on D1: the state chained
        Assert.Equal(1, Value(d2, "users.sessions", "channel", "qr"));
        Assert.Equal(2, Value(f.Metrics.Days[Yesterday], "users.wau"));
        Assert.Equal(0, Value(f.Metrics.Days[Yesterday], "users.dau"));
        Assert.Equal(d2, DailyCsv.Read(f.Exports.Files[D2]));
        Assert.Equal([D1, D2, Yesterday], f.Exports.ParquetRows.Keys.Order()); // the Parquet export beside every CSV
        Assert.Equal(d2, f.Exports.ParquetRows[D2]);

        var again = await f.Runner.RunDueAsync(CancellationToken.None);
        Assert.Empty(again.DaysRolled); // nothing new, nothing due
    }

    [Fact]
    public async Task A_late_event_rerolls_its_day_and_every_later_day_and_stale_rows_go()
    {
        var f = new Fixture();
        PipelineEvent onD1 = Start("u1", "mp1", "s1", At(D1, 4), 1011), onD2 = Start("u2", "mp2", "s9", At(D2, 4), 1011);
        f.Accept(D1, onD1);
        f.Accept(D2, onD2);
        await f.Runner.RunDueAsync(CancellationToken.None);
        Assert.Equal(1, Value(f.Metrics.Days[D2], "users.sessions", "channel", "qr"));
        Assert.Equal(1, Value(f.Metrics.Days[D2], "users.dau", "miniProgram", "mp2"));

        // Late: u2's session s9 really started the day before, from a recent-list scene.
        PipelineEvent late = Start("u2", "mp2", "s9", At(D1, 15), 1001);
        f.Accept(D1, late);
        f.Metrics.Replaced.Clear();
        var report = await f.Runner.RunDueAsync(CancellationToken.None);

        Assert.Equal([D1, D2, Yesterday], report.DaysRolled);
        Assert.Equal([D1, D2, Yesterday], f.Metrics.Replaced);
        var d2 = f.Metrics.Days[D2];
        Assert.DoesNotContain(d2, r => r.Metric == "users.sessions" && r.Dimension == "channel");
        Assert.DoesNotContain(d2, r => r.Metric == "users.dau" && r.Dimension == "miniProgram");
        Assert.Equal(0, Value(d2, "users.sessions"));
        Assert.Equal(2, Value(f.Metrics.Days[D1], "users.dau"));

        // The same as rolling every event from scratch.
        var engine = Engine();
        var s1 = engine.RollUp(D1, [[late, onD1]], WindowState.Empty());
        var s2 = engine.RollUp(D2, [[onD2]], s1.State);
        var s3 = engine.RollUp(Yesterday, [[]], s2.State);
        Assert.Equal(s1.Rows, f.Metrics.Days[D1]);
        Assert.Equal(s2.Rows, d2);
        Assert.Equal(s3.Rows, f.Metrics.Days[Yesterday]);
        Assert.Equal(WindowStateCodec.Encode(s3.State), WindowStateCodec.Encode(f.States.WholeState(Yesterday, Fixture.Shards)));
    }

    [Fact]
    public async Task A_mark_made_during_the_run_survives_it()
    {
        var f = new Fixture();
        f.Accept(D1, Start("u1", "mp1", "s1", At(D1, 4), 1011));
        f.Events.OnRead = day => { if (day == D1) f.Ledger.Mark(D1); }; // processing marks D1 again mid-rollup
        await f.Runner.RunDueAsync(CancellationToken.None);

        Assert.Contains(f.Ledger.Clears, c => c.Day.Day == D1 && !c.Cleared);
        Assert.True(f.Ledger.Marks.ContainsKey(D1));
        Assert.Equal(new RollupCursor(D1, Yesterday), f.States.Cursor);

        f.Events.OnRead = null;
        var next = await f.Runner.RunDueAsync(CancellationToken.None);
        Assert.Equal([D1, D2, Yesterday], next.DaysRolled);
        Assert.Empty(f.Ledger.Marks);
    }

    [Fact]
    public async Task Rerunning_a_range_gives_identical_rows_and_continues_through_the_last_rolled_day()
    {
        var f = new Fixture();
        f.Accept(D1, Start("u1", "mp1", "s1", At(D1, 4), 1011, loadMs: 300), Paid("u1", "mp1", "m", "o", 10, "CNY", At(D1, 5), "s1"));
        f.Accept(D2, Start("u1", "mp1", "s2", At(D2, 4), 1001), Share("u1", "mp1", "s2", At(D2, 5)));
        await f.Runner.RunDueAsync(CancellationToken.None);
        var before = f.Metrics.Days.ToDictionary(kv => kv.Key, kv => kv.Value);
        var stateBefore = WindowStateCodec.Encode(f.States.WholeState(Yesterday, Fixture.Shards));

        var report = await f.Runner.RunRangeAsync(D2, D2, CancellationToken.None);

        Assert.Equal([D2, Yesterday], report.DaysRolled);
        Assert.Equal(before[D2], f.Metrics.Days[D2]);
        Assert.Equal(before[Yesterday], f.Metrics.Days[Yesterday]);
        Assert.Equal(stateBefore, WindowStateCodec.Encode(f.States.WholeState(Yesterday, Fixture.Shards)));
        Assert.Equal(new RollupCursor(D1, Yesterday), f.States.Cursor);
    }

    [Fact]
    public async Task The_next_day_rolls_only_the_new_yesterday()
    {
        var f = new Fixture();
        f.Accept(D2, Start("u1", "mp1", "s1", At(D2, 4), 1011));
        await f.Runner.RunDueAsync(CancellationToken.None);
        f.Time.Advance(TimeSpan.FromDays(1));

        var report = await f.Runner.RunDueAsync(CancellationToken.None);

        Assert.Equal([Yesterday.AddDays(1)], report.DaysRolled);
        Assert.Equal(1, Value(f.Metrics.Days[Yesterday.AddDays(1)], "users.wau"));
        Assert.Equal(new RollupCursor(D2, Yesterday.AddDays(1)), f.States.Cursor);
        Assert.DoesNotContain(D1, f.Metrics.Days.Keys); // nothing before the first day with events
    }
}
