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
/// The rollup's window state, one blob per day (<c>state/days/&lt;yyyy-MM-dd&gt;.bin</c>), and its
/// cursor, an entity of <c>RollupLedger</c> (PartitionKey <c>cursor</c>, RowKey <c>rollup</c>)
/// written with optimistic concurrency: read, write if the ETag still matches, retry on 412/409.
/// </summary>
public sealed class BlobRollupStateStore(BlobServiceClient blobService, TableServiceClient tableService) : IRollupStateStore
{
    public const string CursorPartitionKey = "cursor";
    public const string CursorRowKey = "rollup";

    private readonly BlobContainerClient _container = blobService.GetBlobContainerClient(StorageNames.StateContainer);
    private readonly TableClient _ledger = tableService.GetTableClient(StorageNames.RollupLedgerTable);
    private readonly ResiliencePipeline _concurrency = OptimisticConcurrency.CreatePipeline();

    public Task<byte[]?> LoadAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var path = BlobPaths.State(day);
        return StorageFailures.RunAsync("reading rollup state " + path, async ct =>
            (await _container.GetBlobClient(path).ContentOrNullAsync(ct).ConfigureAwait(false))?.ToArray(), cancellationToken);
    }

    public Task SaveAsync(DateOnly day, ReadOnlyMemory<byte> state, CancellationToken cancellationToken)
    {
        var path = BlobPaths.State(day);
        return StorageFailures.RunAsync("writing rollup state " + path, ct =>
            _container.GetBlobClient(path).UploadAsync(
                new BinaryData(state),
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" } },
                ct), cancellationToken);
    }

    public Task<RollupCursor?> GetCursorAsync(CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("reading the rollup cursor", async ct =>
        {
            var entity = await _ledger.GetEntityIfExistsAsync<TableEntity>(CursorPartitionKey, CursorRowKey, cancellationToken: ct).ConfigureAwait(false);
            return entity.HasValue && entity.Value is { } e ? ToCursor(e) : null;
        }, cancellationToken);

    public Task SetCursorAsync(RollupCursor cursor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        return StorageFailures.RunAsync("writing the rollup cursor", ct => _concurrency.ExecuteAsync(async token =>
        {
            // Conditional on what was read: two rollups racing serialise instead of interleaving.
            var existing = await _ledger.GetEntityIfExistsAsync<TableEntity>(CursorPartitionKey, CursorRowKey, cancellationToken: token).ConfigureAwait(false);
            var entity = new TableEntity(CursorPartitionKey, CursorRowKey)
            {
                ["FirstDay"] = BlobPaths.Day(cursor.FirstDay),
                ["LastRolledDay"] = BlobPaths.Day(cursor.LastRolledDay),
            };
            if (existing.HasValue && existing.Value is { } current)
                await _ledger.UpdateEntityAsync(entity, current.ETag, TableUpdateMode.Replace, token).ConfigureAwait(false);
            else
                await _ledger.AddEntityAsync(entity, token).ConfigureAwait(false);
        }, ct).AsTask(), cancellationToken);
    }

    private static RollupCursor ToCursor(TableEntity e) => new(
        DateOnly.ParseExact(e.GetString("FirstDay"), "yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateOnly.ParseExact(e.GetString("LastRolledDay"), "yyyy-MM-dd", CultureInfo.InvariantCulture));
}
