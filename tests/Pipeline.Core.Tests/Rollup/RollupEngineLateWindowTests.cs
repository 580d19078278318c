using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// A late event on D changes days 29 and 30 after it (the edges of the 30-day windows and the d30 cohort), worked by
/// hand: the differential suite checks the same on random datasets, this pins the edges.
/// </summary>
public sealed class RollupEngineLateWindowTests
{
    private static readonly DateOnly D = new(2026, 3, 2);

    // On time: u1 on D; u2 on D+29 (buying order o2) and again on D+30.
    private static PipelineEvent[] OnTime(DateOnly day) =>
        day == D ? [Start("u1", "mp1", "a", At(D, 9), 1001)]
        : day == D.AddDays(29) ? [Start("u2", "mp1", "b", At(day, 9), 1001), Paid("u2", "mp1", "m1", "o2", 500, "CNY", At(day, 10))]
        : day == D.AddDays(30) ? [Start("u2", "mp1", "c", At(day, 9), 1001)]
        : [];

    // Late, for D: u2's first session and first order.
    private static readonly PipelineEvent[] Late = [Start("u2", "mp1", "z", At(D, 20), 1001), Paid("u2", "mp1", "m1", "o1", 300, "CNY", At(D, 21))];

    [Fact]
    public void Without_the_late_events()
    {
        var days = Engine().RollDays(D, 31, OnTime);
        var (d29, d30) = (days[29], days[30]);

        Assert.Equal(1, d29.V("users.new")); // u2 is new on D+29
        Assert.Equal(2, d29.V("users.mau")); // u1 (D) and u2 in [D, D+29]
        d29.AssertRatio("businesses.repeat_buyer_rate_30d", 0, 1); // u2: one order (o2)

        Assert.Equal(1, d30.V("users.mau")); // [D+1, D+30]: u1's day has left the window
        d30.AssertRatio("users.retention_d30", 0, 1); // cohort of D: u1, not active on D+30
        d30.AssertRatio("businesses.repeat_buyer_rate_30d", 0, 1);
    }

    [Fact]
    public void Rerolled_from_their_day_with_the_state_of_the_day_before()
    {
        var e = Engine();
        var before = e.RollDays(D.AddDays(-1), 1, _ => []); // D-1: the state a re-roll of D starts from
        var days = e.RollDays(D, 31, day => day == D ? [.. OnTime(D), .. Late] : OnTime(day), before[0].State);
        var (d0, d29, d30) = (days[0], days[29], days[30]);

        Assert.Equal(2, d0.V("users.new"));
        Assert.Equal(0, d29.V("users.new")); // u2 was new on D after all
        d29.AssertNoRow("users.new", "miniProgram", "mp1"); // nor new in mp1 (0: no row)
        Assert.Equal(2, d29.V("users.mau"));
        d29.AssertRatio("businesses.repeat_buyer_rate_30d", 1, 1); // u2: o1 (D) and o2 (D+29), both in [D, D+29]

        Assert.Equal(1, d30.V("users.mau"));
        d30.AssertRatio("users.retention_d30", 1, 2); // cohort of D: u1 and u2; u2 is back on D+30
        d30.AssertRatio("users.retention_d30", 1, 2, "miniProgram", "mp1"); // the same within mp1
        d30.AssertRatio("businesses.repeat_buyer_rate_30d", 0, 1); // o1 has left [D+1, D+30]
        Assert.Equal(2, d30.V("users.cumulative"));
    }
}
