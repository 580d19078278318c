using System.Text.Json;
using Azure.Storage.Queues;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Queues;

/// <summary>
/// The processing queue (<c>events-processing</c>): claim-check messages as JSON. The
/// <see cref="QueueServiceClient"/> must Base64-encode bodies (<see cref="QueueMessageEncoding.Base64"/>,
/// as <see cref="PipelineStorageOptions.CreateQueueServiceClient"/> sets it) because the Functions
/// queue trigger decodes Base64 by default.
/// </summary>
public sealed class QueueProcessingQueue : IProcessingQueue
{
    private readonly QueueClient _queue;

    public QueueProcessingQueue(QueueServiceClient queueService)
    {
        ArgumentNullException.ThrowIfNull(queueService);
        _queue = queueService.GetQueueClient(StorageNames.ProcessingQueue);
    }

    public Task EnqueueAsync(ProcessingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        return StorageFailures.RunAsync("enqueueing batch " + message.BatchId, ct =>
            _queue.SendMessageAsync(
                new BinaryData(JsonSerializer.SerializeToUtf8Bytes(message, StorageJsonContext.Default.ProcessingMessage)),
                cancellationToken: ct), cancellationToken);
    }

    /// <summary>Parses a claim-check message body (for the queue handlers of both hosts).</summary>
    public static ProcessingMessage Parse(BinaryData body) =>
        JsonSerializer.Deserialize(body.ToMemory().Span, StorageJsonContext.Default.ProcessingMessage)
        ?? throw new JsonException("The processing message is null.");
}
