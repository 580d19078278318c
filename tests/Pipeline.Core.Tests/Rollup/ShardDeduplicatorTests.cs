using Pipeline.Core.Events;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// The contract's de-duplication, decided in the user's shard: the same (source, eventId) counts once for 30
/// days, and the copy received first is the one that counts.
/// </summary>
public sealed class ShardDeduplicatorTests
{
    private static readonly DateOnly D = new(2026, 11, 23);
    private static readonly DateOnly Today = D.AddDays(1);

    private static PipelineEvent E(string id, string page = "/p") => new()
    {
        EventId = id, Type = EventType.PageView, TimeMs = 0, UserKey = "u1", MiniProgramId = "wx", Page = page,
    };

    /// <summary>One block per batch: (source, received ms, event ids).</summary>
    private static List<ReadOnlyMemory<byte>> Blocks(params (string Source, long Received, string[] Ids)[] batches) =>
        batches.Select(b => (ReadOnlyMemory<byte>)EventBlockCodec.Encode(b.Ids.Select(id => E(id)).ToList(), b.Source, b.Received)).ToList();

    private static DedupDecision Run(EventIdWindow window, DateOnly today, params (DateOnly Day, List<ReadOnlyMemory<byte>> Blocks, DuplicateCopies? Previous)[] days) =>
        ShardDeduplicator.Decide(days.Select(d => ShardDeduplicator.Scan(d.Day, d.Blocks, window, d.Previous ?? DuplicateCopies.None, today)).ToList(), window, today);

    [Fact]
    public void Within_a_day_the_copy_received_first_counts_even_when_it_was_folded_later()
    {
        // Position 0 was received at 2000, position 2 (same id) at 1000: a batch processed late.
        var decision = Run(EventIdWindow.Empty, Today, (D, Blocks(("sdk", 2000, ["a", "b"]), ("sdk", 1000, ["a"])), null));

        Assert.Equal([0L], decision.Dropped[D].Positions.ToArray());
        Assert.Equal(1, decision.NewlyDropped[D]);
        Assert.True(decision.Window.TryFind(EventIdHash.Of("sdk", "a"), out var entry));
        Assert.Equal((D.DayNumber, 2L, Today.DayNumber), (entry.Day, entry.Position, entry.CountedOn));
        Assert.Equal(2, decision.Window.Count);
    }

    [Fact]
    public void A_retry_stamped_across_midnight_onto_the_day_before_does_not_beat_the_first_copy()
    {
        var decision = Run(EventIdWindow.Empty, Today,
            (D.AddDays(-1), Blocks(("sdk", 5000, ["a"])), null),  // the retry, received later, stamped 23:59:59.998
            (D, Blocks(("sdk", 4000, ["a"])), null));              // the first copy

        Assert.Equal([0L], decision.Dropped[D.AddDays(-1)].Positions.ToArray());
        Assert.Equal(0, decision.Dropped[D].Count);
    }

    [Fact]
    public void The_same_id_from_another_source_is_another_event()
    {
        var decision = Run(EventIdWindow.Empty, Today, (D, Blocks(("payments", 1, ["a"]), ("ads", 2, ["a"])), null));

        Assert.Equal(0, decision.Dropped[D].Count);
        Assert.Equal(2, decision.Window.Count);
    }

    [Fact]
    public void A_later_run_drops_a_new_copy_and_keeps_the_counted_one_when_it_rolls_its_day_again()
    {
        var first = Run(EventIdWindow.Empty, Today, (D, Blocks(("sdk", 1, ["a"])), null));

        // Next day a late retry lands on D (position 1) and another on D + 1.
        var next = Run(first.Window, Today.AddDays(1),
            (D, Blocks(("sdk", 1, ["a"]), ("sdk", 9, ["a"])), first.Dropped[D]),
            (D.AddDays(1), Blocks(("sdk", 10, ["a"])), null));

        Assert.Equal([1L], next.Dropped[D].Positions.ToArray());
        Assert.Equal([0L], next.Dropped[D.AddDays(1)].Positions.ToArray());
        Assert.False(next.WindowChanged); // nothing newly counted, nothing expired
    }

    [Fact]
    public void A_copy_dropped_once_stays_dropped_after_the_window_forgets_the_counted_copy()
    {
        var first = Run(EventIdWindow.Empty, Today, (D, Blocks(("sdk", 1, ["a"]), ("sdk", 2, ["a"])), null));
        Assert.Equal([1L], first.Dropped[D].Positions.ToArray());

        // 40 days later D is rolled again (a backfill): the window has expired, the drop has not.
        var later = Run(first.Window, Today.AddDays(40), (D, Blocks(("sdk", 1, ["a"]), ("sdk", 2, ["a"])), first.Dropped[D]));

        Assert.Equal([1L], later.Dropped[D].Positions.ToArray());
        Assert.Equal(0, later.NewlyDropped[D]);
        Assert.Equal(0, later.Window.Count); // the expired entry is pruned and not renewed by its own copy
    }

