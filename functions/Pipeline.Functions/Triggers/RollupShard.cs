using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Hosting.Entries;

namespace Pipeline.Functions.Triggers;

/// <summary>
/// Rollup fan-out: rolls one user shard over the days of a run. Instances scale out with the
/// queue; a throw leaves the message for another try (the shard resumes where it stopped).
/// </summary>
public sealed class RollupShard(RollupShardEntry entry, QueueDelivery delivery)
{
    [Function(nameof(RollupShard))]
    public Task Run(
        [QueueTrigger(RollupShardEntry.QueueName, Connection = "PipelineStorage")] QueueMessage message,
        CancellationToken cancellationToken)
        => delivery.RunAsync(RollupShardEntry.QueueName, message, entry.HandleAsync, cancellationToken);
}
