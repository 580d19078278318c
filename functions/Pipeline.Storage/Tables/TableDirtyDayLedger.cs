using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Tables;

/// <summary>
/// Dirty days in <c>RollupLedger</c>: PartitionKey <c>dirty</c>, RowKey <c>yyyy-MM-dd</c>, and a
/// <c>Stamp</c> (a new GUID each mark) so every mark is a real write with a new ETag. The version
/// of a <see cref="DirtyDay"/> is the ETag; clearing deletes only if it still matches, so a mark
/// made while the day was being rolled up survives the clear.
/// </summary>
public sealed class TableDirtyDayLedger(TableServiceClient tableService) : IDirtyDayLedger
{
    public const string DirtyPartitionKey = "dirty";

    private readonly TableClient _ledger = tableService.GetTableClient(StorageNames.RollupLedgerTable);

    public Task MarkAsync(IReadOnlyCollection<DateOnly> days, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(days);
        if (days.Count == 0) return Task.CompletedTask;
        return StorageFailures.RunAsync("marking dirty days", async ct =>
        {
            // One partition: at most 100 upserts per transaction.
            foreach (var chunk in days.Distinct().Order().Chunk(100))
            {
                var actions = chunk.Select(day => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                    new TableEntity(DirtyPartitionKey, Key(day)) { ["Stamp"] = Guid.NewGuid().ToString("N") }));
                await _ledger.SubmitTransactionAsync(actions, ct).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    public Task<IReadOnlyList<DirtyDay>> ListAsync(CancellationToken cancellationToken) =>
        StorageFailures.RunAsync<IReadOnlyList<DirtyDay>>("listing dirty days", async ct =>
        {
            var days = new List<DirtyDay>();
            await foreach (var e in _ledger.QueryAsync<TableEntity>(e => e.PartitionKey == DirtyPartitionKey, select: ["RowKey", "Stamp"], cancellationToken: ct).ConfigureAwait(false))
            {
                if (DateOnly.TryParseExact(e.RowKey, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                    days.Add(new DirtyDay(day, e.ETag.ToString()));
            }
            days.Sort((a, b) => a.Day.CompareTo(b.Day));
            return days;
        }, cancellationToken);

    public Task<bool> ClearAsync(DirtyDay day, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(day);
        return StorageFailures.RunAsync("clearing dirty day " + Key(day.Day), async ct =>
        {
            try
            {
                // The SDK answers a delete of a missing entity with its 404 response instead of throwing.
                var response = await _ledger.DeleteEntityAsync(DirtyPartitionKey, Key(day.Day), new ETag(day.Version), ct).ConfigureAwait(false);
                return response.Status != 404;
            }
            catch (RequestFailedException ex) when (ex.Status is 412 or 404)
            {
                return false;
            }
        }, cancellationToken);
    }

    private static string Key(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
