using Microsoft.Azure.Functions.Worker;
using Pipeline.Hosting.Entries;

namespace Pipeline.Functions.Triggers;

/// <summary>
/// The daily rollup, on the UTC schedule of the <c>RollupSchedule</c> app setting: plans a run of
/// every dirty day and every day through yesterday (reporting time zone) and fans it out on the
/// <c>rollup-shards</c> queue; <see cref="RollupShard"/> and <see cref="RollupDay"/> do the work.
/// </summary>
public sealed class DailyRollup(RollupEntry entry)
{
    [Function(nameof(DailyRollup))]
    public Task Run(
        [TimerTrigger("%RollupSchedule%")] TimerInfo timer,
        CancellationToken cancellationToken)
        => entry.PlanDueAsync(cancellationToken);
}
