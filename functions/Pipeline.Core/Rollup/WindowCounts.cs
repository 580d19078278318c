using Pipeline.Core.Catalog;
using static Pipeline.Core.Rollup.ShardDayRoller;

namespace Pipeline.Core.Rollup;

/// <summary>
/// The window metrics (wau, mau, week- and month-to-date, cumulative, churned, and every retention:
/// new-user and active-user, daily, weekly and monthly) counted from users' first-seen days, last
/// active days and activity bitmaps. Each user is in exactly one shard, so a shard counts its own
/// users and the counts add up across shards.
/// </summary>
/// <remarks>
/// Retention is counted as two internal counters per row, the cohort (denominator) and those of it
/// active in the measured period (numerator); <see cref="DayFinaliser"/> divides them. Weekly counters
/// are counted only when D is a Sunday and monthly ones only on a month's last day, so on other days
/// they are 0 and no row is written.
/// </remarks>
internal static class WindowCounts
{
    /// <summary>Window counts from the state as of <paramref name="day"/> (it holds only history up to D).</summary>
    public static void Add(DayAggregate agg, WindowState state, DateOnly day)
    {
        var calendar = new RetentionCalendar(day);
        var total = new long[Counter.Width];
        foreach (var u in state.Users.Values)
        {
            Count(total, u, calendar);
            if (calendar.IsRetentionAge(day.DayNumber - u.FirstDay, out var i))
            {
                // New-user retention by acquisition channel (the total level only, as the catalog lists).
                agg.Add(RetentionNew(i), Channel, u.FirstChannel, 1);
                if (u.LastActiveDay == day.DayNumber) agg.Add(RetentionActive(i), Channel, u.FirstChannel, 1);
            }
        }
        Write(agg, Total, "", total, state.Users.Count);

        // Per mini-program: counted per mini-program first (one lookup per pair), written once per counter.
        var perProgram = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var cumulative = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (k, u) in state.UserPrograms)
        {
            ref var n = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(cumulative, k.MiniProgramId, out _);
            n++;
            if (!calendar.MayCount(u)) continue; // nothing but cumulative can count it
            ref var counts = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(perProgram, k.MiniProgramId, out _);
            Count(counts ??= new long[Counter.Width], u, calendar);
        }
        foreach (var (mp, n) in cumulative)
        {
            perProgram.TryGetValue(mp, out var counts);
            Write(agg, MiniProgram, mp, counts, n);
        }
    }

    /// <summary>Where each window counter sits in a counts array.</summary>
    private static class Counter
    {
        public const int Wau = 0, Mau = 1, Wtd = 2, Mtd = 3, Churned = 4;
        public static readonly int Days = MetricCatalog.RetentionDays.Count, Weeks = MetricCatalog.RetentionWeeks.Count;
        public static readonly int RetNew = 5, RetKept = RetNew + Days;
        public static readonly int ActBase = RetKept + Days, ActKept = ActBase + Days;
        public static readonly int WeekNew = ActKept + Days, WeekKept = WeekNew + Weeks, WeekActBase = WeekKept + Weeks, WeekActKept = WeekActBase + Weeks;
        public static readonly int MonthNew = WeekActKept + Weeks, MonthKept = MonthNew + 1, MonthActBase = MonthKept + 1, MonthActKept = MonthActBase + 1;
        public static readonly int Width = MonthActKept + 1;
    }

    private static void Count(long[] c, in UserWindow u, RetentionCalendar cal)
    {
        var d = cal.Day;
        var last = u.LastActiveDay;
        if (last >= d - 6) c[Counter.Wau]++;
        if (last >= d - 29) c[Counter.Mau]++;
        if (last >= cal.Monday) c[Counter.Wtd]++;
        if (last >= cal.FirstOfMonth) c[Counter.Mtd]++;
        if (last == d - 90) c[Counter.Churned]++;

        var activeToday = last == d;
        if (cal.IsRetentionAge(d - u.FirstDay, out var age))
        {
            c[Counter.RetNew + age]++;
            if (activeToday) c[Counter.RetKept + age]++;
        }
        var grid = MetricCatalog.RetentionDays;
        for (var i = 0; i < grid.Count; i++)
            if (u.WasActiveOn(d - grid[i]))
            {
                c[Counter.ActBase + i]++;
                if (activeToday) c[Counter.ActKept + i]++;
            }

        if (cal.IsSunday)
        {
            var activeThisWeek = last >= d - 6;
            for (var i = 0; i < cal.WeekEnds.Length; i++)
            {
                var end = cal.WeekEnds[i];
                var start = end - 6;
                if (u.FirstDay >= start && u.FirstDay <= end)
                {
                    c[Counter.WeekNew + i]++;
                    if (activeThisWeek) c[Counter.WeekKept + i]++;
                }
                if (u.WasActiveBetween(start, end))
                {
                    c[Counter.WeekActBase + i]++;
                    if (activeThisWeek) c[Counter.WeekActKept + i]++;
                }
            }
        }

        if (cal.IsMonthEnd)
        {
            var activeThisMonth = last >= cal.FirstOfMonth;
            if (u.FirstDay >= cal.PreviousMonthStart && u.FirstDay < cal.FirstOfMonth)
            {
                c[Counter.MonthNew]++;
                if (activeThisMonth) c[Counter.MonthKept]++;
            }
            if (u.WasActiveBetween(cal.PreviousMonthStart, cal.FirstOfMonth - 1))
            {
                c[Counter.MonthActBase]++;
                if (activeThisMonth) c[Counter.MonthActKept]++;
            }
        }
    }

    private static void Write(DayAggregate agg, string dimension, string value, long[]? c, long cumulative)
    {
        // Per mini-program, only the counters that counted someone are written, as adding 1 per user would.
        void Put(string counter, long n)
        {
            if (dimension == Total || n != 0) agg.Add(counter, dimension, value, n);
        }
        Put("users.cumulative", cumulative);
        if (c is null) return;
        Put("users.wau", c[Counter.Wau]);
        Put("users.mau", c[Counter.Mau]);
        Put("users.wtd_active", c[Counter.Wtd]);
        Put("users.mtd_active", c[Counter.Mtd]);
        if (dimension == Total) Put("users.churned_90d", c[Counter.Churned]);
        for (var i = 0; i < Counter.Days; i++)
        {
            Put(RetentionNew(i), c[Counter.RetNew + i]);
            Put(RetentionActive(i), c[Counter.RetKept + i]);
            Put(ActiveRetentionBase(i), c[Counter.ActBase + i]);
            Put(ActiveRetentionKept(i), c[Counter.ActKept + i]);
        }
        for (var i = 0; i < Counter.Weeks; i++)
        {
            Put(WeeklyNew(i), c[Counter.WeekNew + i]);
            Put(WeeklyKept(i), c[Counter.WeekKept + i]);
            Put(WeeklyActiveBase(i), c[Counter.WeekActBase + i]);
            Put(WeeklyActiveKept(i), c[Counter.WeekActKept + i]);
        }
        Put(MonthlyNew, c[Counter.MonthNew]);
        Put(MonthlyKept, c[Counter.MonthKept]);
        Put(MonthlyActiveBase, c[Counter.MonthActBase]);
        Put(MonthlyActiveKept, c[Counter.MonthActKept]);
    }

    // Internal counter names (not metrics): the cohorts and the retained users of each retention row.
    private static string[] Names(string format, IReadOnlyList<int> ns) => ns.Select(n => string.Format(System.Globalization.CultureInfo.InvariantCulture, format, n)).ToArray();
    private static readonly string[] RetentionNewNames = Names("_retention_new_d{0}", MetricCatalog.RetentionDays);
    private static readonly string[] RetentionActiveNames = Names("_retention_active_d{0}", MetricCatalog.RetentionDays);
    private static readonly string[] ActiveBaseNames = Names("_active_retention_base_d{0}", MetricCatalog.RetentionDays);
    private static readonly string[] ActiveKeptNames = Names("_active_retention_kept_d{0}", MetricCatalog.RetentionDays);
    private static readonly string[] WeeklyNewNames = Names("_retention_new_w{0}", MetricCatalog.RetentionWeeks);
    private static readonly string[] WeeklyKeptNames = Names("_retention_active_w{0}", MetricCatalog.RetentionWeeks);
    private static readonly string[] WeeklyActiveBaseNames = Names("_active_retention_base_w{0}", MetricCatalog.RetentionWeeks);
    private static readonly string[] WeeklyActiveKeptNames = Names("_active_retention_kept_w{0}", MetricCatalog.RetentionWeeks);
    internal const string MonthlyNew = "_retention_new_m1", MonthlyKept = "_retention_active_m1",
        MonthlyActiveBase = "_active_retention_base_m1", MonthlyActiveKept = "_active_retention_kept_m1";

    internal static string RetentionNew(int i) => RetentionNewNames[i];
    internal static string RetentionActive(int i) => RetentionActiveNames[i];
    internal static string ActiveRetentionBase(int i) => ActiveBaseNames[i];
    internal static string ActiveRetentionKept(int i) => ActiveKeptNames[i];
    internal static string WeeklyNew(int i) => WeeklyNewNames[i];
    internal static string WeeklyKept(int i) => WeeklyKeptNames[i];
    internal static string WeeklyActiveBase(int i) => WeeklyActiveBaseNames[i];
    internal static string WeeklyActiveKept(int i) => WeeklyActiveKeptNames[i];
}
