using Pipeline.Core.Catalog;
using static Pipeline.Core.Rollup.ShardDayRoller;

namespace Pipeline.Core.Rollup;

/// <summary>
/// The window metrics (wau, mau, week- and month-to-date, cumulative, churned, the retention grid)
/// counted from users' first-seen and last-active days. Each user is in exactly one shard, so a
/// shard counts its own users and the counts add up across shards.
/// </summary>
internal static class WindowCounts
{
    /// <summary>Window counts from last-active and first-seen days (the state as of D holds only history up to D).</summary>
    public static void Add(DayAggregate agg, WindowState state, DateOnly day)
    {
        var d = day.DayNumber;
        var monday = d - ((int)day.DayOfWeek + 6) % 7;
        var firstOfMonth = d - day.Day + 1;
        var grid = MetricCatalog.RetentionDays;
        long wau = 0, mau = 0, wtd = 0, mtd = 0, churned = 0;
        var retNew = new long[grid.Count];
        var retActive = new long[grid.Count];
        foreach (var u in state.Users.Values)
        {
            var last = u.LastActiveDay;
            if (last >= d - 6) wau++;
            if (last >= d - 29) mau++;
            if (last >= monday) wtd++;
            if (last >= firstOfMonth) mtd++;
            if (last == d - 90) churned++;
            var age = d - u.FirstDay;
            for (var i = 0; i < grid.Count; i++)
                if (age == grid[i])
                {
                    retNew[i]++;
                    if (last == d) retActive[i]++;
                }
        }
        agg.AddTotal("users.wau", wau);
        agg.AddTotal("users.mau", mau);
        agg.AddTotal("users.wtd_active", wtd);
        agg.AddTotal("users.mtd_active", mtd);
        agg.AddTotal("users.cumulative", state.Users.Count);
        agg.AddTotal("users.churned_90d", churned);
        for (var i = 0; i < grid.Count; i++)
        {
            agg.AddTotal(RetentionNew(i), retNew[i]);
            agg.AddTotal(RetentionActive(i), retActive[i]);
        }

        // Per mini-program: counted per mini-program first (one lookup per pair), written once per counter.
        const int Cumulative = 0, Wau = 1, Mau = 2, Wtd = 3, Mtd = 4, RetNew = 5;
        var retActiveBase = RetNew + grid.Count;
        var width = retActiveBase + grid.Count;
        var perProgram = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (k, u) in state.UserPrograms)
        {
            ref var counts = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(perProgram, k.MiniProgramId, out _);
            counts ??= new long[width];
            var last = u.LastActiveDay;
            counts[Cumulative]++;
            if (last < firstOfMonth && last < d - 29 && d - u.FirstDay > 30) continue; // nothing else can count it
            if (last >= d - 6) counts[Wau]++;
            if (last >= d - 29) counts[Mau]++;
            if (last >= monday) counts[Wtd]++;
            if (last >= firstOfMonth) counts[Mtd]++;
            var age = d - u.FirstDay;
            for (var i = 0; i < grid.Count; i++)
                if (age == grid[i])
                {
                    counts[RetNew + i]++;
                    if (last == d) counts[retActiveBase + i]++;
                }
        }
        foreach (var (mp, counts) in perProgram)
        {
            // Only counters that counted someone, as adding 1 per user would make.
            if (counts[Cumulative] > 0) agg.Add("users.cumulative", MiniProgram, mp, counts[Cumulative]);
            if (counts[Wau] > 0) agg.Add("users.wau", MiniProgram, mp, counts[Wau]);
            if (counts[Mau] > 0) agg.Add("users.mau", MiniProgram, mp, counts[Mau]);
            if (counts[Wtd] > 0) agg.Add("users.wtd_active", MiniProgram, mp, counts[Wtd]);
            if (counts[Mtd] > 0) agg.Add("users.mtd_active", MiniProgram, mp, counts[Mtd]);
            for (var i = 0; i < grid.Count; i++)
            {
                if (counts[RetNew + i] > 0) agg.Add(RetentionNew(i), MiniProgram, mp, counts[RetNew + i]);
                if (counts[retActiveBase + i] > 0) agg.Add(RetentionActive(i), MiniProgram, mp, counts[retActiveBase + i]);
            }
        }
    }

    private static readonly string[] RetentionNewNames = MetricCatalog.RetentionDays.Select(n => $"_retention_new_d{n}").ToArray();
    private static readonly string[] RetentionActiveNames = MetricCatalog.RetentionDays.Select(n => $"_retention_active_d{n}").ToArray();
    internal static string RetentionNew(int i) => RetentionNewNames[i];
    internal static string RetentionActive(int i) => RetentionActiveNames[i];

}
