using Pipeline.Core.Events;

namespace Pipeline.Core.Tests.Events;

public sealed class CompactedEventFileTests
{
    [Fact]
    public void The_manifest_round_trips_in_ordinal_order_whatever_the_order_given()
    {
        string[] names = ["0199a1b2-0000-7000-8000-000000000002", "0199a1b2-0000-7000-8000-000000000001", "Zeta", "alpha", "ünïcode-批次"];
        var block = EventBlockCodec.Encode([Event("e1")]);

        var bytes = CompactedEventFile.Encode(3, names, [block], 1);
        var file = CompactedEventFile.Decode(bytes);

        Assert.Equal(3, file.Generation);
        Assert.Equal(1, file.EventCount);
        Assert.Equal(5, file.FoldedCount);
        Assert.Equal(names.Order(StringComparer.Ordinal), file.Folded);
        foreach (var name in names) Assert.True(file.HasFolded(name), name);
        Assert.False(file.HasFolded("alpha2"));
        Assert.False(file.HasFolded("ALPHA"));
        Assert.Equal(block, Assert.Single(file.Blocks).ToArray());

        // Deterministic: the same manifest in another order gives the same bytes.
        Assert.Equal(bytes, CompactedEventFile.Encode(3, names.Reverse(), [block], 1));
    }

    [Fact]
    public void An_empty_manifest_and_no_blocks_round_trip()
    {
        var file = CompactedEventFile.Decode(CompactedEventFile.Encode(0, [], [], 0));
        Assert.Equal(0, file.Generation);
        Assert.Empty(file.Folded);
        Assert.Empty(file.Blocks);
        Assert.Empty(file.DecodeEvents());
        Assert.False(file.HasFolded("x"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    public void A_name_that_is_not_a_batch_id_is_refused(string name)
    {
        Assert.Throws<ArgumentException>(() => CompactedEventFile.Encode(1, ["ok", name], [], 0));
    }

    [Fact]
    public void A_segment_named_twice_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => CompactedEventFile.Encode(1, ["b1", "b2", "b1"], [], 0));
        Assert.Contains("b1", ex.Message);

        var segment = EventBlockCodec.Encode([Event("e1")]);
        Assert.Throws<ArgumentException>(() => CompactedEventFile.Fold(null, [("b1", segment), ("b1", segment)]));
    }

    [Fact]
    public void Folding_keeps_the_events_in_order_in_blocks_of_at_most_the_block_size()
    {
        var segments = Segments(count: 7, eventsEach: 5, prefix: "a");
        var file = CompactedEventFile.Decode(CompactedEventFile.Fold(null, segments, blockEvents: 8));

        Assert.Equal(1, file.Generation);
        Assert.Equal(35, file.EventCount);
        Assert.Equal(segments.Select(s => s.BatchId), file.Folded);
        Assert.Equal([8, 8, 8, 8, 3], file.Blocks.Select(b => EventBlockCodec.Decode(b.Span).Count));
        Assert.Equal(AllIds(segments), file.DecodeEvents().Select(e => e.EventId));
    }

    [Fact]
    public void Folding_again_keeps_the_previous_blocks_byte_for_byte_and_adds_to_the_manifest()
    {
        var first = Segments(count: 3, eventsEach: 4, prefix: "a");
        var previous = CompactedEventFile.Decode(CompactedEventFile.Fold(null, first, blockEvents: 5));
        var late = Segments(count: 2, eventsEach: 3, prefix: "b");

        var next = CompactedEventFile.Decode(CompactedEventFile.Fold(previous, late, blockEvents: 5));

        Assert.Equal(2, next.Generation);
        Assert.Equal(18, next.EventCount);
        Assert.Equal(first.Concat(late).Select(s => s.BatchId).Order(StringComparer.Ordinal), next.Folded);
        for (var i = 0; i < previous.Blocks.Count; i++) Assert.Equal(previous.Blocks[i].ToArray(), next.Blocks[i].ToArray());
        Assert.Equal(AllIds(first).Concat(AllIds(late)), next.DecodeEvents().Select(e => e.EventId));
    }

    [Fact]
    public void Folding_a_segment_already_folded_is_refused()
    {
        var first = Segments(count: 2, eventsEach: 1, prefix: "a");
        var previous = CompactedEventFile.Decode(CompactedEventFile.Fold(null, first));
        var ex = Assert.Throws<ArgumentException>(() => CompactedEventFile.Fold(previous, [first[1]]));
        Assert.Contains("already folded", ex.Message);
    }

    [Fact]
    public void Folding_is_deterministic()
    {
        var segments = Segments(count: 5, eventsEach: 7, prefix: "a");
        Assert.Equal(CompactedEventFile.Fold(null, segments), CompactedEventFile.Fold(null, segments));
    }

    [Fact]
    public void A_corrupt_segment_names_the_segment()
    {
        var bad = EventBlockCodec.Encode([Event("e1")]);
        bad[^1] ^= 0xFF;
        var ex = Assert.Throws<InvalidDataException>(() => CompactedEventFile.Fold(null, [("good", EventBlockCodec.Encode([Event("e0")])), ("bad-one", bad)]));
        Assert.Contains("bad-one", ex.Message);
    }

    [Fact]
    public void Every_truncation_and_every_flipped_byte_is_rejected()
    {
        var bytes = CompactedEventFile.Fold(null, Segments(count: 3, eventsEach: 2, prefix: "a"));
        for (var length = 0; length < bytes.Length; length++)
            Assert.Throws<InvalidDataException>(() => CompactedEventFile.Decode(bytes.AsMemory(0, length)));
        for (var i = 0; i < bytes.Length; i++)
        {
            var copy = (byte[])bytes.Clone();
            copy[i] ^= 0x5A;
            Assert.Throws<InvalidDataException>(() => CompactedEventFile.Decode(copy));
        }
    }

    [Fact]
    public void Other_data_and_future_versions_are_rejected_with_clear_messages()
    {
        var block = EventBlockCodec.Encode([Event("e1")]);
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => CompactedEventFile.Decode(block)).Message);

        var bytes = CompactedEventFile.Encode(1, ["a"], [block], 1);
        bytes[3] = 9;
        Assert.Contains("version 9", Assert.Throws<InvalidDataException>(() => CompactedEventFile.Decode(bytes)).Message);
    }

    private static List<(string BatchId, ReadOnlyMemory<byte> Block)> Segments(int count, int eventsEach, string prefix) =>
        Enumerable.Range(0, count)
            .Select(i => ($"{prefix}-{i:D3}", (ReadOnlyMemory<byte>)EventBlockCodec.Encode(
                Enumerable.Range(0, eventsEach).Select(j => Event($"{prefix}{i}-{j}")).ToList())))
            .ToList();

    private static IEnumerable<string> AllIds(List<(string BatchId, ReadOnlyMemory<byte> Block)> segments) =>
        segments.SelectMany(s => EventBlockCodec.Decode(s.Block.Span)).Select(e => e.EventId);

    private static PipelineEvent Event(string id) => new()
    {
        EventId = id,
        Type = EventType.PageView,
        TimeMs = 1_795_000_000_000,
        UserKey = "u-" + id[..1],
        MiniProgramId = "wx_a",
        Page = "/p",
    };
}
