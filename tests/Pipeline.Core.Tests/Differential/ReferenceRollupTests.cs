using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Differential;

/// <summary>
/// The reference itself on hand-worked cases that the generated datasets cannot check by eye: the caps on custom
/// event names (small caps through the constructor), and referred sessions.
/// </summary>
public sealed class ReferenceRollupTests
{
    private static readonly DateOnly D = new(2026, 11, 23);

    private static PipelineEvent Custom(string user, string mp, string name, int minute) => new()
    {
        EventId = $"c-{user}-{mp}-{name}-{minute}", Type = EventType.Custom, CustomName = name, TimeMs = At(D, 9, minute), UserKey = user, MiniProgramId = mp,
    };

    private static List<PipelineEvent> CustomDay() =>
    [
        Custom("u1", "wxa", "b", 1), Custom("u1", "wxa", "b", 2), Custom("u2", "wxa", "a", 3), Custom("u1", "wxa", "c", 4), Custom("u3", "wxa", "_x", 5),
        Custom("u2", "wxb", "a", 6), Custom("u4", "wxb", "zz", 7), Custom("u3", "wxb", "zz", 8),
    ];

    private static Dictionary<(string, string, string), double> Rows(ReferenceRollup reference, DateOnly day) =>
        reference.RowsOf(day).ToDictionary(r => (r.Metric, r.Dimension, r.DimensionValue), r => r.Value);

    [Fact]
    public void Custom_names_past_the_caps_count_as_other_kept_names_are_the_ordinally_smallest()
    {
        // Ordinal order: "_x" (0x5F) < "a" < "b" < "c" < "zz". Caps: 2 names per mini-program, 3 for the whole day.
        // wxa has _x, a, b, c: keeps _x, a; b (2 events, u1) and c (1 event, u1) are (other): 3 events, 1 user.
        // wxb has a, zz: keeps both. The day has _x, a, b, c, zz: keeps _x, a, b; c and zz are (other): 3 events, users u1, u4, u3.
        var rows = Rows(new ReferenceRollup(CustomDay(), new Dictionary<DateOnly, IngestTotals>(), SceneTable.Default, 0.006, perMiniProgramCap: 2, ecosystemCap: 3), D);
        var custom = rows.Where(kv => kv.Key.Item1.StartsWith("custom.", StringComparison.Ordinal)).ToDictionary();
        var expected = new Dictionary<(string, string, string), double>
        {
            [("custom.events", "total", "")] = 8,
            [("custom.events", "miniProgram.event", "wxa/_x")] = 1, [("custom.users", "miniProgram.event", "wxa/_x")] = 1,
            [("custom.events", "miniProgram.event", "wxa/a")] = 1, [("custom.users", "miniProgram.event", "wxa/a")] = 1,
            [("custom.events", "miniProgram.event", "wxa/(other)")] = 3, [("custom.users", "miniProgram.event", "wxa/(other)")] = 1,
            [("custom.events", "miniProgram.event", "wxb/a")] = 1, [("custom.users", "miniProgram.event", "wxb/a")] = 1,
            [("custom.events", "miniProgram.event", "wxb/zz")] = 2, [("custom.users", "miniProgram.event", "wxb/zz")] = 2,
            [("custom.events", "event", "_x")] = 1, [("custom.users", "event", "_x")] = 1,
            [("custom.events", "event", "a")] = 2, [("custom.users", "event", "a")] = 1, // u2 in both mini-programs
            [("custom.events", "event", "b")] = 2, [("custom.users", "event", "b")] = 1,
            [("custom.events", "event", "(other)")] = 3, [("custom.users", "event", "(other)")] = 3,
        };
        Assert.Equal(expected.OrderBy(kv => kv.Key), custom.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void With_the_default_caps_every_name_is_kept_and_a_day_without_custom_events_has_only_the_total()
    {
        var reference = new ReferenceRollup(CustomDay().Append(Start("u9", "wxa", "s", At(D.AddDays(1), 9), 1001)), new Dictionary<DateOnly, IngestTotals>(), SceneTable.Default, 0.006);
        Assert.Equal((100, 1000), (ReferenceRollup.CustomNamesPerMiniProgram, ReferenceRollup.CustomNamesEcosystem));
        var rows = Rows(reference, D);
        Assert.Equal(2, rows[("custom.events", "miniProgram.event", "wxa/b")]);
        Assert.Equal(1, rows[("custom.events", "event", "c")]);
        Assert.Equal(2, rows[("custom.users", "event", "zz")]);
        Assert.DoesNotContain(rows.Keys, k => k.Item3.EndsWith(ReferenceRollup.OtherCustomName, StringComparison.Ordinal));
        Assert.DoesNotContain(rows.Keys, k => k is ("custom.users", "total", _));

        var next = Rows(reference, D.AddDays(1));
        Assert.Equal(0, next[("custom.events", "total", "")]);
        Assert.Single(next.Keys, k => k.Item1.StartsWith("custom.", StringComparison.Ordinal));
    }

    [Fact]
    public void Referred_sessions_are_judged_by_the_session_s_earliest_start_and_the_total_is_written_even_when_0()
    {
        PipelineEvent Referred(string user, string mp, string session, int hour, string? referrer, string? id = null) => new()
        {
            EventId = id ?? $"r-{user}-{session}-{hour}", Type = EventType.SessionStart, TimeMs = At(D, hour), UserKey = user, MiniProgramId = mp,
            SessionId = session, Scene = 1037, Platform = Platform.Ios, ReferrerMiniProgramId = referrer,
        };
        var reference = new ReferenceRollup(
        [
            Referred("u1", "wxa", "s1", 9, "wxb"),
            Referred("u1", "wxa", "s1", 10, null),    // a later start of s1: its referrer is s1's earliest start's
            Referred("u2", "wxa", "s2", 9, null),
            Referred("u2", "wxa", "s2", 11, "wxb"),   // later: not s2's referrer
            Referred("u3", "wxa", "s3", 9, "wxb"),
            Referred("u4", "wxb", "s4", 9, "wxa"),
            Referred("u5", "wxb", "s5", 9, "wxb"),    // its own mini-program: counted as sent
            Start("u6", "wxc", "s6", At(D.AddDays(1), 9), 1001),
        ], new Dictionary<DateOnly, IngestTotals>(), SceneTable.Default, 0.006);

        var rows = Rows(reference, D);
        Assert.Equal(4, rows[("users.referred_sessions", "total", "")]);
        Assert.Equal(2, rows[("users.referred_sessions", "miniProgram.referrer", "wxa/wxb")]);
        Assert.Equal(1, rows[("users.referred_sessions", "miniProgram.referrer", "wxb/wxa")]);
        Assert.Equal(1, rows[("users.referred_sessions", "miniProgram.referrer", "wxb/wxb")]);
        Assert.Equal(5, rows[("users.sessions", "total", "")]);

        var next = Rows(reference, D.AddDays(1));
        Assert.Equal(0, next[("users.referred_sessions", "total", "")]);
        Assert.DoesNotContain(next.Keys, k => k.Item2 == "miniProgram.referrer");
    }
}
