using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Blobs;

/// <summary>Daily CSV exports: <c>exports/daily/&lt;yyyy-MM-dd&gt;.csv</c>, UTF-8, rewritten on each roll-up of the day.</summary>
public sealed class BlobExportStore(BlobServiceClient blobService) : IExportStore
{
    public const string ContentType = "text/csv; charset=utf-8";

    private readonly BlobContainerClient _container = blobService.GetBlobContainerClient(StorageNames.ExportsContainer);

    public Task WriteDailyAsync(DateOnly day, ReadOnlyMemory<byte> csv, CancellationToken cancellationToken)
    {
        var path = BlobPaths.Export(day);
        return StorageFailures.RunAsync("writing export " + path, ct =>
            _container.GetBlobClient(path).UploadAsync(
                new BinaryData(csv),
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = ContentType } },
                ct), cancellationToken);
    }

    public Task<byte[]?> ReadDailyAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var path = BlobPaths.Export(day);
        return StorageFailures.RunAsync("reading export " + path, async ct =>
            (await _container.GetBlobClient(path).ContentOrNullAsync(ct).ConfigureAwait(false))?.ToArray(), cancellationToken);
    }

    public string DescribeDaily(DateOnly day) => $"{StorageNames.ExportsContainer}/{BlobPaths.Export(day)}";
}
