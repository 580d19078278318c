using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// Catalog version 2 at the calendar's edges, on small datasets whose numbers are worked out by hand in the comments:
/// weekly retention only on Sundays (natural weeks Monday..Sunday, also across a year's end and a month's end),
/// monthly retention only on a month's last day (31-day months, February of a leap year and of a common year),
/// active-user retention d1 and d30, and new-user retention split by acquisition channel.
/// </summary>
/// <remarks>
/// "Active on X" is having a session on X: a session is on the day of its earliest <c>session_start</c>, and a
/// <c>session_start</c> that continues a session key remembered from an earlier day (31 days) makes nobody active.
/// Every visit below is a <c>session_start</c> with its own session key unless a test says otherwise.
/// </remarks>
public sealed class RollupEngineCalendarTests
{
    private static readonly string[] WeeklyMetrics =
        [.. Enumerable.Range(1, 4).SelectMany(n => new[] { $"users.retention_w{n}", $"users.active_retention_w{n}" })];

    private static readonly string[] MonthlyMetrics = ["users.retention_m1", "users.active_retention_m1"];

    private sealed record Visit(string User, string Mp, DateOnly Day, int Scene = 1001);

    private static Visit V(string user, string mp, string day, int scene = 1001) => new(user, mp, DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture), scene);

    /// <summary>Rolls every day from <paramref name="first"/> through <paramref name="last"/> in order; each visit is a new session.</summary>
    private static Dictionary<DateOnly, DayResult> Roll(string first, string last, params Visit[] visits)
    {
        var from = DateOnly.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        var to = DateOnly.Parse(last, System.Globalization.CultureInfo.InvariantCulture);
        var byDay = visits.ToLookup(v => v.Day);
        return Engine().RollDays(from, to.DayNumber - from.DayNumber + 1, day =>
                byDay[day].Select(v => Start(v.User, v.Mp, $"{v.User}-{v.Mp}-{day:yyyyMMdd}", At(day, 9), v.Scene)).ToArray())
            .ToDictionary(r => r.Day);
    }

    private static DayResult On(Dictionary<DateOnly, DayResult> days, string day) => days[DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture)];

    private static void AssertNone(DayResult r, string[] metrics) =>
        Assert.DoesNotContain(r.Rows, row => metrics.Contains(row.Metric));

    [Fact]
    public void Weekly_retention_is_written_on_a_Sunday_for_the_four_weeks_before_and_not_on_a_Monday()
    {
        // Weeks from Monday 2026-11-02: W0 = 11-02..11-08, W1 = 11-09..11-15, W2 = 11-16..11-22, W3 = 11-23..11-29,
        // W4 = 11-30..12-06 (ending Sunday 2026-12-06, the D below).
        var days = Roll("2026-11-02", "2026-12-07",
            V("A", "mpA", "2026-11-02"), V("A", "mpA", "2026-12-05"),  // new in W0, back in W4
            V("B", "mpA", "2026-11-04"), V("B", "mpA", "2026-11-11"),  // new in W0, active in W1, not in W4
            V("G", "mpB", "2026-11-05"), V("G", "mpA", "2026-12-02"),  // new in W0 (in mpB), back in W4 but in mpA only
            V("C", "mpA", "2026-11-10"), V("C", "mpA", "2026-12-06"),  // new in W1, back in W4
            V("D", "mpA", "2026-11-18"), V("D", "mpA", "2026-11-30"),  // new in W2, back in W4
            V("F", "mpA", "2026-11-24"),                               // new in W3, not back
            V("E", "mpA", "2026-12-01"));                              // new in W4

        // Sunday 2026-12-06: [D-6, D] = W4; active in it: A, G, C, D, E (in mpA: A, G, C, D, E; in mpB: nobody).
        var sunday = On(days, "2026-12-06");
        Assert.Equal(DayOfWeek.Sunday, sunday.Day.DayOfWeek);
        sunday.AssertRatio("users.retention_w1", 0, 1);          // new in W3: F; not back
        sunday.AssertRatio("users.retention_w2", 1, 1);          // new in W2: D; back
        sunday.AssertRatio("users.retention_w3", 1, 1);          // new in W1: C; back
        sunday.AssertRatio("users.retention_w4", 2, 3);          // new in W0: A, B, G; A and G back
        sunday.AssertRatio("users.active_retention_w1", 0, 1);   // active in W3: F
        sunday.AssertRatio("users.active_retention_w2", 1, 1);   // active in W2: D
        sunday.AssertRatio("users.active_retention_w3", 1, 2);   // active in W1: B, C; C back
        sunday.AssertRatio("users.active_retention_w4", 2, 3);   // active in W0: A, B, G; A and G back

        // Per mini-program: new in (active in) that mini-program in the cohort week and active in it in W4.
        sunday.AssertRatio("users.retention_w4", 1, 2, "miniProgram", "mpA");        // new in mpA in W0: A, B (G is new in mpA in W4)
        sunday.AssertRatio("users.retention_w4", 0, 1, "miniProgram", "mpB");        // new in mpB in W0: G; not in mpB in W4
        sunday.AssertRatio("users.active_retention_w4", 1, 2, "miniProgram", "mpA"); // active in mpA in W0: A, B
        sunday.AssertRatio("users.active_retention_w4", 0, 1, "miniProgram", "mpB"); // active in mpB in W0: G
        sunday.AssertRatio("users.retention_w1", 0, 1, "miniProgram", "mpA");
        sunday.AssertNoRow("users.retention_w1", "miniProgram", "mpB");               // nobody new in mpB in W3
        sunday.AssertNoRow("users.active_retention_w3", "miniProgram", "mpB");        // nobody active in mpB in W1

        // Monday 2026-12-07 and Saturday 2026-12-05: no weekly row at all.
        AssertNone(On(days, "2026-12-07"), WeeklyMetrics);
        AssertNone(On(days, "2026-12-05"), WeeklyMetrics);

        // The first Sunday, 2026-11-08: the weeks before hold nobody, so no row (denominator 0).
        AssertNone(On(days, "2026-11-08"), WeeklyMetrics);

        // Sunday 2026-11-15: [11-09, 11-15] = W1; active: B, C. w1 = new in W0 (A, B, G): B back -> 1/3.
        var second = On(days, "2026-11-15");
        second.AssertRatio("users.retention_w1", 1, 3);
        second.AssertRatio("users.active_retention_w1", 1, 3);
        second.AssertNoRow("users.retention_w2"); // W-1 (10-26..11-01) had nobody
    }

    [Fact]
    public void Monthly_retention_is_written_on_the_31st_of_a_31_day_month_and_not_on_the_30th()
    {
        var days = Roll("2026-10-28", "2026-12-31",
            V("F", "mpA", "2026-10-28"), V("F", "mpA", "2026-11-25"), V("F", "mpA", "2026-12-15"), // new in October
            V("A", "mpA", "2026-11-03"), V("A", "mpA", "2026-12-31"),
            V("B", "mpA", "2026-11-10"), V("B", "mpA", "2026-11-20"),                          // not back in December
            V("E", "mpA", "2026-11-15"), V("E", "mpB", "2026-12-10"),                          // back in December in mpB only
            V("C", "mpB", "2026-11-30"), V("C", "mpB", "2026-12-01"),
            V("D", "mpA", "2026-12-05"), V("D", "mpA", "2026-12-31"));                         // new in December: in no cohort

        // 2026-12-31: new in November: A, B, E, C; active in December: F, A, E, C, D.
        var d31 = On(days, "2026-12-31");
        d31.AssertRatio("users.retention_m1", 3, 4);                        // A, E, C back
        d31.AssertRatio("users.active_retention_m1", 4, 5);                 // active in November: F, A, B, E, C; all but B back
        d31.AssertRatio("users.retention_m1", 1, 3, "miniProgram", "mpA");  // new in mpA in November: A, B, E; only A in mpA in December
        d31.AssertRatio("users.retention_m1", 1, 1, "miniProgram", "mpB");  // new in mpB in November: C (E is new in mpB in December)
        d31.AssertRatio("users.active_retention_m1", 2, 4, "miniProgram", "mpA"); // active in mpA in November: F, A, B, E; F and A in December
        d31.AssertRatio("users.active_retention_m1", 1, 1, "miniProgram", "mpB"); // C

        // 2026-12-30 is not a month's last day; 2026-12-01 neither.
        AssertNone(On(days, "2026-12-30"), MonthlyMetrics);
        AssertNone(On(days, "2026-12-01"), MonthlyMetrics);

        // 2026-11-30, the last day of a 30-day month: October's cohort is F (new 10-28), active in November (11-25).
        var n30 = On(days, "2026-11-30");
        n30.AssertRatio("users.retention_m1", 1, 1);
        n30.AssertRatio("users.active_retention_m1", 1, 1);
        n30.AssertNoRow("users.retention_m1", "miniProgram", "mpB"); // nobody new in mpB in October

        // 2026-10-31: September had nobody: no monthly row.
        AssertNone(On(days, "2026-10-31"), MonthlyMetrics);
    }

    [Fact]
    public void February_of_a_leap_year_ends_on_the_29th()
    {
        var days = Roll("2028-01-10", "2028-03-01",
            V("B", "mpA", "2028-01-10"), V("B", "mpA", "2028-02-10"),
            V("C", "mpA", "2028-01-20"),                              // not back in February
            V("A", "mpA", "2028-01-31"), V("A", "mpA", "2028-02-29"),
            V("D", "mpA", "2028-02-05"), V("D", "mpA", "2028-02-29")); // new in February: in no cohort

        // 2028-02-29: new in (and active in) January: B, C, A; active in February: B, A, D.
        var leapDay = On(days, "2028-02-29");
        leapDay.AssertRatio("users.retention_m1", 2, 3);
        leapDay.AssertRatio("users.active_retention_m1", 2, 3);
        leapDay.AssertRatio("users.retention_m1", 2, 3, "miniProgram", "mpA");

        AssertNone(On(days, "2028-02-28"), MonthlyMetrics); // not February's last day in 2028
        AssertNone(On(days, "2028-03-01"), MonthlyMetrics);
        AssertNone(On(days, "2028-01-31"), MonthlyMetrics); // December 2027 had nobody
    }

    [Fact]
    public void February_of_a_common_year_ends_on_the_28th_a_Sunday_with_weekly_and_monthly_rows()
    {
        // 2027-02-28 is a Sunday and February's last day. Weeks: [01-25, 01-31], [02-01, 02-07], [02-08, 02-14],
        // [02-15, 02-21], and the week ending D: [02-22, 02-28].
        var days = Roll("2027-01-25", "2027-03-01",
            V("A", "mpA", "2027-01-26"), V("A", "mpA", "2027-02-22"), V("A", "mpA", "2027-02-28"),
            V("B", "mpA", "2027-02-16"), V("B", "mpA", "2027-02-27"));

        var d = On(days, "2027-02-28");
        d.AssertRatio("users.retention_m1", 1, 1);        // new in January: A; active in February
        d.AssertRatio("users.active_retention_m1", 1, 1);
        d.AssertRatio("users.retention_w1", 1, 1);        // new in [02-15, 02-21]: B; active in [02-22, 02-28]
        d.AssertRatio("users.active_retention_w1", 1, 1);
        d.AssertNoRow("users.retention_w2");              // nobody in [02-08, 02-14]
        d.AssertNoRow("users.active_retention_w2");
        d.AssertNoRow("users.retention_w3");              // nobody in [02-01, 02-07]
        d.AssertRatio("users.retention_w4", 1, 1);        // new in [01-25, 01-31]: A; back
        d.AssertRatio("users.active_retention_w4", 1, 1);

        AssertNone(On(days, "2027-02-27"), MonthlyMetrics);
        AssertNone(On(days, "2027-02-27"), WeeklyMetrics);
        AssertNone(On(days, "2027-03-01"), MonthlyMetrics);
        AssertNone(On(days, "2027-03-01"), WeeklyMetrics);
    }

    [Fact]
    public void The_first_week_of_a_year_is_the_natural_week_across_new_year()
    {
        // The week Monday 2026-12-28 .. Sunday 2027-01-03 straddles the year's end; the one before is 12-21..12-27.
        var days = Roll("2026-12-21", "2027-01-10",
            V("D", "mpA", "2026-12-27"), V("D", "mpA", "2027-01-01"), V("D", "mpA", "2027-01-09"),
            V("A", "mpA", "2026-12-29"), V("A", "mpA", "2027-01-08"),
            V("C", "mpA", "2026-12-31"),                              // not back
            V("B", "mpA", "2027-01-02"), V("B", "mpA", "2027-01-10"));

        // Sunday 2027-01-10: [D-6, D] = 01-04..01-10; active: D, A, B.
        var d = On(days, "2027-01-10");
        d.AssertRatio("users.retention_w1", 2, 3);        // new in 12-28..01-03: A, C, B (across the year's end); A and B back
        d.AssertRatio("users.active_retention_w1", 3, 4); // active in 12-28..01-03: D (01-01), A, C, B; D, A, B back
        d.AssertRatio("users.retention_w2", 1, 1);        // new in 12-21..12-27: D; back
        d.AssertRatio("users.active_retention_w2", 1, 1);
        d.AssertNoRow("users.retention_w3");              // nobody before 12-21
        d.AssertNoRow("users.active_retention_w4");

        // Sunday 2027-01-03 closes the straddling week: w1 = new in 12-21..12-27 (D), active in 12-28..01-03 (on 01-01).
        var sunday = On(days, "2027-01-03");
        sunday.AssertRatio("users.retention_w1", 1, 1);
        sunday.AssertRatio("users.active_retention_w1", 1, 1);

        AssertNone(On(days, "2027-01-01"), WeeklyMetrics); // New Year's Day, a Friday
        AssertNone(On(days, "2026-12-31"), MonthlyMetrics); // December's last day, but November had nobody
    }

    [Fact]
    public void A_cohort_week_across_a_month_end_counts_whole_for_weekly_retention_and_split_for_monthly()
    {
        // The week Monday 2027-03-29 .. Sunday 2027-04-04 straddles March's end.
        var days = Roll("2027-03-29", "2027-04-30",
            V("A", "mpA", "2027-03-30"), V("A", "mpA", "2027-04-08"),
            V("C", "mpA", "2027-03-31"), V("C", "mpA", "2027-04-20"),
            V("B", "mpA", "2027-04-02"), V("B", "mpA", "2027-04-11"));

        // Sunday 04-11: week 04-05..04-11, active: A, B. The cohort week 03-29..04-04: A, C, B new (and active).
        var w1 = On(days, "2027-04-11");
        w1.AssertRatio("users.retention_w1", 2, 3);
        w1.AssertRatio("users.active_retention_w1", 2, 3);

        // Sunday 04-18: week 04-12..04-18, nobody active. w2 is the straddling week: 0/3, written although 0.
        var w2 = On(days, "2027-04-18");
        w2.AssertRatio("users.retention_w2", 0, 3);
        w2.AssertRatio("users.active_retention_w2", 0, 3);
        w2.AssertNoRow("users.retention_w1");              // nobody new in 04-05..04-11
        w2.AssertRatio("users.active_retention_w1", 0, 2); // active in 04-05..04-11: A, B

        // Friday 04-30, April's last day: March's cohort is only the week's March part: A (03-30) and C (03-31); B is April's.
        var m1 = On(days, "2027-04-30");
        m1.AssertRatio("users.retention_m1", 2, 2);        // A (04-08) and C (04-20) active in April
        m1.AssertRatio("users.active_retention_m1", 2, 2);
        AssertNone(m1, WeeklyMetrics);

        AssertNone(On(days, "2027-03-31"), MonthlyMetrics); // February had nobody
    }

    [Fact]
    public void Active_retention_d1_and_d30_count_sessions_that_begin_on_the_day()
    {
        var d0 = new DateOnly(2026, 11, 2);
        var d1 = d0.AddDays(1);
        var d29 = d0.AddDays(29);
        var d30 = d0.AddDays(30);
        var days = Engine().RollDays(d0, 31, day =>
        {
            var list = new List<PipelineEvent>();
            if (day == d0)
            {
                list.Add(Start("A", "mpA", "a0", At(day, 9), 1001));
                list.Add(Start("B", "mpA", "b0", At(day, 9), 1001));
                list.Add(Start("K", "mpA", "k", At(day, 9), 1001));   // K's session k: started again on d1 and d30 below
                list.Add(Start("S", "mpA", "s", At(day, 9), 1001));
            }
            if (day == d1)
            {
                list.Add(Start("A", "mpA", "a1", At(day, 9), 1001));
                list.Add(Start("B", "mpB", "b1", At(day, 9), 1001));  // B back, but in mpB
                list.Add(Start("C", "mpA", "c1", At(day, 9), 1001));  // new on d1
                list.Add(Start("K", "mpA", "k", At(day, 9), 1001));   // continues k: no session on d1
            }
            if (day == d29)
                list.Add(Start("E", "mpB", "e29", At(day, 9), 1001));
            if (day == d30)
            {
                list.Add(Start("A", "mpA", "a30", At(day, 9), 1001));
                list.Add(Start("E", "mpB", "e30", At(day, 9), 1001));
                list.Add(Start("K", "mpA", "k", At(day, 9), 1001));   // 30 days after k began: still k (remembered 31 days), no session
            }
            return list.ToArray();
        });

        // d1: active on d0: A, B, K, S; active on d1: A, B, C (K's start continues k).
        var r1 = days[1];
        r1.AssertRatio("users.active_retention_d1", 2, 4);                       // A, B
        r1.AssertRatio("users.active_retention_d1", 1, 4, "miniProgram", "mpA"); // in mpA on d0: A, B, K, S; in mpA on d1: A, C
        r1.AssertNoRow("users.active_retention_d1", "miniProgram", "mpB");       // nobody in mpB on d0
        r1.AssertRatio("users.retention_d1", 2, 4);                              // new-user retention: new on d0 A, B, K, S; A, B back

        // d30: active on d0: A, B, K, S; active on d30: A, E (K's start still continues k).
        var r30 = days[30];
        r30.AssertRatio("users.active_retention_d30", 1, 4);
        r30.AssertRatio("users.active_retention_d30", 1, 4, "miniProgram", "mpA");
        r30.AssertNoRow("users.active_retention_d30", "miniProgram", "mpB");
        r30.AssertRatio("users.active_retention_d1", 1, 1);                      // active on d29: E; back on d30
        r30.AssertRatio("users.active_retention_d1", 1, 1, "miniProgram", "mpB");
        r30.AssertNoRow("users.active_retention_d1", "miniProgram", "mpA");      // nobody in mpA on d29
    }

    [Fact]
    public void New_user_retention_by_channel_follows_the_acquisition_channel()
    {
        var d0 = new DateOnly(2026, 11, 23);
        var d1 = d0.AddDays(1);
        var d7 = d0.AddDays(7);
        var days = Engine().RollDays(d0, 8, day =>
        {
            var list = new List<PipelineEvent>();
            if (day == d0)
            {
                list.Add(Start("A", "mpA", "a0", At(day, 9), 1007));           // share
                list.Add(Start("B", "mpA", "b0", At(day, 8), 1011));           // qr: B's earliest
                list.Add(Start("B", "mpA", "b0x", At(day, 10), 1007));         // share, later the same day
                list.Add(Start("C", "mpB", "c0", At(day, 9), 1044));           // share
                list.Add(Start("E", "mpA", "e0z", At(day, 9), 1001, id: "zz")); // recent, same time as:
                list.Add(Start("E", "mpA", "e0a", At(day, 9), 1024, id: "aa")); // explore: the smaller event id is the earliest
            }
            if (day == d1)
            {
                list.Add(Start("A", "mpA", "a1", At(day, 9), 1011));           // back, through qr
                list.Add(Start("B", "mpB", "b1", At(day, 9), 1001));           // back, in another mini-program
                list.Add(Start("E", "mpA", "e1", At(day, 9), 1045));
                list.Add(Start("F", "mpA", "f1", At(day, 9), 1045));           // new on d1: ads
            }
            if (day == d7)
                list.Add(Start("C", "mpB", "c7", At(day, 9), 1001));
            return list.ToArray();
        });

        // d0: new A (share), B (qr), C (share), E (explore).
        var r0 = days[0];
        Assert.Equal(4, r0.V("users.new"));
        Assert.Equal(2, r0.V("users.new", "channel", "share"));
        Assert.Equal(1, r0.V("users.new", "channel", "qr"));
        Assert.Equal(1, r0.V("users.new", "channel", "explore"));
        r0.AssertNoRow("users.new", "channel", "recent"); // E's "recent" start lost the tie
        r0.AssertNoRow("users.new", "channel", "ads");

        // d1: cohort of d0 = A, B, C, E; active on d1: A, B, E, F.
        var r1 = days[1];
        Assert.Equal(1, r1.V("users.new", "channel", "ads"));
        r1.AssertRatio("users.retention_d1", 3, 4);
        r1.AssertRatio("users.retention_d1", 1, 2, "channel", "share");   // A back (through qr: the acquisition channel counts), C not
        r1.AssertRatio("users.retention_d1", 1, 1, "channel", "qr");      // B back (in mpB)
        r1.AssertRatio("users.retention_d1", 1, 1, "channel", "explore"); // E
        r1.AssertNoRow("users.retention_d1", "channel", "ads");          // F is new on d1, not in d0's cohort
        r1.AssertNoRow("users.retention_d1", "channel", "recent");

        // d7: active on d7: C only.
        var r7 = days[7];
        r7.AssertRatio("users.retention_d7", 1, 4);
        r7.AssertRatio("users.retention_d7", 1, 2, "channel", "share");
        r7.AssertRatio("users.retention_d7", 0, 1, "channel", "qr");      // written although 0
        r7.AssertRatio("users.retention_d7", 0, 1, "channel", "explore");
        r7.AssertNoRow("users.new", "channel", "share");                   // nobody new on d7: no channel row
        Assert.Equal(0, r7.V("users.new"));                                // but the total row, 0
    }
}
