using Microsoft.Extensions.Logging;
using Pipeline.Core.Rollup;

namespace Pipeline.Hosting.Entries;

/// <summary>
/// Entry point of the daily rollup (timer in Azure, scheduler locally): plans the run and fans it
/// out on the rollup queues, then returns. The shard and day entries do the work.
/// </summary>
public sealed class RollupEntry(RollupPlanner planner, ILogger<RollupEntry> logger)
{
    public async Task<RollupPlan> PlanDueAsync(CancellationToken cancellationToken)
    {
        var plan = await planner.PlanDueAsync("schedule", cancellationToken).ConfigureAwait(false);
        if (plan.Run is { } run)
            logger.LogInformation("Rollup {Outcome}: run {RunId}, days {From:yyyy-MM-dd}..{To:yyyy-MM-dd}, {Shards} shards",
                plan.Outcome, run.RunId, run.From, run.To, run.Shards);
        else
            logger.LogInformation("Rollup: nothing to roll up");
        return plan;
    }
}
