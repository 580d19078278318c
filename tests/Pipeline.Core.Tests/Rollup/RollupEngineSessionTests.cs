using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>Sessions, channels, engagement, pages and guardrails, with hand-worked numbers.</summary>
public sealed class RollupEngineSessionTests
{
    private static readonly DateOnly D = new(2026, 11, 23);

    [Fact]
    public void Sessions_by_channel_source_and_platform_use_the_earliest_session_start()
    {
        var r = Engine().Roll(D, WindowState.Empty(),
            Start("u1", "mp1", "s1", At(D, 10), 1011, Platform.Ios),        // later start of s1: ignored
            Start("u1", "mp1", "s1", At(D, 9), 1007, Platform.Android),     // earliest: share, source 3, android
            Start("u1", "mp1", "s2", At(D, 11), 1001, Platform.Ios),        // recent, source 1
            Start("u2", "mp2", "s1", At(D, 12), 1001, Platform.Android, id: "zz"),
            Start("u2", "mp2", "s1", At(D, 12), 1011, Platform.Android, id: "aa"), // same time: smallest id wins -> qr, source 4
            Start("u3", "mp1", "s9", At(D, 13), 4242, Platform.Unknown));   // unlisted scene: other, source 10

        Assert.Equal(4, r.V("users.sessions"));
        Assert.Equal(3, r.V("users.sessions", "miniProgram", "mp1"));
        Assert.Equal(1, r.V("users.sessions", "miniProgram", "mp2"));
        Assert.Equal(1, r.V("users.sessions", "channel", "share"));
        Assert.Equal(1, r.V("users.sessions", "channel", "recent"));
        Assert.Equal(1, r.V("users.sessions", "channel", "qr"));
        Assert.Equal(1, r.V("users.sessions", "channel", "other"));
        r.AssertNoRow("users.sessions", "channel", "explore");
        Assert.Equal(1, r.V("users.sessions", "source", "3"));
        Assert.Equal(1, r.V("users.sessions", "source", "1"));
        Assert.Equal(1, r.V("users.sessions", "source", "4"));
        Assert.Equal(1, r.V("users.sessions", "source", "10"));
        Assert.Equal(2, r.V("users.sessions", "platform", "android"));
        Assert.Equal(1, r.V("users.sessions", "platform", "ios"));
        Assert.Equal(1, r.V("users.sessions", "platform", "unknown"));

        Assert.Equal(3, r.V("users.dau"));
        Assert.Equal(1, r.V("users.dau", "channel", "share"));
        Assert.Equal(1, r.V("users.dau", "channel", "recent"));
        Assert.Equal(1, r.V("users.dau", "channel", "qr"));
        Assert.Equal(1, r.V("users.dau", "channel", "other"));
        Assert.Equal(2, r.V("users.dau", "platform", "android")); // u1 (s1) and u2
        Assert.Equal(1, r.V("users.dau", "platform", "ios"));
        Assert.Equal(1, r.V("users.dau", "platform", "unknown"));
        Assert.Equal(2, r.V("users.dau", "miniProgram", "mp1"));

        r.AssertRatio("users.channel_share", 1, 4, "channel", "share");
        r.AssertRatio("users.channel_share", 1, 4, "channel", "qr");
        r.AssertNoRow("users.channel_share", "channel", "explore");
        r.AssertRatio("users.sessions_per_user", 4, 3);
        r.AssertRatio("users.mini_programs_per_user", 3, 3);
        Assert.Equal(2, r.V("developers.active_mini_programs"));
    }

    [Fact]
    public void A_session_started_on_an_earlier_day_is_not_a_session_on_D()
    {
        var e = Engine();
        var before = e.Roll(D.AddDays(-1), WindowState.Empty(), Start("u1", "mp1", "s1", At(D.AddDays(-1), 23, 50), 1011));
        var r = e.Roll(D, before.State,
            Start("u1", "mp1", "s1", At(D, 0, 5), 1001), // a restart of the same session key
            PageView("u1", "mp1", "s1", At(D, 0, 6), "/a"));
        Assert.Equal(0, r.V("users.sessions"));
        Assert.Equal(0, r.V("users.dau"));
        Assert.Equal(1, r.V("users.page_views")); // page views count by day, whatever the session
        r.AssertNoRow("users.sessions_by_depth", "depthBucket", "1");
        r.AssertNoRow("pages.entries", "miniProgram.page", "mp1/a");
    }

