using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Pipeline.Storage;

/// <summary>
/// Creates every container, queue (with its <c>-poison</c> queue) and table of <see cref="StorageNames"/>
/// that is missing. For local use (Azurite) and tests; in Azure the Bicep templates create them
/// and the app's identity need not have the right to.
/// </summary>
public sealed class StorageProvisioner(
    BlobServiceClient blobService,
    QueueServiceClient queueService,
    TableServiceClient tableService,
    ILogger<StorageProvisioner>? logger = null)
{
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    public Task EnsureCreatedAsync(CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("creating containers, queues and tables", async ct =>
        {
            var tasks = new List<Task>();
            tasks.AddRange(StorageNames.Containers.Select(name => blobService.GetBlobContainerClient(name).CreateIfNotExistsAsync(cancellationToken: ct)));
            tasks.AddRange(StorageNames.Queues.Select(name => queueService.GetQueueClient(name).CreateIfNotExistsAsync(cancellationToken: ct)));
            tasks.AddRange(StorageNames.Tables.Select(name => tableService.GetTableClient(name).CreateIfNotExistsAsync(ct)));
            await Task.WhenAll(tasks).ConfigureAwait(false);
            _logger.LogInformation("Storage ready: {Containers} containers, {Queues} queues, {Tables} tables",
                StorageNames.Containers.Count, StorageNames.Queues.Count, StorageNames.Tables.Count);
        }, cancellationToken);
}
