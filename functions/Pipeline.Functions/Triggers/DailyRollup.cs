using Microsoft.Azure.Functions.Worker;
using Pipeline.Api.Queues;

namespace Pipeline.Functions.Triggers;

/// <summary>
/// The daily rollup, on the UTC schedule of the <c>RollupSchedule</c> app setting: rolls up every
/// dirty day and every day through yesterday (reporting time zone), in date order.
/// </summary>
public sealed class DailyRollup(RollupEntry entry)
{
    [Function(nameof(DailyRollup))]
    public Task Run(
        [TimerTrigger("%RollupSchedule%")] TimerInfo timer,
        CancellationToken cancellationToken)
        => entry.RunDueAsync(cancellationToken);
}
