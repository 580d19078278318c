using Microsoft.Extensions.Logging;
using Pipeline.Core.Rollup;
using Pipeline.Storage.Queues;

namespace Pipeline.Hosting.Entries;

/// <summary>
/// Entry point of the <c>rollup-shards</c> queue for both hosts: rolls one user shard over a run's
/// days. A failure is rethrown, so the host delivers the message again (the shard resumes after its
/// last recorded day) and, after the dequeue limit, moves it to the poison queue.
/// </summary>
public sealed class RollupShardEntry(ShardRollupHandler handler, ILogger<RollupShardEntry> logger)
{
    public const string QueueName = Pipeline.Storage.StorageNames.RollupShardsQueue;

    public async Task HandleAsync(string message, CancellationToken cancellationToken)
    {
        var result = await handler.HandleAsync(QueueRollupQueue.ParseShard(message), cancellationToken).ConfigureAwait(false);
        if (result.Skipped)
            logger.LogInformation("Rollup run {RunId}, shard {Shard}: nothing left to roll", result.RunId, result.Shard);
        else
            logger.LogInformation("Rollup run {RunId}, shard {Shard}: rolled {Days} day(s), {Events} events", result.RunId, result.Shard, result.DaysRolled, result.Events);
    }
}
