using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Ports;
using Pipeline.Storage.Resilience;
using Polly;

namespace Pipeline.Storage.Blobs;

/// <summary>
/// What happened to each landing batch, kept as metadata of its landing blob: <c>processedAt</c>
/// (set by processing when it finished the batch), <c>sweptAt</c> and <c>sweeps</c> (set by the
/// sweeper). On the blob itself, so one listing of a day's folder with metadata tells the sweeper
/// everything, with no second store to keep in step.
/// </summary>
/// <remarks>
/// Setting metadata replaces all of it, so each update reads the metadata, changes one entry and
/// writes it back conditionally on the ETag, re-running on a lost race (processing and the sweeper
/// may touch the same blob at once). Setting metadata also moves <c>Last-Modified</c>, so the age
/// of a batch is taken from the blob's creation time.
/// </remarks>
public sealed class BlobLandingInventory(BlobServiceClient blobService) : ILandingInventory, IProcessedBatchLedger
{
    internal const string ProcessedAtKey = "processedAt";
    internal const string SweptAtKey = "sweptAt";
    internal const string SweepsKey = "sweeps";

    private static readonly ResiliencePipeline Conflicts = OptimisticConcurrency.CreatePipeline();
    private readonly BlobContainerClient _container = blobService.GetBlobContainerClient(StorageNames.LandingContainer);

    public Task MarkProcessedAsync(string landingPath, DateTimeOffset processedAt, CancellationToken cancellationToken) =>
        UpdateAsync(landingPath, "marking processed", metadata =>
        {
            if (metadata.ContainsKey(ProcessedAtKey)) return false; // the first completion is the one kept
            metadata[ProcessedAtKey] = Format(processedAt);
            return true;
        }, cancellationToken);

    public Task RecordSweepAsync(string landingPath, DateTimeOffset sweptAt, CancellationToken cancellationToken) =>
        UpdateAsync(landingPath, "recording the sweep of", metadata =>
        {
            metadata[SweptAtKey] = Format(sweptAt);
            metadata[SweepsKey] = (SweepsOf(metadata) + 1).ToString(CultureInfo.InvariantCulture);
            return true;
        }, cancellationToken);

    public async IAsyncEnumerable<LandingEntry> ListAsync(DateOnly utcDay, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prefix = utcDay.ToString("yyyy'/'MM'/'dd'/'", CultureInfo.InvariantCulture);
        var pages = _container.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata, Prefix = prefix }, cancellationToken).AsPages();
        await using var pageEnumerator = pages.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            Page<BlobItem> page;
            try
            {
                if (!await pageEnumerator.MoveNextAsync().ConfigureAwait(false)) yield break;
                page = pageEnumerator.Current;
            }
            catch (Exception ex) when (StorageFailures.IsUnavailable(ex, cancellationToken))
            {
                throw StorageFailures.Unavailable("listing landing blobs under " + prefix, ex);
            }
            foreach (var blob in page.Values)
            {
                if (!blob.Name.EndsWith(".json", StringComparison.Ordinal)) continue;
                var metadata = blob.Metadata ?? new Dictionary<string, string>();
                yield return new LandingEntry(
                    Path.GetFileNameWithoutExtension(blob.Name),
                    blob.Name,
                    blob.Properties.CreatedOn ?? blob.Properties.LastModified ?? DateTimeOffset.MinValue,
                    Parse(metadata, ProcessedAtKey),
                    Parse(metadata, SweptAtKey),
                    SweepsOf(metadata));
            }
        }
    }

    private Task UpdateAsync(string landingPath, string operation, Func<IDictionary<string, string>, bool> change, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(landingPath);
        var name = landingPath.StartsWith(StorageNames.LandingContainer + "/", StringComparison.Ordinal)
            ? landingPath[(StorageNames.LandingContainer.Length + 1)..]
            : landingPath;
        var blob = _container.GetBlobClient(name);
        return StorageFailures.RunAsync($"{operation} landing blob {name}", ct => Conflicts.ExecuteAsync(async token =>
        {
            BlobProperties properties;
            try
            {
                properties = (await blob.GetPropertiesAsync(cancellationToken: token).ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return; // gone (retention): nothing to record
            }
            var metadata = new Dictionary<string, string>(properties.Metadata, StringComparer.OrdinalIgnoreCase);
            if (!change(metadata)) return;
            try
            {
                await blob.SetMetadataAsync(metadata, new BlobRequestConditions { IfMatch = properties.ETag }, token).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Deleted in between: nothing to record.
            }
        }, ct).AsTask(), cancellationToken);
    }

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset? Parse(IDictionary<string, string> metadata, string key) =>
        TryGet(metadata, key) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : null;

    private static int SweepsOf(IDictionary<string, string> metadata) =>
        TryGet(metadata, SweepsKey) is { } text && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    // Metadata names are case-insensitive on the service; listings may return them in any case.
    private static string? TryGet(IDictionary<string, string> metadata, string key)
    {
        foreach (var (k, v) in metadata)
            if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) return v;
        return null;
    }
}
