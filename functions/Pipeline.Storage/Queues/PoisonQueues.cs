using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Queues;

/// <summary>A message waiting in a poison queue, with the reason it was moved there when one was recorded.</summary>
public sealed record PoisonMessage(string Queue, string MessageId, DateTimeOffset? InsertedOn, long DequeueCount, string Body, string? Reason);

/// <summary>
/// The operator's view of the <c>-poison</c> queues: list what is there (with the reason the local
/// runner recorded under <c>rejected/poison/</c>; in Azure the reason is in the Functions host's
/// log) and move messages back to their queue once the cause is fixed. Moving back is safe:
/// processing is idempotent per batch and de-duplicates per event, so a batch that was in fact
/// half processed is completed, not doubled.
/// </summary>
public sealed class PoisonQueues(QueueServiceClient queues, BlobServiceClient blobs)
{
    /// <summary>The queues that have a poison queue: <c>processing</c>, <c>inbound</c> and the rollup's <c>rollup-shards</c> and <c>rollup-days</c>.</summary>
    public static IReadOnlyDictionary<string, string> Queues { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["processing"] = StorageNames.ProcessingQueue,
        ["inbound"] = StorageNames.InboundQueue,
        ["rollup-shards"] = StorageNames.RollupShardsQueue,
        ["rollup-days"] = StorageNames.RollupDaysQueue,
    };

    /// <summary>Up to 32 messages of <paramref name="queue"/>'s poison queue (the most a peek returns), oldest first.</summary>
    public Task<IReadOnlyList<PoisonMessage>> PeekAsync(string queue, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync<IReadOnlyList<PoisonMessage>>("reading the poison queue of " + queue, async ct =>
        {
            var poison = queues.GetQueueClient(queue + StorageNames.PoisonSuffix);
            if (!(await poison.ExistsAsync(ct).ConfigureAwait(false)).Value) return [];
            var peeked = await poison.PeekMessagesAsync(QueueMaxPeek, ct).ConfigureAwait(false);
            var reasons = await ReasonsAsync(queue, ct).ConfigureAwait(false);
            return peeked.Value
                .Select(m => new PoisonMessage(queue, m.MessageId, m.InsertedOn, m.DequeueCount, m.Body.ToString(), reasons.GetValueOrDefault(m.Body.ToString())))
                .ToList();
        }, cancellationToken);

    /// <summary>The number of messages in <paramref name="queue"/>'s poison queue (approximate, as Azure Storage reports it).</summary>
    public Task<int> CountAsync(string queue, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("counting the poison queue of " + queue, async ct =>
        {
            var poison = queues.GetQueueClient(queue + StorageNames.PoisonSuffix);
            if (!(await poison.ExistsAsync(ct).ConfigureAwait(false)).Value) return 0;
            return (await poison.GetPropertiesAsync(ct).ConfigureAwait(false)).Value.ApproximateMessagesCount;
        }, cancellationToken);

    /// <summary>
    /// Moves up to <paramref name="max"/> messages from the poison queue back to <paramref name="queue"/>
    /// (each sent first, then deleted: a crash in between leaves a copy in both, which processing
    /// de-duplicates). Returns how many were moved.
    /// </summary>
    public Task<int> RequeueAsync(string queue, int max, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("moving poison messages back to " + queue, async ct =>
        {
            var poison = queues.GetQueueClient(queue + StorageNames.PoisonSuffix);
            if (!(await poison.ExistsAsync(ct).ConfigureAwait(false)).Value) return 0;
            var target = queues.GetQueueClient(queue);
            var moved = 0;
            while (moved < max)
            {
                var batch = (await poison.ReceiveMessagesAsync(Math.Min(QueueMaxPeek, max - moved), TimeSpan.FromMinutes(5), ct).ConfigureAwait(false)).Value;
                if (batch.Length == 0) break;
                foreach (var message in batch)
                {
                    await target.SendMessageAsync(message.Body, cancellationToken: ct).ConfigureAwait(false);
                    await poison.DeleteMessageAsync(message.MessageId, message.PopReceipt, ct).ConfigureAwait(false);
                    moved++;
                }
            }
            return moved;
        }, cancellationToken);

    private const int QueueMaxPeek = 32;

    // Reasons by message body: the poison queue gives a moved message a new id, so the body (the
    // claim check, unique per batch) is what links a message to its PoisonRecord.
    private async Task<Dictionary<string, string>> ReasonsAsync(string queue, CancellationToken ct)
    {
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        var container = blobs.GetBlobContainerClient(StorageNames.RejectedContainer);
        if (!(await container.ExistsAsync(ct).ConfigureAwait(false)).Value) return reasons;
        await foreach (var item in container.GetBlobsAsync(new GetBlobsOptions { Prefix = $"poison/{queue}/" }, ct).ConfigureAwait(false))
        {
            var content = await container.GetBlobClient(item.Name).DownloadContentAsync(ct).ConfigureAwait(false);
            var record = JsonSerializer.Deserialize(content.Value.Content.ToMemory().Span, StorageJsonContext.Default.PoisonRecord);
            if (record is not null) reasons[record.Body] = record.Reason;
        }
        return reasons;
    }
}