    [Fact]
    public void Engaged_users_need_60000_ms_of_session_end_durations_or_a_share_or_an_order()
    {
        var e = Engine();
        var before = e.Roll(D.AddDays(-1), WindowState.Empty(), Paid("f", "mp1", "m1", "old", 100, "CNY", At(D.AddDays(-1), 12)));
        var r = e.Roll(D, before.State,
            End("a", "mp1", "s1", At(D, 9), 30_000),
            End("a", "mp1", "s2", At(D, 10), 29_999),   // a: 59 999 ms, not engaged
            End("b", "mp1", "s1", At(D, 9), 60_000),    // b: exactly 60 000 ms
            End("c", "mp1", "s1", At(D, 9), 30_000),
            End("c", "mp2", "s1", At(D, 9), 30_000),    // c: 60 000 ms overall, 30 000 in each program
            Share("d", "mp2", "s1", At(D, 9)),
            Paid("e", "mp2", "m1", "o1", 100, "CNY", At(D, 9)),
            Paid("f", "mp1", "m1", "old", 100, "CNY", At(D, 9))); // a repeat of an order paid the day before

        Assert.Equal(4, r.V("northstar.engaged_users")); // b, c, d, e
        Assert.Equal(1, r.V("northstar.engaged_users", "miniProgram", "mp1")); // b
        Assert.Equal(2, r.V("northstar.engaged_users", "miniProgram", "mp2")); // d, e
        Assert.Equal(179.999, r.V("platform.time_spent_s"), 9);
        r.AssertRatio("users.avg_session_duration_s", 179.999, 5);
        Assert.Equal(4, r.V("users.sessions_by_duration", "durationBucket", "21-30s")); // 29 999 and three 30 000
        Assert.Equal(1, r.V("users.sessions_by_duration", "durationBucket", "51-100s"));
        Assert.Equal(1, r.V("businesses.orders"));
        Assert.Equal(1, r.V("businesses.buyers"));
    }

    [Fact]
    public void Pages_depth_errors_and_guardrails()
    {
        var e = Engine();
        var before = e.Roll(D.AddDays(-1), WindowState.Empty(), Start("u3", "mp1", "s3", At(D.AddDays(-1), 23), 1001));
        var r = e.Roll(D, before.State,
            Start("u1", "mp1", "s1", At(D, 9, 59), 1001),
            PageView("u1", "mp1", "s1", At(D, 10, 0), "/a", 2000),
            PageView("u1", "mp1", "s1", At(D, 10, 1), "/b", 4000),
            PageView("u1", "mp1", "s1", At(D, 10, 2), "/a"),
            Error("u1", "mp1", "s1", At(D, 10, 3), ErrorKind.JsError),
            Share("u1", "mp1", "s1", At(D, 10, 4), "/a"),
            Start("u2", "mp1", "s2", At(D, 10, 59), 1007),
            PageView("u2", "mp1", "s2", At(D, 11, 0), "/b"),
            Error("u2", "mp1", "s2", At(D, 11, 1), ErrorKind.Crash),
            PageView("u3", "mp1", "s3", At(D, 0, 1), "/c"),     // session on D-1
            Simple(EventType.Complaint, "u2", "mp1", At(D, 12)),
            Simple(EventType.PermissionDenied, "u2", "mp1", At(D, 12)),
            Simple(EventType.AdImpression, "u1", "mp1", At(D, 12)),
            Simple(EventType.AdImpression, "u1", "mp1", At(D, 12)),
            Simple(EventType.AdImpression, "u2", "mp1", At(D, 12)),
            Simple(EventType.AdClick, "u2", "mp1", At(D, 12)));

        Assert.Equal(5, r.V("users.page_views"));
        r.AssertRatio("users.visit_depth", 5, 2);
        Assert.Equal(2, r.V("pages.views", "miniProgram.page", "mp1/a"));
        Assert.Equal(2, r.V("pages.views", "miniProgram.page", "mp1/b"));
        Assert.Equal(1, r.V("pages.views", "miniProgram.page", "mp1/c"));
        Assert.Equal(1, r.V("pages.visitors", "miniProgram.page", "mp1/a"));
        Assert.Equal(2, r.V("pages.visitors", "miniProgram.page", "mp1/b"));
        r.AssertRatio("pages.avg_stay_s", 2, 1, "miniProgram.page", "mp1/a");
        r.AssertRatio("pages.avg_stay_s", 4, 1, "miniProgram.page", "mp1/b");
        r.AssertNoRow("pages.avg_stay_s", "miniProgram.page", "mp1/c");
        Assert.Equal(1, r.V("pages.entries", "miniProgram.page", "mp1/a"));
        Assert.Equal(1, r.V("pages.entries", "miniProgram.page", "mp1/b"));
        r.AssertNoRow("pages.entries", "miniProgram.page", "mp1/c");
        Assert.Equal(1, r.V("pages.exits", "miniProgram.page", "mp1/a"));
        Assert.Equal(1, r.V("pages.exits", "miniProgram.page", "mp1/b"));
        Assert.Equal(1, r.V("pages.shares", "miniProgram.page", "mp1/a"));
        Assert.Equal(1, r.V("users.sessions_by_depth", "depthBucket", "3"));
        Assert.Equal(1, r.V("users.sessions_by_depth", "depthBucket", "1"));

        r.AssertRatio("developers.error_rate", 2, 2);
        r.AssertRatio("developers.error_rate", 2, 2, "miniProgram", "mp1");
        r.AssertRatio("risk.crash_rate", 1, 2);
        var complaints = r.Find("risk.complaints_per_10k_sessions")!;
        Assert.Equal((1.0, 2.0, 5000.0), (complaints.Numerator!.Value, complaints.Denominator!.Value, complaints.Value));
        r.AssertRatio("risk.permission_denial_rate", 1, 2);
        r.AssertRatio("platform.ad_ctr", 1, 3);
        r.AssertRatio("risk.ad_load", 3, 2);
        r.AssertRatio("users.share_rate", 1, 2); // u3 is not active on D
        r.AssertRatio("users.share_opens_per_share", 1, 1); // s2 entered from a chat share
        r.AssertRatio("risk.top10_session_share", 2, 2);
    }

