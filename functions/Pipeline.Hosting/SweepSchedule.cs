namespace Pipeline.Hosting;

/// <summary>
/// The landing sweeper's schedule: a flat app setting <c>SweepSchedule</c> (NCRONTAB with seconds,
/// in UTC), flat for the same reason as <see cref="RollupSchedule"/>: the Functions host resolves
/// <c>%SweepSchedule%</c> in the timer binding from app settings.
/// </summary>
public static class SweepSchedule
{
    public const string SettingName = "SweepSchedule";

    /// <summary>Every 15 minutes: a lost claim check is found within the grace period plus 15 minutes.</summary>
    public const string Default = "0 */15 * * * *";
}
