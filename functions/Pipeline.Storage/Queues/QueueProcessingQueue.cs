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

    /// <summary>
    /// Parses a claim-check message (the queue handlers of both hosts), with the same source-generated
    /// contract that <see cref="EnqueueAsync"/> writes it with: one contract for producer and consumer.
    /// Throws <see cref="FormatException"/> naming what is wrong (the host then retries and finally poisons it).
    /// </summary>
    public static ProcessingMessage Parse(string body)
    {
        ProcessingMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(body, StorageJsonContext.Default.ProcessingMessage);
        }
        catch (JsonException e)
        {
            throw new FormatException($"Processing message is not valid JSON: {e.Message}", e);
        }
        if (message is null || string.IsNullOrEmpty(message.BatchId) || string.IsNullOrEmpty(message.LandingPath))
            throw new FormatException("Processing message needs both batchId and landingPath.");
        return message;
    }
}
