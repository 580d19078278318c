using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>Active-user windows, new users and retention, on small datasets whose numbers are worked out by hand.</summary>
public sealed class RollupEngineWindowTests
{
    private static readonly DateOnly D0 = new(2026, 11, 2); // a Monday; D0+29 is 2026-12-01

    [Fact]
    public void Dau_wau_mau_wtd_mtd_and_cumulative_follow_their_windows_over_31_days()
    {
        // A: day 0. B: days 0 and 10. C: days 29 and 30. E: day 30. All in mini-program wxa.
        var days = Engine().RollDays(D0, 31, day =>
        {
            var n = day.DayNumber - D0.DayNumber;
            var list = new List<PipelineEvent>();
            if (n == 0) list.Add(Start("A", "wxa", "s", At(day, 9), 1001));
            if (n is 0 or 10) list.Add(Start("B", "wxa", "s" + n, At(day, 9), 1001));
            if (n is 29 or 30) list.Add(Start("C", "wxa", "s" + n, At(day, 9), 1001));
            if (n == 30) list.Add(Start("E", "wxa", "s", At(day, 9), 1001));
            return list.ToArray();
        });

        var d0 = days[0];
        Assert.Equal(2, d0.V("users.dau"));
        Assert.Equal(2, d0.V("users.wau"));
        Assert.Equal(2, d0.V("users.mau"));
        Assert.Equal(2, d0.V("users.new"));
        Assert.Equal(2, d0.V("users.cumulative"));

        var d6 = days[6]; // Sunday 2026-11-08: window [0, 6]
        Assert.Equal(0, d6.V("users.dau"));
        Assert.Equal(2, d6.V("users.wau"));
        Assert.Equal(2, d6.V("users.mau"));
        Assert.Equal(2, d6.V("users.wtd_active"));
        d6.AssertRatio("users.stickiness", 0, 2);

        var d7 = days[7]; // Monday: window [1, 7]
        Assert.Equal(0, d7.V("users.wau"));
        Assert.Equal(2, d7.V("users.mau"));
        Assert.Equal(0, d7.V("users.wtd_active"));
        d7.AssertRatio("users.retention_d7", 0, 2);

        var d10 = days[10]; // Thursday
        Assert.Equal(1, d10.V("users.dau"));
        Assert.Equal(1, d10.V("users.wau"));
        Assert.Equal(1, d10.V("users.wtd_active"));
        Assert.Equal(0, d10.V("users.new"));

        var d28 = days[28]; // 2026-11-30, the month's last day: A and B were active in November
        Assert.Equal(2, d28.V("users.mtd_active"));
        Assert.Equal(2, d28.V("users.mau"));

        var d29 = days[29]; // 2026-12-01
        Assert.Equal(1, d29.V("users.dau"));
        Assert.Equal(1, d29.V("users.wau"));
        Assert.Equal(3, d29.V("users.mau")); // [0, 29]: A, B, C
        Assert.Equal(1, d29.V("users.mtd_active"));
        Assert.Equal(3, d29.V("users.cumulative"));
        d29.AssertRatio("users.stickiness", 1, 3);
        Assert.Equal(3, d29.V("users.mau", "miniProgram", "wxa"));
        Assert.Equal(1, d29.V("users.wau", "miniProgram", "wxa"));
        d29.AssertRatio("users.stickiness", 1, 3, "miniProgram", "wxa");

        var d30 = days[30]; // [1, 30]: A drops out
        Assert.Equal(2, d30.V("users.dau"));
        Assert.Equal(2, d30.V("users.wau"));
        Assert.Equal(3, d30.V("users.mau"));
        Assert.Equal(2, d30.V("users.mtd_active"));
        Assert.Equal(4, d30.V("users.cumulative"));
        Assert.Equal(1, d30.V("users.new"));
        d30.AssertRatio("users.retention_d1", 1, 1); // C new on day 29, active on day 30
        d30.AssertRatio("users.retention_d30", 0, 2); // A and B new on day 0, neither active on day 30
        d30.AssertNoRow("users.retention_d7"); // nobody new on day 23: denominator 0
    }

