using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Storage.Resilience;
using Polly;

namespace Pipeline.Storage.Blobs;

/// <summary>
/// The rollup's saved state in the <c>state</c> container (per (day, shard) the shard's window state
/// <c>shards/&lt;day&gt;/&lt;shard&gt;.bin</c> and partial <c>partials/&lt;day&gt;/&lt;shard&gt;.bin</c>; per day
/// the ledger's parts <c>ledger/&lt;day&gt;/&lt;part&gt;.bin</c>; per shard the de-duplication window
/// <c>ids/&lt;shard&gt;.bin</c>, written conditionally on its ETag; per (day, shard) the duplicates found
/// <c>duplicates/&lt;day&gt;/&lt;shard&gt;.bin</c>), and its
/// cursor, an entity of <c>RollupLedger</c> (PartitionKey <c>cursor</c>, RowKey <c>rollup</c>), written whole.
/// </summary>
public sealed class BlobRollupStateStore(BlobServiceClient blobService, TableServiceClient tableService) : IRollupStateStore
{
    public const string CursorPartitionKey = "cursor";
    public const string CursorRowKey = "rollup";

    private readonly BlobContainerClient _container = blobService.GetBlobContainerClient(StorageNames.StateContainer);
    private readonly TableClient _ledger = tableService.GetTableClient(StorageNames.RollupLedgerTable);

    public Task<byte[]?> LoadShardStateAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        LoadAsync(BlobPaths.ShardState(day, shard), "rollup shard state ", cancellationToken);

    public Task SaveShardStateAsync(DateOnly day, int shard, ReadOnlyMemory<byte> state, CancellationToken cancellationToken) =>
        SaveAsync(BlobPaths.ShardState(day, shard), state, "rollup shard state ", cancellationToken);

    public Task<byte[]?> LoadPartialAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        LoadAsync(BlobPaths.Partial(day, shard), "rollup partial ", cancellationToken);

    public Task SavePartialAsync(DateOnly day, int shard, ReadOnlyMemory<byte> partial, CancellationToken cancellationToken) =>
        SaveAsync(BlobPaths.Partial(day, shard), partial, "rollup partial ", cancellationToken);

    public Task<byte[]?> LoadLedgerPartAsync(DateOnly day, string part, CancellationToken cancellationToken) =>
        LoadAsync(BlobPaths.Ledger(day, part), "rollup ledger ", cancellationToken);

    public Task SaveLedgerPartAsync(DateOnly day, string part, ReadOnlyMemory<byte> ledger, CancellationToken cancellationToken) =>
        SaveAsync(BlobPaths.Ledger(day, part), ledger, "rollup ledger ", cancellationToken);

    public Task<(byte[]? Window, string? Version)> LoadIdWindowAsync(int shard, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("reading rollup de-duplication window " + BlobPaths.IdWindow(shard), async ct =>
        {
            try
            {
                var result = await _container.GetBlobClient(BlobPaths.IdWindow(shard)).DownloadContentAsync(ct).ConfigureAwait(false);
                return ((byte[]?)result.Value.Content.ToArray(), (string?)result.Value.Details.ETag.ToString());
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return (null, null);
            }
        }, cancellationToken);

    public Task<string> SaveIdWindowAsync(int shard, ReadOnlyMemory<byte> window, string? expectedVersion, CancellationToken cancellationToken)
    {
        var path = BlobPaths.IdWindow(shard);
        return StorageFailures.RunAsync("writing rollup de-duplication window " + path, async ct =>
        {
            try
            {
                var written = await _container.GetBlobClient(path).UploadAsync(
                    new BinaryData(window),
                    new BlobUploadOptions
                    {
                        HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
                        Conditions = expectedVersion is null
                            ? new BlobRequestConditions { IfNoneMatch = ETag.All }
                            : new BlobRequestConditions { IfMatch = new ETag(expectedVersion) },
                    },
                    ct).ConfigureAwait(false);
                return written.Value.ETag.ToString();
            }
            catch (RequestFailedException ex) when (ex.Status is 412 or 409)
            {
                throw new RollupConflictException($"The de-duplication window {StorageNames.StateContainer}/{path} was written by another invocation of shard {shard} since it was read.", ex);
            }
        }, cancellationToken);
    }

    public Task<byte[]?> LoadDuplicatesAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        LoadAsync(BlobPaths.Duplicates(day, shard), "rollup duplicates ", cancellationToken);

    public Task SaveDuplicatesAsync(DateOnly day, int shard, ReadOnlyMemory<byte> duplicates, CancellationToken cancellationToken) =>
        SaveAsync(BlobPaths.Duplicates(day, shard), duplicates, "rollup duplicates ", cancellationToken);

    private Task<byte[]?> LoadAsync(string path, string what, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("reading " + what + path, async ct =>
            (await _container.GetBlobClient(path).ContentOrNullAsync(ct).ConfigureAwait(false))?.ToArray(), cancellationToken);

    // Deterministic content per name: a redelivered shard or finalise message overwrites with the same bytes.
    private Task SaveAsync(string path, ReadOnlyMemory<byte> content, string what, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("writing " + what + path, ct =>
            _container.GetBlobClient(path).UploadAsync(
                new BinaryData(content),
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" } },
                ct), cancellationToken);

    public Task<RollupCursor?> GetCursorAsync(CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("reading the rollup cursor", async ct =>
        {
            var entity = await _ledger.GetEntityIfExistsAsync<TableEntity>(CursorPartitionKey, CursorRowKey, cancellationToken: ct).ConfigureAwait(false);
            return entity.HasValue && entity.Value is { } e ? ToCursor(e) : null;
        }, cancellationToken);

    public Task SetCursorAsync(RollupCursor cursor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        // Written whole, last writer wins: only the finaliser of the run in flight writes it (one run at a time,
        // RollupRuns' active pointer), and it writes the cursor that follows from the day it finalised.
        var entity = new TableEntity(CursorPartitionKey, CursorRowKey)
        {
            ["FirstDay"] = BlobPaths.Day(cursor.FirstDay),
            ["LastRolledDay"] = BlobPaths.Day(cursor.LastRolledDay),
        };
        return StorageFailures.RunAsync("writing the rollup cursor",
            async ct => await _ledger.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct).ConfigureAwait(false), cancellationToken);
    }

    private static RollupCursor ToCursor(TableEntity e) => new(
        DateOnly.ParseExact(e.GetString("FirstDay"), "yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateOnly.ParseExact(e.GetString("LastRolledDay"), "yyyy-MM-dd", CultureInfo.InvariantCulture));
}
