using Microsoft.Extensions.Logging;
using Pipeline.Core.Rollup;

namespace Pipeline.Api.Queues;

/// <summary>Entry point of the daily rollup (timer in Azure, scheduler locally).</summary>
public sealed class RollupEntry(RollupRunner runner, ILogger<RollupEntry> logger)
{
    public async Task<RollupReport> RunDueAsync(CancellationToken cancellationToken)
    {
        var report = await runner.RunDueAsync(cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Rollup finished: {Report}", report);
        return report;
    }
}
