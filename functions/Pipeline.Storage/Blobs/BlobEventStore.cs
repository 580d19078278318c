using System.Collections.Concurrent;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Blobs;

/// <summary>
/// The event store: one blob per (day, shard, batch), <c>events/&lt;yyyy-MM-dd&gt;/&lt;shard:D3&gt;/&lt;batchId&gt;.evb</c>,
/// holding an <see cref="EventBlockCodec"/> block. The name is deterministic, so a redelivered
/// message overwrites its own segment instead of adding a copy.
/// </summary>
public sealed class BlobEventStore(BlobServiceClient blobService) : IEventStore
{
    /// <summary>Segments downloaded at once by <see cref="ReadAsync"/>.</summary>
    public const int ReadParallelism = 8;

    private readonly BlobContainerClient _container = blobService.GetBlobContainerClient(StorageNames.EventsContainer);

    public Task WriteAsync(EventSegment segment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var path = BlobPaths.Events(segment.Day, segment.Shard, segment.BatchId);
        return StorageFailures.RunAsync("writing event segment " + path, ct =>
            _container.GetBlobClient(path).UploadAsync(
                new BinaryData(EventBlockCodec.Encode(segment.Events)),
                new BlobUploadOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
                    Metadata = new Dictionary<string, string>
                    {
                        ["source"] = segment.Source,
                        ["eventCount"] = segment.Events.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    },
                },
                ct), cancellationToken);
    }

    public Task<IReadOnlyList<PipelineEvent>> ReadAsync(DateOnly day, int shard, CancellationToken cancellationToken)
    {
        var prefix = BlobPaths.EventPrefix(day, shard);
        return StorageFailures.RunAsync<IReadOnlyList<PipelineEvent>>("reading event segments " + prefix, async ct =>
        {
            var names = new List<string>();
            await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, ct).ConfigureAwait(false))
                names.Add(item.Name);

            var blocks = new ConcurrentDictionary<int, List<PipelineEvent>>();
            await Parallel.ForEachAsync(
                Enumerable.Range(0, names.Count),
                new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = ct },
                async (i, token) =>
                {
                    var content = await _container.GetBlobClient(names[i]).DownloadContentAsync(token).ConfigureAwait(false);
                    try
                    {
                        blocks[i] = EventBlockCodec.Decode(content.Value.Content.ToMemory().Span);
                    }
                    catch (InvalidDataException ex)
                    {
                        throw new InvalidDataException($"Event segment {StorageNames.EventsContainer}/{names[i]}: {ex.Message}", ex);
                    }
                }).ConfigureAwait(false);

            // Blob listing is ordered by name, so the result is deterministic (batch ids are time-ordered GUIDs).
            var events = new List<PipelineEvent>(blocks.Values.Sum(b => b.Count));
            for (var i = 0; i < names.Count; i++) events.AddRange(blocks[i]);
            return events;
        }, cancellationToken);
    }
}
