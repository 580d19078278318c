using Pipeline.Core.Events;

namespace Pipeline.Core.Tests.Events;

public sealed class EventBatchFileTests
{
    private static PipelineEvent E(string id, string user) => new() { EventId = id, Type = EventType.PageView, TimeMs = 1_700_000_000_000, UserKey = user, MiniProgramId = "wx1", Page = "/p" };

    private static (int Shard, byte[] Block)[] Blocks() =>
    [
        (2, EventBlockCodec.Encode([E("a", "u2"), E("b", "u2")], "src", 42)),
        (5, EventBlockCodec.Encode([E("c", "u5")], "src", 42)),
        (31, EventBlockCodec.Encode([E("d", "u31"), E("e", "u31"), E("f", "u31")], "src", 42)),
    ];

    [Fact]
    public void Each_shards_block_is_found_by_the_index_byte_for_byte()
    {
        var blocks = Blocks();
        var file = EventBatchFile.Encode(blocks);

        var index = EventBatchFile.ReadIndex(file);

        Assert.Equal([2, 5, 31], index.Select(s => s.Shard));
        Assert.Equal(EventBatchFile.HeaderLength(3), index[0].Offset);
        foreach (var (shard, block) in blocks)
        {
            var section = EventBatchFile.Find(index, shard)!.Value;
            Assert.Equal(block, file.AsSpan((int)section.Offset, section.Length).ToArray());
        }
        Assert.Equal(["c"], EventBlockCodec.Decode(file.AsSpan((int)index[1].Offset, index[1].Length)).Select(e => e.EventId));
        Assert.Null(EventBatchFile.Find(index, 3));
        Assert.Null(EventBatchFile.Find(index, 0));
        Assert.Null(EventBatchFile.Find(index, 32));
    }

    [Fact]
    public void The_metadata_index_round_trips_with_the_same_offsets_and_the_header_alone_gives_the_same_index()
    {
        var file = EventBatchFile.Encode(Blocks());
        var index = EventBatchFile.ReadIndex(file);

        var text = EventBatchFile.FormatIndex(index);

        Assert.Equal($"2:{index[0].Length},5:{index[1].Length},31:{index[2].Length}", text);
        Assert.Equal(index, EventBatchFile.ParseIndex(text));
        Assert.Equal(3, EventBatchFile.DeclaredSections(file.AsSpan(0, 8)));
        Assert.Equal(index, EventBatchFile.ReadHeader(file.AsSpan(0, (int)EventBatchFile.HeaderLength(3))));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2")]
    [InlineData("2:10,x:4")]
    [InlineData("5:10,2:4")] // out of order
    [InlineData("2:10,2:4")] // twice
    [InlineData("-1:10")]
    public void A_malformed_metadata_index_is_not_trusted(string? text) => Assert.Null(EventBatchFile.ParseIndex(text));

    [Fact]
    public void Shards_out_of_order_twice_or_no_block_at_all_are_refused_when_writing()
    {
        var blocks = Blocks();
        Assert.Contains("strictly ascending", Assert.Throws<ArgumentException>(() => EventBatchFile.Encode([blocks[1], blocks[0]])).Message);
        Assert.Contains("strictly ascending", Assert.Throws<ArgumentException>(() => EventBatchFile.Encode([blocks[0], blocks[0]])).Message);
        Assert.Throws<ArgumentException>(() => EventBatchFile.Encode([]));
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => EventBatchFile.Encode([(-1, blocks[0].Block)])).Message);
    }

    [Fact]
    public void A_damaged_file_names_what_is_wrong()
    {
        var file = EventBatchFile.Encode(Blocks());

        var magic = (byte[])file.Clone();
        magic[0] = (byte)'X';
        Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => EventBatchFile.ReadIndex(magic)).Message);

        var version = (byte[])file.Clone();
        version[3] = 9;
        Assert.Contains("version 9", Assert.Throws<InvalidDataException>(() => EventBatchFile.ReadIndex(version)).Message);

        Assert.Contains("covers", Assert.Throws<InvalidDataException>(() => EventBatchFile.ReadIndex(file.AsSpan(0, file.Length - 1))).Message);
        Assert.Contains("cannot hold", Assert.Throws<InvalidDataException>(() => EventBatchFile.ReadIndex(file.AsSpan(0, 12))).Message);

        var order = (byte[])file.Clone();
        order[8 + 8] = 1; // the second entry's shard (5) becomes 1, below the first's (2)
        Assert.Contains("out of order", Assert.Throws<InvalidDataException>(() => EventBatchFile.ReadIndex(order)).Message);
    }
}
