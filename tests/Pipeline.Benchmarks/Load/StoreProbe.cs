using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Pipeline.Storage;
using Pipeline.Storage.Tables;

namespace Pipeline.Benchmarks.Load;

/// <summary>Reads what the pipeline stored, straight from the storage account: the event store, the processing queue and the metric rows.</summary>
public sealed class StoreProbe(string connectionString)
{
    private readonly BlobContainerClient _events = new BlobServiceClient(connectionString).GetBlobContainerClient(StorageNames.EventsContainer);
    private readonly QueueClient _processing = new(connectionString, StorageNames.ProcessingQueue);
    private readonly QueueClient _poison = new(connectionString, StorageNames.ProcessingPoisonQueue);
    private readonly TableMetricsStore _metrics = new(new TableServiceClient(connectionString));

    /// <summary>Events in the event store per reporting day, from each block's <c>eventCount</c> metadata (<c>&lt;yyyy-MM-dd&gt;/&lt;shard&gt;/&lt;batchId&gt;.evb</c>).</summary>
    public async Task<Dictionary<DateOnly, long>> StoredEventsByDayAsync(CancellationToken cancellationToken)
    {
        var byDay = new Dictionary<DateOnly, long>();
        if (!await _events.ExistsAsync(cancellationToken)) return byDay;
        await foreach (var blob in _events.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }, cancellationToken))
        {
            var day = DateOnly.ParseExact(blob.Name[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture);
            var count = blob.Metadata.TryGetValue("eventCount", out var c) ? long.Parse(c, CultureInfo.InvariantCulture) : 0;
            byDay[day] = byDay.GetValueOrDefault(day) + count;
        }
        return byDay;
    }

    /// <summary>Messages waiting in (or being processed from) the processing queue, and the age of the oldest visible one.</summary>
    public async Task<(int Depth, TimeSpan OldestAge)> ProcessingBacklogAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!await _processing.ExistsAsync(cancellationToken)) return (0, TimeSpan.Zero);
            var depth = (await _processing.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
            var peeked = (await _processing.PeekMessagesAsync(1, cancellationToken)).Value;
            var age = peeked.Length > 0 && peeked[0].InsertedOn is { } inserted ? DateTimeOffset.UtcNow - inserted : TimeSpan.Zero;
            return (depth, age < TimeSpan.Zero ? TimeSpan.Zero : age);
        }
        catch (RequestFailedException)
        {
            return (-1, TimeSpan.Zero);
        }
    }

    public async Task<int> PoisonMessagesAsync(CancellationToken cancellationToken)
    {
        if (!await _poison.ExistsAsync(cancellationToken)) return 0;
        return (await _poison.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
    }

    /// <summary>The whole-platform (<c>total</c> dimension) value of each metric of the day; a metric without a row is absent.</summary>
    public async Task<Dictionary<string, double>> TotalsAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var rows = await _metrics.ReadDayAsync(day, cancellationToken);
        return rows.Where(r => r.Dimension == "total").ToDictionary(r => r.Metric, r => r.Value, StringComparer.Ordinal);
    }
}
