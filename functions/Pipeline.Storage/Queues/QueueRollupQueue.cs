using System.Text.Json;
using Azure.Storage.Queues;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Storage.Queues;

/// <summary>
/// The rollup's queues: <c>rollup-shards</c> (one message per run and user shard) and
/// <c>rollup-days</c> (one per run and day to finalise), JSON bodies, Base64-encoded by the
/// <see cref="QueueServiceClient"/> as the Functions queue trigger expects.
/// </summary>
public sealed class QueueRollupQueue(QueueServiceClient queueService) : IRollupQueue
{
    private readonly QueueClient _shards = queueService.GetQueueClient(StorageNames.RollupShardsQueue);
    private readonly QueueClient _days = queueService.GetQueueClient(StorageNames.RollupDaysQueue);

    public Task EnqueueShardAsync(RollupShardMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        return StorageFailures.RunAsync($"enqueueing rollup shard {message.Shard} of run {message.RunId}", ct =>
            _shards.SendMessageAsync(new BinaryData(JsonSerializer.SerializeToUtf8Bytes(message, StorageJsonContext.Default.RollupShardMessage)), cancellationToken: ct),
            cancellationToken);
    }

    public Task EnqueueDayAsync(RollupDayMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        return StorageFailures.RunAsync($"enqueueing rollup day {message.Day:yyyy-MM-dd} of run {message.RunId}", ct =>
            _days.SendMessageAsync(new BinaryData(JsonSerializer.SerializeToUtf8Bytes(message, StorageJsonContext.Default.RollupDayMessage)), cancellationToken: ct),
            cancellationToken);
    }

    /// <summary>Parses a <c>rollup-shards</c> message body (for the queue entries of both hosts).</summary>
    public static RollupShardMessage ParseShard(string body) =>
        JsonSerializer.Deserialize(body, StorageJsonContext.Default.RollupShardMessage) ?? throw new JsonException("The rollup shard message is null.");

    /// <summary>Parses a <c>rollup-days</c> message body.</summary>
    public static RollupDayMessage ParseDay(string body) =>
        JsonSerializer.Deserialize(body, StorageJsonContext.Default.RollupDayMessage) ?? throw new JsonException("The rollup day message is null.");
}
