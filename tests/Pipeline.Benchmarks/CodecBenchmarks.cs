using BenchmarkDotNet.Attributes;
using Pipeline.Core.Events;

namespace Pipeline.Benchmarks;

/// <summary>The event store's block format: processing encodes, the rollup decodes.</summary>
public class EventBlockCodecBenchmarks
{
    private List<PipelineEvent> _events = null!;
    private byte[] _block = null!;

    [Params(10_000)]
    public int Events { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _events = BenchData.PipelineEvents(Events, users: 4000);
        _block = EventBlockCodec.Encode(_events);
        Console.WriteLine($"// block: {_block.Length:N0} bytes for {Events:N0} events ({_block.Length / (double)Events:0.0} B/event)");
    }

    [Benchmark(Description = "EventBlockCodec.Encode")]
    public int Encode() => EventBlockCodec.Encode(_events).Length;

    [Benchmark(Description = "EventBlockCodec.Decode")]
    public int Decode() => EventBlockCodec.Decode(_block).Count;
}
