using Microsoft.Azure.Functions.Worker;
using Pipeline.Hosting.Entries;

namespace Pipeline.Functions.Triggers;

/// <summary>
/// The landing sweeper, on the UTC schedule of the <c>SweepSchedule</c> app setting: re-enqueues the
/// claim check of every landing batch that was never processed (its message was lost).
/// </summary>
public sealed class SweepLanding(SweepEntry entry)
{
    [Function(nameof(SweepLanding))]
    public Task Run(
        [TimerTrigger("%SweepSchedule%")] TimerInfo timer,
        CancellationToken cancellationToken)
        => entry.RunAsync(cancellationToken);
}
