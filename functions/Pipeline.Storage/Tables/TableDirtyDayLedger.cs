using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Tables;

/// <summary>Dirty days (<see cref="DayMarks"/> in partition <c>dirty</c>).</summary>
public sealed class TableDirtyDayLedger(TableServiceClient tableService) : DayMarks(tableService, DirtyPartitionKey, "dirty"), IDirtyDayLedger
{
    public const string DirtyPartitionKey = "dirty";
}

/// <summary>Days the rollup folded without finishing their compaction (<see cref="DayMarks"/> in partition <c>folded</c>).</summary>
public sealed class TableFoldedDayLedger(TableServiceClient tableService) : DayMarks(tableService, FoldedPartitionKey, "folded"), IFoldedDayLedger
{
    public const string FoldedPartitionKey = "folded";
}

/// <summary>
/// Day marks in <c>RollupLedger</c>: PartitionKey the kind of mark, RowKey <c>yyyy-MM-dd</c>, and a
/// <c>Stamp</c> (a new GUID each mark) so every mark is a real write with a new ETag. The version
/// of a <see cref="DirtyDay"/> is the ETag; clearing deletes only if it still matches, so a mark
/// made while the day was being worked on survives the clear.
/// </summary>
public abstract class DayMarks(TableServiceClient tableService, string partitionKey, string kind)
{
    private readonly TableClient _ledger = tableService.GetTableClient(StorageNames.RollupLedgerTable);

    public Task MarkAsync(IReadOnlyCollection<DateOnly> days, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(days);
        if (days.Count == 0) return Task.CompletedTask;
        return StorageFailures.RunAsync("marking " + kind + " days", async ct =>
        {
            // One partition: at most 100 upserts per transaction.
            foreach (var chunk in days.Distinct().Order().Chunk(100))
            {
                var actions = chunk.Select(day => new TableTransactionAction(TableTransactionActionType.UpsertReplace,
                    new TableEntity(partitionKey, Key(day)) { ["Stamp"] = Guid.NewGuid().ToString("N") }));
                await _ledger.SubmitTransactionAsync(actions, ct).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    public Task<IReadOnlyList<DirtyDay>> ListAsync(CancellationToken cancellationToken) =>
        StorageFailures.RunAsync<IReadOnlyList<DirtyDay>>("listing " + kind + " days", async ct =>
        {
            var days = new List<DirtyDay>();
            await foreach (var e in _ledger.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}"), select: ["RowKey", "Stamp"], cancellationToken: ct).ConfigureAwait(false))
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
        return StorageFailures.RunAsync("clearing " + kind + " day " + Key(day.Day), async ct =>
        {
            try
            {
                // The SDK answers a delete of a missing entity with its 404 response instead of throwing.
                var response = await _ledger.DeleteEntityAsync(partitionKey, Key(day.Day), new ETag(day.Version), ct).ConfigureAwait(false);
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
