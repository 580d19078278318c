using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Pipeline.Hosting;
using Pipeline.Hosting.Entries;

namespace Pipeline.Local.Hosting;

/// <summary>Runs the landing sweeper on the <c>SweepSchedule</c> setting (the local twin of the <c>SweepLanding</c> trigger).</summary>
internal sealed class SweepScheduler(IConfiguration configuration, SweepEntry sweep, TimeProvider time, ILogger<SweepScheduler> logger)
    : ScheduledJob("landing sweep", SweepSchedule.SettingName, SweepSchedule.Default, configuration, time, logger)
{
    protected override Task RunOnceAsync(CancellationToken cancellationToken) => sweep.RunAsync(cancellationToken);

    // The next sweep looks at the same batches again.
    protected override string AfterFailure => "the next one retries";
}
