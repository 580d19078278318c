using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>Orders, money and the business metrics, with hand-worked numbers.</summary>
public sealed class RollupEngineOrderTests
{
    private static readonly DateOnly D = new(2026, 11, 23);

    [Fact]
    public void Repeated_order_paid_counts_once_with_the_earliest_amount_and_a_retry_after_midnight_is_not_a_new_order()
    {
        var e = Engine();
        var next = D.AddDays(1);
        var day = e.Roll(D, WindowState.Empty(),
            Paid("u1", "mp1", "m1", "o1", 500, "CNY", At(D, 10), id: "p2"),
            Paid("u1", "mp1", "m1", "o1", 600, "CNY", At(D, 10), id: "p1"), // same time, smaller id: the earliest
            Paid("u1", "mp1", "m1", "o1", 700, "CNY", At(D, 11), id: "p0"),
            Paid("u2", "mp1", "m1", "o2", 100, "CNY", At(D, 23, 59, 59)));
        var dayAfter = e.Roll(next, day.State,
            Paid("u2", "mp1", "m1", "o2", 100, "CNY", At(next, 0, 0, 1))); // the client's retry, a new event id

        Assert.Equal(2, day.V("businesses.orders"));
        Assert.Equal(700, day.V("businesses.gmv", "currency", "CNY")); // 600 + 100
        Assert.Equal(2, day.V("businesses.buyers"));
        Assert.Equal(1, day.V("businesses.transacting_merchants"));
        day.AssertRatio("businesses.aov", 700, 2, "currency", "CNY");

        Assert.Equal(0, dayAfter.V("businesses.orders"));
        Assert.Equal(0, dayAfter.V("businesses.buyers"));
        dayAfter.AssertNoRow("businesses.gmv", "currency", "CNY");
        dayAfter.AssertNoRow("businesses.aov", "currency", "CNY");
    }

    [Fact]
    public void An_order_is_resolved_across_shards_and_belongs_to_the_buyer_of_its_earliest_order_paid()
    {
        const int shards = 8;
        var (x, y) = TwoUsersInDifferentShards(shards);
        var events = new[]
        {
            Paid(x, "mpX", "m1", "o1", 300, "CNY", At(D, 12)),
            Paid(y, "mpY", "m1", "o1", 200, "CNY", At(D, 11)), // earlier: its buyer, program and amount win
            Start(x, "mpX", "s", At(D, 9), 1001),
            Start(y, "mpY", "s", At(D, 9), 1001),
        };
        var sharded = Engine().RollUp(D, Sharded(events, shards), WindowState.Empty());
        var single = Engine().RollUp(D, [events], WindowState.Empty());

        Assert.Equal(1, sharded.V("businesses.orders"));
        Assert.Equal(200, sharded.V("businesses.gmv", "currency", "CNY"));
        Assert.Equal(200, sharded.V("businesses.gmv", "miniProgram.currency", "mpY/CNY"));
        Assert.Equal(1, sharded.V("businesses.buyers"));
        Assert.Equal(1, sharded.V("businesses.buyers", "miniProgram", "mpY"));
        sharded.AssertNoRow("businesses.buyers", "miniProgram", "mpX");
        sharded.AssertRatio("businesses.conversion_rate", 1, 2);
        Assert.Equal(single.Rows, sharded.Rows);
    }

    private static (string, string) TwoUsersInDifferentShards(int shards)
    {
        for (var i = 1; ; i++)
            if (UserShard.Of("user0", shards) != UserShard.Of("user" + i, shards)) return ("user0", "user" + i);
    }

