using Pipeline.Core.Catalog;
using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>Late events, re-rolls, empty days and shard independence.</summary>
public sealed class RollupEngineRerollTests
{
    private static readonly DateOnly D = new(2026, 11, 23);

    [Fact]
    public void Late_event_rerolled_from_its_day_equals_a_roll_from_scratch()
    {
        var e = Engine();
        var next = D.AddDays(1);
        PipelineEvent[] onD = [Start("u1", "mp1", "a", At(D, 9), 1001)];
        PipelineEvent[] onNext = [Start("u1", "mp1", "b", At(next, 9), 1001), Start("u2", "mp1", "c", At(next, 10), 1011)];
        PipelineEvent late = Start("u2", "mp2", "z", At(D, 23), 1007);

        var first = e.Roll(D, WindowState.Empty(), onD);
        var firstNext = e.Roll(next, first.State, onNext);
        Assert.Equal(1, firstNext.V("users.new"));
        firstNext.AssertRatio("users.retention_d1", 1, 1);

        // The late event lands on D: re-roll D from the state of D-1 (empty) and D+1 from the new D.
        var reroll = e.Roll(D, WindowState.Empty(), [.. onD, late]);
        var rerollNext = e.Roll(next, reroll.State, onNext);

        // From scratch, with every event known from the start, in another order and other shards.
        var scratch = e.RollUp(D, Sharded([late, .. onD], 3), WindowState.Empty());
        var scratchNext = e.RollUp(next, Sharded(onNext.Reverse(), 3), scratch.State);

        Assert.Equal(scratch.Rows, reroll.Rows);
        Assert.Equal(scratchNext.Rows, rerollNext.Rows);
        Assert.Equal(WindowStateCodec.Encode(scratchNext.State), WindowStateCodec.Encode(rerollNext.State));
        Assert.Equal(0, rerollNext.V("users.new")); // u2 is new on D now
        rerollNext.AssertRatio("users.retention_d1", 2, 2);
        Assert.Equal(1, rerollNext.V("users.new", "miniProgram", "mp1")); // u2 is still new in mp1 on D+1
    }

    [Fact]
    public void A_reroll_can_remove_a_dimension_value()
    {
        var e = Engine();
        var prev = D.AddDays(-1);
        PipelineEvent[] onD = [Start("u1", "mp1", "s1", At(D, 0, 10), 1011)]; // qr
        var before = e.Roll(prev, WindowState.Empty());
        var original = e.Roll(D, before.State, onD);
        Assert.Equal(1, original.V("users.sessions", "channel", "qr"));
        Assert.Equal(1, original.V("users.dau", "miniProgram", "mp1"));

        // A late session_start of the same session on D-1: the session is on D-1, not D.
        var rerolledPrev = e.Roll(prev, WindowState.Empty(), Start("u1", "mp1", "s1", At(prev, 23, 55), 1001));
        var rerolled = e.Roll(D, rerolledPrev.State, onD);
        rerolled.AssertNoRow("users.sessions", "channel", "qr");
        rerolled.AssertNoRow("users.dau", "miniProgram", "mp1");
        rerolled.AssertNoRow("users.channel_share", "channel", "qr");
        Assert.Equal(0, rerolled.V("users.sessions"));
        Assert.Equal(1, rerolledPrev.V("users.sessions", "channel", "recent"));
    }

    [Fact]
    public void An_empty_day_has_a_zero_total_row_of_every_count_and_sum_and_nothing_else()
    {
        var r = Engine().RollUp(D, [[], []], WindowState.Empty());
        var expected = MetricCatalog.All
            .Where(m => m.Kind is MetricKind.Count or MetricKind.Sum && m.HasDimension("total") && RollupEngine.ComputedMetricIds.Contains(m.Id))
            .Select(m => m.Id).OrderBy(x => x, StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, r.Rows.Select(x => x.Metric).ToArray());
        Assert.All(r.Rows, x => Assert.Equal(("total", "", 0.0, (double?)null), (x.Dimension, x.DimensionValue, x.Value, x.Numerator)));
        Assert.Equal(0, r.V("users.dau"));
        Assert.Equal(0, r.V("businesses.orders"));
        Assert.Equal(0, r.V("platform.time_spent_s"));
        Assert.Equal(0, r.V("northstar.engaged_users"));
        r.AssertNoRow("users.stickiness");
        r.AssertNoRow("developers.load_time_p95_ms");
        Assert.Equal(D.DayNumber, r.State.AsOfDay);
    }

