using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Blobs;

/// <summary>Rejected events and their reasons: <c>rejected/&lt;yyyy-MM-dd&gt;/&lt;batchId&gt;.json</c> (UTC date of receipt).</summary>
public sealed class BlobRejectedEventStore(BlobServiceClient blobService) : IRejectedEventStore
{
    private readonly BlobContainerClient _container = blobService.GetBlobContainerClient(StorageNames.RejectedContainer);

    public Task WriteAsync(RejectedBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var path = BlobPaths.Rejected(batch.BatchId, batch.ReceivedAt);
        return StorageFailures.RunAsync("writing rejected blob " + path, ct =>
            _container.GetBlobClient(path).UploadAsync(
                new BinaryData(JsonSerializer.SerializeToUtf8Bytes(batch, StorageJsonContext.Default.RejectedBatch)),
                new BlobUploadOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                    Metadata = new Dictionary<string, string> { ["source"] = batch.Source, ["keyId"] = batch.KeyId },
                },
                ct), cancellationToken);
    }

    /// <summary>Reads a rejected batch back (for operators' tools and tests); null when none was written.</summary>
    public Task<RejectedBatch?> ReadAsync(string batchId, DateTimeOffset receivedAt, CancellationToken cancellationToken)
    {
        var path = BlobPaths.Rejected(batchId, receivedAt);
        return StorageFailures.RunAsync("reading rejected blob " + path, async ct =>
            await _container.GetBlobClient(path).ContentOrNullAsync(ct).ConfigureAwait(false) is { } content
                ? JsonSerializer.Deserialize(content.ToMemory().Span, StorageJsonContext.Default.RejectedBatch)
                : null, cancellationToken);
    }
}
