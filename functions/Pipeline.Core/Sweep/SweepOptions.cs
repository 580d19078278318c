namespace Pipeline.Core.Sweep;

/// <summary>
/// Settings of the landing sweeper, bound from configuration section <c>Sweep</c> (app settings
/// <c>Sweep__GracePeriod</c> and so on) and validated at start-up. The schedule itself is the flat
/// setting <c>SweepSchedule</c>, like <c>RollupSchedule</c>.
/// </summary>
public sealed class SweepOptions
{
    public const string Section = "Sweep";

    /// <summary>
    /// How old an unprocessed landing batch must be before the sweeper enqueues it again. Longer than
    /// ingest takes from the landing write to the enqueue, and than processing normally lags, so the
    /// sweeper does not race them (a spurious enqueue is harmless, only wasted work).
    /// </summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How far back the sweeper looks (whole UTC days of receipt), which bounds each sweep's listing.</summary>
    public TimeSpan Lookback { get; set; } = TimeSpan.FromDays(2);

    /// <summary>How long after a sweep a batch that is still unprocessed is enqueued again.</summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Sweeps of one batch before the sweeper gives up on it (a batch that fails every time ends on the
    /// poison queue each time; re-enqueueing it for ever would only fill that queue). Given-up batches
    /// are counted in every sweep's report for operators.
    /// </summary>
    public int MaxSweeps { get; set; } = 3;

    /// <summary>The first problem with these settings, or null when they are usable.</summary>
    public string? Problem() =>
        GracePeriod <= TimeSpan.Zero ? $"{Section}:GracePeriod must be positive; got {GracePeriod}."
        : Lookback < GracePeriod ? $"{Section}:Lookback ({Lookback}) must be at least {Section}:GracePeriod ({GracePeriod})."
        : RetryInterval <= TimeSpan.Zero ? $"{Section}:RetryInterval must be positive; got {RetryInterval}."
        : MaxSweeps < 1 ? $"{Section}:MaxSweeps must be at least 1; got {MaxSweeps}."
        : null;
}
