using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Hosting.Entries;

namespace Pipeline.Functions.Triggers;

/// <summary>Inbound queue: a trusted back end's batch, ingested exactly like an HTTP request.</summary>
public sealed class InboundBatch(InboundQueueEntry entry, QueueDelivery delivery)
{
    [Function(nameof(InboundBatch))]
    public Task Run(
        [QueueTrigger(InboundQueueEntry.QueueName, Connection = "PipelineStorage")] QueueMessage message,
        CancellationToken cancellationToken)
        => delivery.RunAsync(InboundQueueEntry.QueueName, message, entry.HandleAsync, cancellationToken);
}
