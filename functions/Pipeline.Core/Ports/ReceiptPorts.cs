namespace Pipeline.Core.Ports;

/// <summary>
/// How many events one request carried and how many of them were rejected, recorded at ingest
/// under the reporting day of its receipt: the source of <c>risk.rejected_event_rate</c>.
/// </summary>
public sealed record IngestReceipt(string BatchId, string Source, DateTimeOffset ReceivedAt, int Received, int Rejected);

/// <summary>Received and rejected event counts of one reporting day of receipt.</summary>
public readonly record struct IngestTotals(long Received, long Rejected);

/// <summary>Ingest receipts by reporting day of receipt.</summary>
public interface IIngestReceiptLedger
{
    /// <summary>Records a receipt; idempotent per batch id.</summary>
    Task RecordAsync(IngestReceipt receipt, DateOnly receiptDay, CancellationToken cancellationToken);

    /// <summary>The sums of every receipt of a day.</summary>
    Task<IngestTotals> TotalsAsync(DateOnly receiptDay, CancellationToken cancellationToken);
}
