namespace Pipeline.Hosting;

/// <summary>
/// The daily rollup's schedule: a flat app setting <c>RollupSchedule</c> (NCRONTAB with seconds,
/// in UTC). Flat, because the Functions host resolves <c>%RollupSchedule%</c> in the timer
/// binding from app settings, and nested names do not resolve reliably there. UTC, because
/// Flex Consumption ignores <c>WEBSITE_TIME_ZONE</c>; the reporting day is computed in code.
/// </summary>
public static class RollupSchedule
{
    public const string SettingName = "RollupSchedule";

    /// <summary>16:30 UTC, which is 00:30 in Asia/Shanghai: half an hour after the reporting day ends.</summary>
    public const string Default = "0 30 16 * * *";
}
