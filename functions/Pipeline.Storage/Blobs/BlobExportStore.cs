using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Storage.Blobs;

/// <summary>
/// Daily exports, rewritten whole on each roll-up of the day (a redelivered finaliser message writes the
/// same bytes again): the CSV <c>exports/daily/&lt;yyyy-MM-dd&gt;.csv</c>, UTF-8, and its Parquet twin
/// <c>exports/parquet/date=&lt;yyyy-MM-dd&gt;/metrics.parquet</c> (<see cref="MetricsParquet"/>).
/// </summary>
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

    public async Task WriteDailyParquetAsync(DateOnly day, IReadOnlyList<MetricRow> rows, CancellationToken cancellationToken)
    {
        // Encoded before the upload, so that a retried upload sends the same bytes.
        var parquet = await MetricsParquet.EncodeAsync(day, rows, cancellationToken).ConfigureAwait(false);
        var path = BlobPaths.ParquetExport(day);
        await StorageFailures.RunAsync("writing export " + path, ct =>
            _container.GetBlobClient(path).UploadAsync(
                new BinaryData(parquet),
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = MetricsParquet.ContentType } },
                ct), cancellationToken).ConfigureAwait(false);
    }

    public Task<byte[]?> ReadDailyParquetAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var path = BlobPaths.ParquetExport(day);
        return StorageFailures.RunAsync("reading export " + path, async ct =>
            (await _container.GetBlobClient(path).ContentOrNullAsync(ct).ConfigureAwait(false))?.ToArray(), cancellationToken);
    }

    public string DescribeDailyParquet(DateOnly day) => $"{StorageNames.ExportsContainer}/{BlobPaths.ParquetExport(day)}";
}