    [Fact]
    public void Load_time_percentiles_are_exact_nearest_rank()
    {
        var events = new List<PipelineEvent>();
        for (var i = 1; i <= 20; i++) events.Add(Start("a" + i, "mp1", "s", At(D, 9), 1001, loadMs: i * 10));
        for (var i = 1; i <= 7; i++) events.Add(Start("b" + i, "mp2", "s", At(D, 9), 1001, loadMs: i * 100));
        events.Add(Start("c", "mp2", "s", At(D, 9), 1001)); // no loadMs: left out
        var r = Engine().RollUp(D, [events], WindowState.Empty());

        Assert.Equal(190, r.V("developers.load_time_p95_ms", "miniProgram", "mp1")); // rank ceil(0.95*20) = 19
        Assert.Equal(100, r.V("developers.load_time_p50_ms", "miniProgram", "mp1")); // rank 10
        Assert.Equal(700, r.V("developers.load_time_p95_ms", "miniProgram", "mp2")); // rank ceil(6.65) = 7
        Assert.Equal(400, r.V("developers.load_time_p50_ms", "miniProgram", "mp2")); // rank ceil(3.5) = 4
        // All 27: 10..200 by 10 and 100..700 by 100; rank 26 is 600, rank 14 is 130.
        Assert.Equal(600, r.V("developers.load_time_p95_ms"));
        Assert.Equal(130, r.V("developers.load_time_p50_ms"));
        Assert.Equal("ms", r.Find("developers.load_time_p95_ms")!.Unit);
    }

    [Fact]
    public void Nearest_rank_of_a_single_value_and_of_exact_ranks()
    {
        Assert.Equal(5, DayFinaliser.NearestRank([5], 95));
        Assert.Equal(5, DayFinaliser.NearestRank([5], 50));
        Assert.Equal(2, DayFinaliser.NearestRank([1, 2, 3, 4], 50)); // rank 2
        Assert.Equal(95, DayFinaliser.NearestRank(Enumerable.Range(1, 100).Select(i => (long)i).ToArray(), 95)); // rank 95
    }

    [Fact]
    public void Developers_registry_new_programs_releases_and_owners()
    {
        var e = Engine();
        var d0 = D.AddDays(-1);
        var before = e.Roll(d0, WindowState.Empty(), Publish("mp1", "dev1", At(d0, 9)));
        var r = e.Roll(D, before.State,
            Publish("mp1", "dev2", At(D, 9), id: "x1"),
            Publish("mp1", "dev3", At(D, 9), id: "x2"), // same time, greater id: the latest
            Publish("mp2", "dev4", At(D, 10)),
            Start("u1", "mp1", "s", At(D, 11), 1001),
            Start("u2", "mp9", "s", At(D, 11), 1001)); // never published: no owner

        Assert.Equal(1, before.V("developers.new_mini_programs"));
        Assert.Equal(3, r.V("developers.releases"));
        Assert.Equal(2, r.V("developers.releases", "miniProgram", "mp1"));
        Assert.Equal(1, r.V("developers.new_mini_programs")); // mp2
        Assert.Equal(2, r.V("developers.active_mini_programs")); // mp1, mp9
        Assert.Equal(1, r.V("developers.active_developers")); // dev3 owns mp1
        Assert.Equal("dev3", r.State.Programs["mp1"].DeveloperId);
        Assert.Equal(d0.DayNumber, r.State.Programs["mp1"].FirstPublishDay);
    }

    [Fact]
    public void Mini_programs_with_100_dau_and_top10_session_share()
    {
        var events = new List<PipelineEvent>();
        for (var i = 0; i < 100; i++) events.Add(Start("a" + i, "big", "s", At(D, 9), 1001));
        for (var i = 0; i < 99; i++) events.Add(Start("b" + i, "almost", "s", At(D, 9), 1001));
        // Ten more programs with 1 session each: 12 programs in all; the top 10 by sessions are big, almost
        // and the 8 smallest ids of the ties (p00..p07); p08 and p09 are left out.
        for (var i = 0; i < 10; i++) events.Add(Start("c" + i, $"p{i:D2}", "s", At(D, 9), 1001));
        var r = Engine().RollUp(D, Sharded(events, 4), WindowState.Empty());
        Assert.Equal(1, r.V("developers.mini_programs_with_100_dau"));
        r.AssertRatio("risk.top10_session_share", 207, 209);
    }
}