    [Fact]
    public void After_30_days_the_same_id_counts_again()
    {
        var first = Run(EventIdWindow.Empty, Today, (D, Blocks(("sdk", 1, ["a"])), null));
        var day29 = Run(first.Window, Today.AddDays(29), (D.AddDays(29), Blocks(("sdk", 2, ["a"])), null));
        var day30 = Run(first.Window, Today.AddDays(30), (D.AddDays(30), Blocks(("sdk", 3, ["a"])), null));

        Assert.Equal(1, day29.Dropped[D.AddDays(29)].Count);
        Assert.Equal(0, day30.Dropped[D.AddDays(30)].Count);
        Assert.True(day30.Window.TryFind(EventIdHash.Of("sdk", "a"), out var renewed));
        Assert.Equal(D.AddDays(30).DayNumber, renewed.Day);
    }

    [Fact]
    public void Events_after_the_scan_are_not_decided_and_the_roll_does_not_count_them()
    {
        var blocks = Blocks(("sdk", 1, ["a", "b"]));
        var scan = ShardDeduplicator.Scan(D, blocks, EventIdWindow.Empty, DuplicateCopies.None, Today);
        Assert.Equal(2, scan.Events);

        // A compaction appends a block after the scan: the roll is limited to what was scanned.
        blocks.Add(EventBlockCodec.Encode([E("c")], "sdk", 3));
        var engine = new RollupEngine(Pipeline.Core.Scenes.SceneTable.Default, 0.0);
        var rolled = engine.RollShard(D, blocks, WindowState.Empty(), DuplicateCopies.None, scan.Events);
        Assert.Equal(2, rolled.Partial.Events);
    }

    [Fact]
    public void Dropped_copies_are_not_counted_by_the_roll()
    {
        var engine = new RollupEngine(Pipeline.Core.Scenes.SceneTable.Default, 0.0);
        var blocks = new List<ReadOnlyMemory<byte>> { EventBlockCodec.Encode([E("a", "/x"), E("a", "/y"), E("b", "/y")], "sdk", 1) };
        var decision = Run(EventIdWindow.Empty, Today, (D, blocks, null));

        var rolled = engine.RollShard(D, blocks, WindowState.Empty(), decision.Dropped[D]);

        Assert.Equal(2, rolled.Partial.Events);
        Assert.Equal(1, rolled.Partial.Aggregate.Get("pages.views", "miniProgram.page", "wx/x"));
        Assert.Equal(1, rolled.Partial.Aggregate.Get("pages.views", "miniProgram.page", "wx/y"));
    }

    [Fact]
    public void Blocks_written_before_sources_were_stored_dedupe_by_event_id_alone()
    {
        var old = new List<ReadOnlyMemory<byte>> { EventBlockCodec.Encode([E("a"), E("a")]) };
        var decision = Run(EventIdWindow.Empty, Today, (D, old, null));
        Assert.Equal([1L], decision.Dropped[D].Positions.ToArray());
    }

    [Fact]
    public void The_window_and_the_drops_round_trip_and_reject_corruption()
    {
        var window = EventIdWindow.Of([new(EventIdHash.Of("s", "b"), 3, 7, 9), new(EventIdHash.Of("s", "a"), 1, 2, 3)]);
        var bytes = EventIdWindowCodec.Encode(window);
        Assert.Equal(window.Entries.ToArray(), EventIdWindowCodec.Decode(bytes).Entries.ToArray());
        bytes[20] ^= 1;
        Assert.Contains("checksum", Assert.Throws<InvalidDataException>(() => EventIdWindowCodec.Decode(bytes)).Message);
        Assert.Throws<InvalidDataException>(() => EventIdWindowCodec.Decode(bytes.AsSpan(0, bytes.Length - 1)));

        var drops = DuplicateCopies.Of([9, 2, 5, 2]);
        Assert.Equal([2L, 5, 9], DuplicateCopies.Decode(drops.Encode()).Positions.ToArray());
        var corrupt = drops.Encode();
        corrupt[10] ^= 1;
        Assert.Throws<InvalidDataException>(() => DuplicateCopies.Decode(corrupt));
        Assert.Throws<ArgumentException>(() => EventIdWindow.Of([new(1, 1, 1, 1), new(1, 2, 2, 2)]));
    }
}
