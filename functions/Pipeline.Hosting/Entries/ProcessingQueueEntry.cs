using Microsoft.Extensions.Logging;
using Pipeline.Core.Processing;

namespace Pipeline.Hosting.Entries;

/// <summary>
/// Entry point of the processing queue for both hosts. A failure is rethrown so the host leaves
/// the message to be delivered again, and after the dequeue limit moves it to the poison queue.
/// </summary>
public sealed class ProcessingQueueEntry(ProcessHandler handler, ILogger<ProcessingQueueEntry> logger)
{
    public const string QueueName = Pipeline.Storage.StorageNames.ProcessingQueue;

    public async Task HandleAsync(string message, CancellationToken cancellationToken)
    {
        var claimCheck = Pipeline.Storage.Queues.QueueProcessingQueue.Parse(message);
        var result = await handler.HandleAsync(claimCheck, cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Processed batch {BatchId} from {Source}: {Stored} stored, {Duplicates} duplicates, days {Days}",
            result.BatchId, result.Source, result.Stored, result.Duplicates, string.Join(",", result.Days));
    }
}
