using BenchmarkDotNet.Attributes;
using Pipeline.Core.Events;
using Pipeline.Storage.Blobs;

namespace Pipeline.Benchmarks;

/// <summary>
/// Candidate formats of the compacted event store: one operation decodes a whole (day, shard) of
/// <see cref="Events"/> events into one list (as <c>IEventStore.ReadAsync</c> returns it), from
/// the compacted block-codec file (blocks of <see cref="CompactedEventFile.BlockEvents"/>), from
/// the same events as one single block, from Parquet (Parquet.Net, the analysts' copy), and, for
/// comparison, from the segments processing writes before compaction (blocks of 200).
/// </summary>
public class CompactionBenchmarks
{
    private List<byte[]> _segments = null!;
    private byte[] _compacted = null!;
    private byte[] _oneBlock = null!;
    private byte[] _parquet = null!;

    [Params(100_000)]
    public int Events { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var events = BenchData.PipelineEvents(Events, users: RollupData.UsersFor(Events));
        _segments = events.Chunk(200).Select(b => EventBlockCodec.Encode(b)).ToList();
        _compacted = CompactedEventFile.Fold(null, _segments.Select((s, i) => ($"batch-{i:D6}", (ReadOnlyMemory<byte>)s)).ToList());
        _oneBlock = EventBlockCodec.Encode(events);
        using var stream = new MemoryStream();
        EventParquet.WriteAsync(stream, events, null, CancellationToken.None).GetAwaiter().GetResult();
        _parquet = stream.ToArray();
        Console.WriteLine($"// {Events:N0} events: {_segments.Count} segments {_segments.Sum(s => (long)s.Length):N0} bytes; " +
            $"compacted {_compacted.Length:N0} bytes ({_compacted.Length / (double)Events:0.0} B/event, manifest included); " +
            $"one block {_oneBlock.Length:N0} bytes; Parquet {_parquet.Length:N0} bytes ({_parquet.Length / (double)Events:0.0} B/event)");
    }

    [Benchmark(Baseline = true, Description = "Segments: blocks of 200 (before compaction)")]
    public int Segments()
    {
        var day = new List<PipelineEvent>(Events);
        foreach (var s in _segments) day.AddRange(EventBlockCodec.Decode(s));
        return day.Count;
    }

    [Benchmark(Description = "Compacted: EventBlockCodec blocks of 8,192")]
    public int Compacted() => CompactedEventFile.Decode(_compacted).DecodeEvents().Count;

    [Benchmark(Description = "Compacted as one EventBlockCodec block")]
    public int OneBlock() => EventBlockCodec.Decode(_oneBlock).Count;

    [Benchmark(Description = "Compacted as Parquet (Parquet.Net)")]
    public async Task<int> Parquet()
    {
        using var stream = new MemoryStream(_parquet, writable: false);
        return (await EventParquet.ReadAsync(stream, CancellationToken.None)).Events.Count;
    }
}

/// <summary>Decode speed of a compacted (day, shard) by the size of its blocks (how <see cref="CompactedEventFile.BlockEvents"/> was chosen).</summary>
public class CompactedBlockSizeBenchmarks
{
    private byte[] _compacted = null!;

    [Params(100_000)]
    public int Events { get; set; }

    [Params(1_024, 2_048, 4_096, 8_192)]
    public int BlockEvents { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var events = BenchData.PipelineEvents(Events, users: RollupData.UsersFor(Events));
        var segments = events.Chunk(200).Select((b, i) => ($"batch-{i:D6}", (ReadOnlyMemory<byte>)EventBlockCodec.Encode(b))).ToList();
        _compacted = CompactedEventFile.Fold(null, segments, BlockEvents);
    }

    [Benchmark(Description = "Compacted: decode a (day, shard)")]
    public int Decode() => CompactedEventFile.Decode(_compacted).DecodeEvents().Count;
}
