using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Pipeline.Hosting;
using Pipeline.Hosting.Entries;

namespace Pipeline.Local.Hosting;

/// <summary>Runs the daily rollup on the <c>RollupSchedule</c> setting (the local twin of the <c>DailyRollup</c> trigger).</summary>
internal sealed class RollupScheduler(IConfiguration configuration, RollupEntry rollup, TimeProvider time, ILogger<RollupScheduler> logger)
    : ScheduledJob("rollup", RollupSchedule.SettingName, RollupSchedule.Default, configuration, time, logger)
{
    protected override Task RunOnceAsync(CancellationToken cancellationToken) => rollup.PlanDueAsync(cancellationToken);

    // Dirty marks are cleared only after a day is written.
    protected override string AfterFailure => "dirty days stay marked for the next run";
}
