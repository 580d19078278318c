using Microsoft.Extensions.Logging;
using Pipeline.Core.Sweep;

namespace Pipeline.Hosting.Entries;

/// <summary>What one sweep did: the landing sweep, then the background compaction.</summary>
public sealed record SweepResult(SweepReport Landing, CompactionReport Compaction);

/// <summary>
/// Entry point of the landing sweeper (timer in Azure, scheduler locally): re-enqueues lost claim
/// checks, then compacts the event store's dirty days before today in the background.
/// </summary>
public sealed class SweepEntry(LandingSweeper sweeper, EventCompactor compactor, ILogger<SweepEntry> logger)
{
    public async Task<SweepResult> RunAsync(CancellationToken cancellationToken)
    {
        var report = await sweeper.RunAsync(cancellationToken).ConfigureAwait(false);
        if (report.Enqueued.Count > 0)
            logger.LogWarning("Landing sweep re-enqueued batches whose claim check was lost: {Batches}", string.Join(",", report.Enqueued));
        if (report.GivenUp.Count > 0)
            logger.LogError("Landing batches still unprocessed after every sweep (see the poison queue): {Batches}", string.Join(",", report.GivenUp));
        logger.LogInformation("Landing sweep finished: {Report}", report);
        var compaction = await compactor.RunAsync(cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Background compaction finished: {Report}", compaction);
        return new SweepResult(report, compaction);
    }
}
