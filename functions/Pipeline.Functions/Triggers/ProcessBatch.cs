using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Hosting.Entries;

namespace Pipeline.Functions.Triggers;

/// <summary>
/// Processing queue: de-duplicate and store one landing batch. A throw leaves the message for
/// another try; after <c>maxDequeueCount</c> (host.json) the host moves it to the poison queue.
/// </summary>
public sealed class ProcessBatch(ProcessingQueueEntry entry, QueueDelivery delivery)
{
    [Function(nameof(ProcessBatch))]
    public Task Run(
        [QueueTrigger(ProcessingQueueEntry.QueueName, Connection = "PipelineStorage")] QueueMessage message,
        CancellationToken cancellationToken)
        => delivery.RunAsync(ProcessingQueueEntry.QueueName, message, entry.HandleAsync, cancellationToken);
}
