using Pipeline.Core.Events;

namespace Pipeline.Core.Tests.Events;

/// <summary>The events of a compacted file as objects, in order: what the tests compare (the product reads blocks).</summary>
internal static class CompactedEventFileDecoding
{
    public static List<PipelineEvent> DecodeEvents(this CompactedEventFile file) =>
        file.Blocks.SelectMany(block => EventBlockCodec.Decode(block.Span)).ToList();
}