    [Fact]
    public void New_users_and_retention_d1_overall_and_per_mini_program()
    {
        var d1 = D0.AddDays(1);
        var e = Engine();
        var day0 = e.Roll(D0, WindowState.Empty(),
            Start("A", "mp1", "a1", At(D0, 8), 1001),
            Start("B", "mp1", "b1", At(D0, 9), 1001),
            Start("B", "mp2", "b2", At(D0, 10), 1001));
        var day1 = e.Roll(d1, day0.State,
            Start("A", "mp1", "a3", At(d1, 8), 1001),
            Start("A", "mp2", "a4", At(d1, 9), 1001),
            Start("B", "mp2", "b3", At(d1, 9), 1001),
            Start("C", "mp1", "c1", At(d1, 11), 1001));

        Assert.Equal(2, day0.V("users.new"));
        Assert.Equal(2, day0.V("users.new", "miniProgram", "mp1"));
        Assert.Equal(1, day0.V("users.new", "miniProgram", "mp2"));
        day0.AssertNoRow("users.retention_d1");

        Assert.Equal(1, day1.V("users.new")); // C
        Assert.Equal(1, day1.V("users.new", "miniProgram", "mp1")); // C
        Assert.Equal(1, day1.V("users.new", "miniProgram", "mp2")); // A, new in mp2
        Assert.Equal(3, day1.V("users.dau"));
        Assert.Equal(2, day1.V("users.dau", "miniProgram", "mp1"));
        Assert.Equal(2, day1.V("users.dau", "miniProgram", "mp2"));
        day1.AssertRatio("users.retention_d1", 2, 2);
        day1.AssertRatio("users.retention_d1", 1, 2, "miniProgram", "mp1"); // A and B new in mp1 on day 0, only A back in it
        day1.AssertRatio("users.retention_d1", 1, 1, "miniProgram", "mp2"); // B
        Assert.Equal(3, day1.V("users.cumulative"));
        Assert.Equal(2, day1.V("users.cumulative", "miniProgram", "mp2"));
        day1.AssertRatio("users.mini_programs_per_user", 4, 3); // (A,mp1) (A,mp2) (B,mp2) (C,mp1)
    }

    [Fact]
    public void Returning_and_churned_after_90_days()
    {
        var e = Engine();
        var days = e.RollDays(D0, 92, day =>
        {
            var n = day.DayNumber - D0.DayNumber;
            var list = new List<PipelineEvent>();
            if (n is 0 or 91) list.Add(Start("A", "mp", "a" + n, At(day, 9), 1001));
            if (n is 1 or 91) list.Add(Start("B", "mp", "b" + n, At(day, 9), 1001));
            return list.ToArray();
        });
        Assert.Equal(1, days[90].V("users.churned_90d")); // A: latest session on D-90
        Assert.Equal(0, days[89].V("users.churned_90d"));
        Assert.Equal(1, days[91].V("users.returning_90d")); // A back after day 0 = D-91; B's day 1 is D-90
        Assert.Equal(0, days[91].V("users.churned_90d")); // B's latest is day 91 now
        Assert.Equal(0, days[90].V("users.returning_90d"));
    }

    [Fact]
    public void Viral_new_users_are_judged_by_the_earliest_session_start()
    {
        var r = Engine().Roll(D0, WindowState.Empty(),
            Start("A", "mp1", "a1", At(D0, 10), 1011), // qr, but not the earliest
            Start("A", "mp1", "a2", At(D0, 9), 1007),  // share: A's earliest
            Start("B", "mp1", "b1", At(D0, 9), 1011),
            Start("B", "mp2", "b2", At(D0, 11), 1044)); // share, B's earliest in mp2 but not overall
        Assert.Equal(1, r.V("users.viral_new_users"));
        Assert.Equal(1, r.V("users.viral_new_users", "miniProgram", "mp1"));
        Assert.Equal(1, r.V("users.viral_new_users", "miniProgram", "mp2"));
        Assert.Equal(2, r.V("users.sessions", "channel", "share"));
        r.AssertNoRow("users.share_opens_per_share"); // no share events: denominator 0
    }
}
