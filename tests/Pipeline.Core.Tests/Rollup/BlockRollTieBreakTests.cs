using System.Text;
using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// Ties on time are broken by ordinal (UTF-16 code unit) event id. The streaming roll keeps event ids as UTF-8, whose
/// byte order is code point order: the same as UTF-16 order except for the supplementary planes (surrogate pairs,
/// which UTF-16 puts before U+E000-U+FFFF). These pin the streaming path to the ordinal rule.
/// </summary>
public sealed class BlockRollTieBreakTests
{
    private static readonly DateOnly D = new(2026, 3, 10);

    // Pairs whose ordinal order is the first before the second; several differ from UTF-8 byte order.
    public static IEnumerable<object[]> OrderedPairs =>
    [
        ["B", "a"],                          // mixed case: 'B' (0x42) < 'a' (0x61)
        ["ev-1", "ev-1x"],                   // a prefix first
        ["", "a"],
        ["z", "é"],                          // ASCII before Latin-1
        ["é", "中"],
        ["\U0001F600", "\uE000"],            // a surrogate pair (U+1F600) before a private-use BMP char: UTF-8 says the opposite
        ["\U0001F600", "\uFFFD"],
        ["\U0001F600", "\U0001F601"],        // two pairs: by code point
        ["\uD7FF", "\U00010000"],            // just below the surrogates, then the first pair
        ["a\U0001F600b", "a\uFF21"],          // differing after a shared prefix
        ["中\U00020000", "中\uFFFF"],
    ];

    [Theory]
    [MemberData(nameof(OrderedPairs))]
    public void Utf8_comparison_is_ordinal_utf16(string first, string second)
    {
        Assert.True(string.CompareOrdinal(first, second) < 0, "test data");
        var a = Encoding.UTF8.GetBytes(first);
        var b = Encoding.UTF8.GetBytes(second);
        Assert.True(Utf16Order.Compare(a, b) < 0);
        Assert.True(Utf16Order.Compare(b, a) > 0);
        Assert.Equal(0, Utf16Order.Compare(a, a));
    }

    [Fact]
    public void Utf8_comparison_agrees_with_ordinal_on_random_strings()
    {
        var rng = new Random(7);
        string[] alphabet = ["a", "B", "z", "0", "é", "ÿ", "中", "\uD7FF", "\uE000", "\uFFFD", "\uFFFF", "\U00010000", "\U0001F600", "\U0010FFFF"];
        for (var n = 0; n < 20_000; n++)
        {
            string Make() => string.Concat(Enumerable.Range(0, rng.Next(0, 5)).Select(_ => alphabet[rng.Next(alphabet.Length)]));
            var x = Make();
            var y = Make();
            Assert.Equal(Math.Sign(string.CompareOrdinal(x, y)), Math.Sign(Utf16Order.Compare(Encoding.UTF8.GetBytes(x), Encoding.UTF8.GetBytes(y))));
        }
    }

    [Fact]
    public void Ill_formed_utf8_compares_and_interns_as_its_decoded_string()
    {
        // The block decoder replaces ill-formed bytes by U+FFFD: so do the comparison and the shard-day ids.
        byte[] bad = [(byte)'a', 0xFF], alsoBad = [(byte)'a', 0xC3], replaced = Encoding.UTF8.GetBytes("a\uFFFD");
        Assert.Equal(0, Utf16Order.Compare(bad, replaced));
        Assert.True(Utf16Order.Compare(bad, Encoding.UTF8.GetBytes("a\U0001F600")) > 0);
        var strings = new Utf8Strings();
        var id = strings.Intern(bad);
        Assert.Equal(id, strings.Intern(alsoBad));
        Assert.Equal(id, strings.Intern(replaced));
        Assert.Equal("a\uFFFD", strings.Get(id));
        Assert.NotEqual(id, strings.Intern("a"u8));
        Assert.Equal(0, strings.Intern([]));
    }

    [Theory]
    [MemberData(nameof(OrderedPairs))]
    public void Earliest_session_start_and_first_and_last_page_view_follow_ordinal_ids(string first, string second)
    {
        var t = Ev.At(D, 9);
        // Same time everywhere: the ids decide. The events are given in the order that a byte-wise rule would get wrong
        // half of the time (both orders are tried).
        foreach (var reversed in new[] { false, true })
        {
            var starts = new[] { Ev.Start("u1", "mp", "s1", t, scene: 1001, id: "s:" + first), Ev.Start("u1", "mp", "s1", t, scene: 1007, id: "s:" + second) };
            var views = new[] { Ev.PageView("u1", "mp", "s1", t, "/first", id: "p:" + first), Ev.PageView("u1", "mp", "s1", t, "/second", id: "p:" + second) };
            var orders = new[] { Ev.Paid("u1", "mp", "m", "o1", 100, "CNY", t, id: "o:" + second), Ev.Paid("u1", "mp", "m", "o1", 200, "CNY", t, id: "o:" + first) };
            List<PipelineEvent> events = reversed ? [.. starts.Reverse(), .. views.Reverse(), .. orders.Reverse()] : [.. starts, .. views, .. orders];

            var engine = new RollupEngine(SceneTable.Default, 0.01);
            var fromEvents = engine.RollShard(D, events, WindowState.Empty());
            // One block per event: every id and string comes from a different block dictionary.
            var fromBlocks = engine.RollShard(D, events.Select(e => (ReadOnlyMemory<byte>)EventBlockCodec.Encode([e])).ToList(), WindowState.Empty());

            var session = Assert.Single(fromBlocks.State.Sessions).Value;
            Assert.Equal("s:" + first, session.StartEventId);
            Assert.Equal(1001, session.Scene);
            var agg = fromBlocks.Partial.Aggregate;
            Assert.Equal(1, agg.Get("pages.entries", "miniProgram.page", "mp/first"));
            Assert.Equal(1, agg.Get("pages.exits", "miniProgram.page", "mp/second"));
            var order = Assert.Single(fromBlocks.Partial.Orders);
            Assert.Equal(("o:" + first, 200L), (order.EventId, order.Amount));

            Assert.Equal(ShardPartialCodec.Encode(fromEvents.Partial), ShardPartialCodec.Encode(fromBlocks.Partial));
            Assert.Equal(WindowStateCodec.Encode(fromEvents.State), WindowStateCodec.Encode(fromBlocks.State));
        }
    }

    [Fact]
    public void A_lone_surrogate_id_ties_as_the_replacement_character()
    {
        // Encoded as UTF-8, "\uD800" becomes U+FFFD, which is ordinally after every surrogate pair.
        var t = Ev.At(D, 9);
        var events = new List<PipelineEvent>
        {
            Ev.Start("u1", "mp", "s1", t, scene: 1001, id: "\uD800"),
            Ev.Start("u1", "mp", "s1", t, scene: 1007, id: "\U0001F600"),
        };
        var blocks = new List<ReadOnlyMemory<byte>> { EventBlockCodec.Encode(events) };
        var decoded = EventBlockCodec.Decode(blocks[0].Span);
        var engine = new RollupEngine(SceneTable.Default, 0.01);
        var fromBlocks = engine.RollShard(D, blocks, WindowState.Empty());
        var fromDecoded = engine.RollShard(D, decoded, WindowState.Empty());
        Assert.Equal("\U0001F600", Assert.Single(fromBlocks.State.Sessions).Value.StartEventId);
        Assert.Equal(WindowStateCodec.Encode(fromDecoded.State), WindowStateCodec.Encode(fromBlocks.State));
    }
}
