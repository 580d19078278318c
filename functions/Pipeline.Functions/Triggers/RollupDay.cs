using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Hosting.Entries;

namespace Pipeline.Functions.Triggers;

/// <summary>
/// Rollup fan-in: finalises one day of a run once every shard has rolled it (rows, CSV, cursor),
/// then hands on to the next day.
/// </summary>
public sealed class RollupDay(RollupDayEntry entry, QueueDelivery delivery)
{
    [Function(nameof(RollupDay))]
    public Task Run(
        [QueueTrigger(RollupDayEntry.QueueName, Connection = "PipelineStorage")] QueueMessage message,
        CancellationToken cancellationToken)
        => delivery.RunAsync(RollupDayEntry.QueueName, message, entry.HandleAsync, cancellationToken);
}
