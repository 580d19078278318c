using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Processing;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Differential;

/// <summary>
/// The processing step and the rollup runner over in-memory ports: the real <see cref="ProcessHandler"/> and
/// <see cref="RollupRunner"/>, with stores that keep everything in dictionaries. The event store keeps every
/// batch's segments in the order they were written (the order a compacted file keeps), each with its source, so
/// the rollup's de-duplication sees what it sees in storage.
/// </summary>
internal sealed class InMemoryPipeline
    : ILandingStore, IEventStore, IDirtyDayLedger, IMetricsStore, IExportStore, IIngestReceiptLedger, IProcessedBatchLedger
{
    public const string Source = "sdk";

    private readonly Dictionary<string, LandingBatch> _landing = new(StringComparer.Ordinal);
    private readonly Dictionary<(DateOnly Day, int Shard), Dictionary<string, EventSegment>> _segments = [];
    private readonly Dictionary<DateOnly, string> _marks = [];
    private readonly Dictionary<DateOnly, IngestTotals> _receipts;
    private int _version;
    private int _batches;

    public InMemoryPipeline(RollupEngine engine, int shards, IReadOnlyDictionary<DateOnly, IngestTotals> receipts)
    {
        var options = new PipelineOptions { EventStoreShards = shards, CommissionRate = engine.CommissionRate };
        Shards = shards;
        Clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        _receipts = new Dictionary<DateOnly, IngestTotals>(receipts);
        Processor = new ProcessHandler(this, this, this, DatasetGenerator.Calendar, options, Clock, this);
        Rollup = new Pipeline.Core.Tests.Rollup.InMemoryRollup(this, this, this, this, this, engine, DatasetGenerator.Calendar, options, Clock);
    }

    public int Shards { get; }

    public FakeTimeProvider Clock { get; }

    public ProcessHandler Processor { get; }

    /// <summary>The fan-out rollup (planner, shard and day handlers) over in-memory ports, its queues worked inline.</summary>
    public Pipeline.Core.Tests.Rollup.InMemoryRollup Rollup { get; }

    public RollupRunner Runner => Rollup.Runner;

    /// <summary>The rows of each day as last replaced.</summary>
    public Dictionary<DateOnly, IReadOnlyList<MetricRow>> Rows { get; } = [];

    /// <summary>The days whose rows were replaced, in order, since the last <see cref="ForgetReplaced"/>.</summary>
    public List<DateOnly> Replaced { get; } = [];

    public IReadOnlyCollection<DateOnly> DirtyDays => _marks.Keys;

    public void ForgetReplaced() => Replaced.Clear();

    /// <summary>Sets the clock to 09:00 local time on the day after <paramref name="day"/>: the scheduled run then rolls through <paramref name="day"/>.</summary>
    public void MorningAfter(DateOnly day) =>
        Clock.SetUtcNow(DatasetGenerator.Calendar.StartOf(day.AddDays(1)).AddHours(9));

    /// <summary>Stores events directly (as processing would), without marking their days.</summary>
    public void Store(IEnumerable<PipelineEvent> events)
    {
        foreach (var g in events.GroupBy(e => (DatasetGenerator.Calendar.DayOf(e.TimeMs), UserShard.Of(e.UserKey, Shards))))
        {
            var batchId = "direct-" + ++_batches;
            Segment(g.Key).Add(batchId, new EventSegment(g.Key.Item1, g.Key.Item2, batchId, Source, g.ToList()));
        }
    }

    /// <summary>Lands a batch and processes it as the queue trigger would; returns how many events it stored.</summary>
    public async Task<ProcessResult> DeliverAsync(IReadOnlyList<PipelineEvent> events)
    {
        var id = "batch-" + (++_batches).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        Clock.Advance(TimeSpan.FromMilliseconds(1)); // each batch received after the one before, as on a real clock
        _landing[id] = new LandingBatch
        {
            BatchId = id, Source = Source, KeyId = "k", ReceivedAt = Clock.GetUtcNow(), ReceivedCount = events.Count, RejectedCount = 0, Events = events,
        };
        return await Processor.HandleAsync(new ProcessingMessage(id, id), CancellationToken.None);
    }

    public void Mark(IEnumerable<DateOnly> days)
    {
        foreach (var d in days) _marks[d] = "v" + ++_version;
    }

    private Dictionary<string, EventSegment> Segment((DateOnly, int) key)
    {
        if (!_segments.TryGetValue(key, out var s)) _segments[key] = s = new Dictionary<string, EventSegment>(StringComparer.Ordinal);
        return s;
    }

    // ILandingStore: ingest (a bulk import) lands batches here; processing reads them back by path.
    public Task<string> WriteAsync(LandingBatch batch, CancellationToken cancellationToken)
    {
        var path = "landing/" + batch.BatchId;
        lock (_landing) _landing[path] = batch;
        return Task.FromResult(path);
    }

    public Task<LandingBatch?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        lock (_landing) return Task.FromResult(_landing.GetValueOrDefault(path));
    }

    // IEventStore
    public Task WriteAsync(EventSegment segment, CancellationToken cancellationToken)
    {
        lock (_segments)
            Segment((segment.Day, segment.Shard))[segment.BatchId] = segment with { Events = segment.Events.ToArray() };
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<PipelineEvent>> ReadAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<PipelineEvent>>(_segments.TryGetValue((day, shard), out var s) ? s.Values.SelectMany(x => x.Events).ToArray() : []);

    // One block per segment, with the segment's source, in the order written: positions never move.
    public Task<IReadOnlyList<ReadOnlyMemory<byte>>> ReadBlocksAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ReadOnlyMemory<byte>>>(_segments.TryGetValue((day, shard), out var s)
            ? s.Values.Select(x => (ReadOnlyMemory<byte>)EventBlockCodec.Encode(x.Events, x.Source, x.ReceivedAt?.ToUnixTimeMilliseconds())).ToArray()
            : []);

    // IDirtyDayLedger
    // Nothing sweeps here: a batch is processed exactly when the test hands it over.
    public Task MarkProcessedAsync(string landingPath, DateTimeOffset processedAt, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task MarkAsync(IReadOnlyCollection<DateOnly> days, CancellationToken cancellationToken)
    {
        Mark(days);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<DirtyDay>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<DirtyDay>>(_marks.Select(kv => new DirtyDay(kv.Key, kv.Value)).ToList());

    public Task<bool> ClearAsync(DirtyDay day, CancellationToken cancellationToken) =>
        Task.FromResult(_marks.TryGetValue(day.Day, out var v) && v == day.Version && _marks.Remove(day.Day));

    // IMetricsStore
    public Task ReplaceDayAsync(DateOnly day, IReadOnlyList<MetricRow> rows, string runId, DateTimeOffset computedAt, CancellationToken cancellationToken)
    {
        Rows[day] = rows.ToArray();
        Replaced.Add(day);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<MetricRow>> ReadDayAsync(DateOnly day, CancellationToken cancellationToken) =>
        Task.FromResult(Rows.GetValueOrDefault(day) ?? []);

    // IExportStore: the CSV and the Parquet file are written from the same rows; their formats have their own tests.
    public Task WriteDailyAsync(DateOnly day, ReadOnlyMemory<byte> csv, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<byte[]?> ReadDailyAsync(DateOnly day, CancellationToken cancellationToken) => Task.FromResult<byte[]?>(null);

    public string DescribeDaily(DateOnly day) => $"exports/daily/{day:yyyy-MM-dd}.csv";

    public Task WriteDailyParquetAsync(DateOnly day, IReadOnlyList<MetricRow> rows, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<byte[]?> ReadDailyParquetAsync(DateOnly day, CancellationToken cancellationToken) => Task.FromResult<byte[]?>(null);

    public string DescribeDailyParquet(DateOnly day) => $"exports/parquet/date={day:yyyy-MM-dd}/metrics.parquet";

    // IIngestReceiptLedger
    public Task RecordAsync(IngestReceipt receipt, DateOnly receiptDay, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IngestTotals> TotalsAsync(DateOnly receiptDay, CancellationToken cancellationToken) => Task.FromResult(_receipts.GetValueOrDefault(receiptDay));
}
