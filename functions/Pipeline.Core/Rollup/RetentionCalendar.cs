using Pipeline.Core.Catalog;

namespace Pipeline.Core.Rollup;

/// <summary>
/// The calendar facts of one reporting day D that the window metrics need: its natural week
/// (Monday to Sunday) and month, whether weekly rows (D a Sunday) or monthly rows (D a month's last
/// day) are due, and the cohort periods they look back at.
/// </summary>
internal sealed class RetentionCalendar
{
    private readonly int[] _ageIndex; // days since first seen -> index in the daily grid, or -1

    public RetentionCalendar(DateOnly day)
    {
        Day = day.DayNumber;
        Monday = Day - ((int)day.DayOfWeek + 6) % 7;
        FirstOfMonth = Day - day.Day + 1;
        IsSunday = day.DayOfWeek == DayOfWeek.Sunday;
        IsMonthEnd = day.Day == DateTime.DaysInMonth(day.Year, day.Month);
        PreviousMonthStart = day.AddDays(1 - day.Day).AddMonths(-1).DayNumber;
        WeekEnds = MetricCatalog.RetentionWeeks.Select(n => Day - 7 * n).ToArray();
        var grid = MetricCatalog.RetentionDays;
        _ageIndex = Enumerable.Repeat(-1, grid.Max() + 1).ToArray();
        for (var i = 0; i < grid.Count; i++) _ageIndex[grid[i]] = i;
    }

    /// <summary>D as a <see cref="DateOnly.DayNumber"/>.</summary>
    public int Day { get; }

    /// <summary>The Monday of D's natural week.</summary>
    public int Monday { get; }

    public int FirstOfMonth { get; }

    /// <summary>The first day of the natural month before D's.</summary>
    public int PreviousMonthStart { get; }

    /// <summary>Weekly rows are written: D is a Sunday, the end of a natural week.</summary>
    public bool IsSunday { get; }

    /// <summary>Monthly rows are written: D is the last day of its month.</summary>
    public bool IsMonthEnd { get; }

    /// <summary>The Sundays ending the cohort weeks of <c>retention_w1</c>… (D-7, D-14, …).</summary>
    public int[] WeekEnds { get; }

    /// <summary>Whether a user first seen <paramref name="age"/> days before D is a cohort of the daily grid, and which.</summary>
    public bool IsRetentionAge(int age, out int index)
    {
        index = (uint)age < (uint)_ageIndex.Length ? _ageIndex[age] : -1;
        return index >= 0;
    }

    /// <summary>
    /// False when no window counter other than cumulative can count the user: not active in the last
    /// 64 days, the activity history (it reaches the previous natural month and the fourth cohort
    /// week) and first seen longer ago than any cohort looks back.
    /// </summary>
    public bool MayCount(in UserWindow u) =>
        u.LastActiveDay >= Day - UserWindow.ActivityHistoryDays || u.FirstDay >= Day - UserWindow.ActivityHistoryDays;
}
