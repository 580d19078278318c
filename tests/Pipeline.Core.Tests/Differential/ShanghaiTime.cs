namespace Pipeline.Core.Tests.Differential;

/// <summary>
/// Reporting days in Asia/Shanghai computed without <see cref="Time.ReportingCalendar"/>: the zone has been UTC+8 all
/// year, with no daylight saving, since 1991, and the datasets are from 2025 on. The generator and the reference use
/// this, so a reporting calendar that put an event near midnight on the wrong day would make the engine's rows (whose
/// events are split into days by the pipeline's calendar) differ from the reference's.
/// </summary>
internal static class ShanghaiTime
{
    public static readonly TimeSpan Offset = TimeSpan.FromHours(8);

    private const long DayMs = 86_400_000;

    /// <summary>The local calendar day of an instant (Unix ms, after 1991).</summary>
    public static DateOnly DayOf(long unixMs) => DateOnly.FromDayNumber((int)((unixMs + (long)Offset.TotalMilliseconds) / DayMs) + UnixEpochDayNumber);

    /// <summary>Local midnight at the start of a day, as Unix ms.</summary>
    public static long MidnightOf(DateOnly day) => (long)(day.DayNumber - UnixEpochDayNumber) * DayMs - (long)Offset.TotalMilliseconds;

    private static readonly int UnixEpochDayNumber = new DateOnly(1970, 1, 1).DayNumber;
}