    [Fact]
    public void Money_is_kept_per_currency_and_platform_revenue_adds_ads_and_commission()
    {
        var r = Engine(0.006).Roll(D, WindowState.Empty(),
            Start("u1", "mp1", "s", At(D, 9), 1001),
            Start("u2", "mp1", "s", At(D, 9), 1001),
            Paid("u1", "mp1", "m1", "o1", 1000, "CNY", At(D, 10)),
            Paid("u2", "mp1", "m2", "o1", 250, "USD", At(D, 10)),
            Paid("u3", "mp2", "m1", "o2", 500, "CNY", At(D, 10)),
            Refund("u1", "mp1", "m1", "o1", 200, "CNY", At(D, 11)),
            Simple(EventType.AdImpression, "u1", "mp1", At(D, 12), "s", 30, "CNY"),
            Simple(EventType.AdImpression, "u2", "mp1", At(D, 12), "s", 7, "JPY"),
            Simple(EventType.AdImpression, "u2", "mp1", At(D, 12), "s"));

        Assert.Equal(1500, r.V("businesses.gmv", "currency", "CNY"));
        Assert.Equal(250, r.V("businesses.gmv", "currency", "USD"));
        r.AssertNoRow("businesses.gmv", "currency", "JPY");
        Assert.Equal(1000, r.V("businesses.gmv", "miniProgram.currency", "mp1/CNY"));
        Assert.Equal(250, r.V("businesses.gmv", "miniProgram.currency", "mp1/USD"));
        Assert.Equal(500, r.V("businesses.gmv", "miniProgram.currency", "mp2/CNY"));
        r.AssertRatio("businesses.aov", 1500, 2, "currency", "CNY");
        r.AssertRatio("businesses.aov", 250, 1, "currency", "USD");
        Assert.Equal(2, r.V("businesses.transacting_merchants"));
        Assert.Equal(200, r.V("businesses.refunds", "currency", "CNY"));
        r.AssertRatio("businesses.refund_rate", 200, 1500, "currency", "CNY");
        r.AssertRatio("businesses.refund_rate", 0, 250, "currency", "USD");

        Assert.Equal(9.0, r.V("platform.commission_revenue", "currency", "CNY"), 9);
        Assert.Equal(1.5, r.V("platform.commission_revenue", "currency", "USD"), 9);
        r.AssertNoRow("platform.commission_revenue", "currency", "JPY");
        Assert.Equal(30, r.V("platform.ad_revenue", "currency", "CNY"));
        Assert.Equal(7, r.V("platform.ad_revenue", "currency", "JPY"));
        Assert.Equal(39.0, r.V("platform.revenue", "currency", "CNY"), 9);
        Assert.Equal(1.5, r.V("platform.revenue", "currency", "USD"), 9);
        Assert.Equal(7.0, r.V("platform.revenue", "currency", "JPY"), 9);
        Assert.Equal(19.5, r.V("platform.arpu", "currency", "CNY"), 9); // 39 / dau 2
        Assert.Equal(3.5, r.V("platform.arpu", "currency", "JPY"), 9);
        Assert.Equal(2, r.Find("platform.arpu", "currency", "USD")!.Denominator);
        Assert.All(r.Rows.Where(x => x.Metric.StartsWith("platform.", StringComparison.Ordinal) && x.Dimension == "currency"), x => Assert.Equal("minor_units", x.Unit));
    }

    [Fact]
    public void Commission_is_unrounded()
    {
        var r = Engine(0.006).Roll(D, WindowState.Empty(), Paid("u1", "mp1", "m1", "o1", 1, "CNY", At(D, 10)));
        Assert.Equal(0.006, r.V("platform.commission_revenue", "currency", "CNY"), 15);
    }

    [Fact]
    public void Qr_orders_per_session_use_the_entry_channel_of_the_orders_session()
    {
        var e = Engine();
        var d0 = D.AddDays(-1);
        var before = e.Roll(d0, WindowState.Empty(), Start("u2", "mp1", "old", At(d0, 22), 1047)); // qr, the day before
        var r = e.Roll(D, before.State,
            Start("u1", "mp1", "s1", At(D, 9), 1011),                                          // qr session on D
            Start("u3", "mp1", "s3", At(D, 9), 1001),                                          // recent
            Paid("u1", "mp1", "m1", "o1", 100, "CNY", At(D, 10), session: "s1"),                // qr
            Paid("u2", "mp1", "m1", "o2", 100, "CNY", At(D, 10), session: "old"),               // qr, session from D-1
            Paid("u3", "mp1", "m1", "o3", 100, "CNY", At(D, 10), session: "s3"),                // recent
            Paid("u1", "mp1", "m1", "o4", 100, "CNY", At(D, 10)),                               // no session
            Paid("u1", "mp1", "m1", "o5", 100, "CNY", At(D, 10), session: "never-started"));    // unknown channel
        r.AssertRatio("businesses.qr_orders_per_session", 2, 1);
    }

    [Fact]
    public void Repeat_buyer_rate_over_30_days()
    {
        var e = Engine();
        var days = e.RollDays(D, 31, day =>
        {
            var n = day.DayNumber - D.DayNumber;
            return n switch
            {
                0 => [Paid("u1", "mp", "m", "a", 10, "CNY", At(day, 9))],
                5 => [Paid("u1", "mp", "m", "b", 10, "CNY", At(day, 9)), Paid("u2", "mp", "m", "c", 10, "CNY", At(day, 9))],
                _ => [],
            };
        });
        days[5].AssertRatio("businesses.repeat_buyer_rate_30d", 1, 2);
        days[29].AssertRatio("businesses.repeat_buyer_rate_30d", 1, 2); // [0, 29]
        days[30].AssertRatio("businesses.repeat_buyer_rate_30d", 0, 2); // [1, 30]: u1 has one order left
        days[4].AssertRatio("businesses.repeat_buyer_rate_30d", 0, 1);
    }
}
