using System.Globalization;
using Azure.Data.Tables;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Tables;

/// <summary>
/// Ingest receipts in <c>IngestReceipts</c>: PartitionKey the reporting day of receipt
/// (<c>yyyy-MM-dd</c>), RowKey the batch id, and <c>Received</c>, <c>Rejected</c>, <c>Source</c>,
/// <c>ReceivedAt</c>. One row per request rather than a counter per day: an upsert keyed by the
/// batch id is idempotent under retries and never contends, where a shared counter would need
/// optimistic-concurrency loops on every request. The day's totals are a single-partition scan
/// that reads only the two count columns.
/// </summary>
public sealed class TableIngestReceiptLedger(TableServiceClient tableService) : IIngestReceiptLedger
{
    private readonly TableClient _table = tableService.GetTableClient(StorageNames.IngestReceiptsTable);

    public Task RecordAsync(IngestReceipt receipt, DateOnly receiptDay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        return StorageFailures.RunAsync("recording the ingest receipt of batch " + receipt.BatchId, async ct =>
        {
            var entity = new TableEntity(Key(receiptDay), receipt.BatchId)
            {
                ["Received"] = receipt.Received,
                ["Rejected"] = receipt.Rejected,
                ["Source"] = receipt.Source,
                ["ReceivedAt"] = receipt.ReceivedAt,
            };
            await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task<IngestTotals> TotalsAsync(DateOnly receiptDay, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("summing the ingest receipts of " + Key(receiptDay), async ct =>
        {
            long received = 0, rejected = 0;
            var day = Key(receiptDay);
            await foreach (var e in _table.QueryAsync<TableEntity>(e => e.PartitionKey == day, select: ["Received", "Rejected"], cancellationToken: ct).ConfigureAwait(false))
            {
                received += e.GetInt32("Received") ?? 0;
                rejected += e.GetInt32("Rejected") ?? 0;
            }
            return new IngestTotals(received, rejected);
        }, cancellationToken);

    private static string Key(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