    [Fact]
    public void Sharding_by_user_does_not_change_any_number()
    {
        var events = MixedDay(D);
        var single = Engine().RollUp(D, [events], WindowState.Empty());
        foreach (var shards in new[] { 2, 5, 16 })
        {
            var sharded = Engine().RollUp(D, Sharded(events, shards), WindowState.Empty());
            Assert.Equal(single.Rows, sharded.Rows);
            Assert.Equal(WindowStateCodec.Encode(single.State), WindowStateCodec.Encode(sharded.State));
        }
        Assert.Equal(events.Count, single.EventsRead);
    }

    [Fact]
    public void Rows_are_sorted_and_carry_catalog_facts_and_the_given_state_is_not_modified()
    {
        var e = Engine();
        var before = e.RollUp(D.AddDays(-1), [MixedDay(D.AddDays(-1))], WindowState.Empty());
        var bytes = WindowStateCodec.Encode(before.State);
        var r = e.RollUp(D, [MixedDay(D)], before.State);
        Assert.Equal(bytes, WindowStateCodec.Encode(before.State));
        var sorted = r.Rows.OrderBy(x => x.Metric, StringComparer.Ordinal).ThenBy(x => x.Dimension, StringComparer.Ordinal).ThenBy(x => x.DimensionValue, StringComparer.Ordinal);
        Assert.Equal(sorted, r.Rows);
        foreach (var row in r.Rows)
        {
            var def = MetricCatalog.Get(row.Metric);
            Assert.True(RollupEngine.ComputedMetricIds.Contains(row.Metric));
            Assert.Equal((def.Stakeholder, def.Tier, def.Unit, D), (row.Stakeholder, row.Tier, row.Unit, row.Date));
            Assert.True(def.HasDimension(row.Dimension), $"{row.Metric} has no dimension {row.Dimension}");
            Assert.Equal(def.Kind == MetricKind.Ratio, row.Denominator is not null);
            Assert.True(double.IsFinite(row.Value));
        }
        Assert.Throws<ArgumentException>(() => e.RollUp(D, [], r.State)); // the state is already as of D
    }

    /// <summary>A day with a bit of everything, for the invariance tests.</summary>
    internal static List<PipelineEvent> MixedDay(DateOnly day)
    {
        var list = new List<PipelineEvent>();
        var scenes = new[] { 1001, 1007, 1011, 1047, 1005, 1024, 1045, 1019, 1037, 4242 };
        var platforms = new[] { Platform.Ios, Platform.Android, Platform.Unknown };
        for (var u = 0; u < 40; u++)
        {
            var user = $"user{u}";
            var mp = $"mp{u % 4}";
            var sid = $"s{day.DayNumber}-{u}";
            list.Add(Start(user, mp, sid, At(day, 8, u), scenes[u % scenes.Length], platforms[u % 3], loadMs: 100 + u * 7));
            list.Add(PageView(user, mp, sid, At(day, 9, u), "/p" + (u % 3), 1000 + u));
            list.Add(PageView(user, mp, sid, At(day, 9, u, 30), "/p" + (u % 5)));
            list.Add(End(user, mp, sid, At(day, 10, u), 5_000 + u * 2_000));
            if (u % 3 == 0) list.Add(Share(user, mp, sid, At(day, 9, u, 40), "/p0"));
            if (u % 4 == 0) list.Add(Paid(user, mp, "m" + (u % 3), $"o{day.DayNumber}-{u / 8}", 100 + u, u % 8 == 0 ? "CNY" : "USD", At(day, 11, u), sid));
            if (u % 5 == 0) list.Add(Error(user, mp, sid, At(day, 9, u, 50), u % 10 == 0 ? ErrorKind.Crash : ErrorKind.Network));
            if (u % 6 == 0) list.Add(Simple(EventType.AdImpression, user, mp, At(day, 12, u), sid, 3, "CNY"));
            if (u % 7 == 0) list.Add(Simple(EventType.AdClick, user, mp, At(day, 12, u), sid));
            if (u % 9 == 0) list.Add(Simple(EventType.Complaint, user, mp, At(day, 13, u)));
        }
        list.Add(Publish("mp1", "devA", At(day, 7)));
        return list;
    }
}
