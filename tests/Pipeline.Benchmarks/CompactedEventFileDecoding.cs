using Pipeline.Core.Events;

namespace Pipeline.Benchmarks;

/// <summary>The events of a compacted file as objects, in order (the rollup reads blocks; the probes also time this).</summary>
internal static class CompactedEventFileDecoding
{
    public static List<PipelineEvent> DecodeEvents(this CompactedEventFile file) =>
        file.Blocks.SelectMany(block => EventBlockCodec.Decode(block.Span)).ToList();
}
