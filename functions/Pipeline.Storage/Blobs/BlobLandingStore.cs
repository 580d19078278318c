using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Blobs;

/// <summary>
/// Landing blobs: <c>landing/&lt;yyyy&gt;/&lt;MM&gt;/&lt;dd&gt;/&lt;batchId&gt;.json</c> (UTC date of receipt), the
/// batch as JSON, with the source, key id and event count as metadata for audits. Writing a batch
/// again overwrites it, so a retried ingest is idempotent per batch id.
/// </summary>
public sealed class BlobLandingStore(BlobServiceClient blobService) : ILandingStore
{
    private readonly BlobContainerClient _container = blobService.GetBlobContainerClient(StorageNames.LandingContainer);

    public Task<string> WriteAsync(LandingBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var path = BlobPaths.Landing(batch.BatchId, batch.ReceivedAt);
        return StorageFailures.RunAsync("writing landing blob " + path, async ct =>
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(batch, StorageJsonContext.Default.LandingBatch);
            await _container.GetBlobClient(path).UploadAsync(new BinaryData(json), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Metadata = new Dictionary<string, string>
                {
                    ["source"] = batch.Source,
                    ["keyId"] = batch.KeyId,
                    ["eventCount"] = batch.Events.Count.ToString(CultureInfo.InvariantCulture),
                },
            }, ct).ConfigureAwait(false);
            return path;
        }, cancellationToken);
    }

    public Task<LandingBatch?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        // Accept the container-qualified form too ("landing/2026/11/23/<id>.json").
        var name = path.StartsWith(StorageNames.LandingContainer + "/", StringComparison.Ordinal)
            ? path[(StorageNames.LandingContainer.Length + 1)..]
            : path;
        return StorageFailures.RunAsync("reading landing blob " + name, async ct =>
            await _container.GetBlobClient(name).ContentOrNullAsync(ct).ConfigureAwait(false) is { } content
                ? JsonSerializer.Deserialize(content.ToMemory().Span, StorageJsonContext.Default.LandingBatch)
                : null, cancellationToken);
    }
}
