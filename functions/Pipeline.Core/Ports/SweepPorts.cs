namespace Pipeline.Core.Ports;

/// <summary>A landing batch as the sweeper sees it: where it is, when it was written, and what has been done with it.</summary>
/// <param name="BatchId">The batch id (the blob's name without extension).</param>
/// <param name="Path">The path the claim-check message names.</param>
/// <param name="WrittenAt">When the landing blob was written (before the <c>202</c>).</param>
/// <param name="ProcessedAt">When processing finished the batch; null while it has not.</param>
/// <param name="SweptAt">When the sweeper last enqueued a claim check for it; null if never.</param>
/// <param name="Sweeps">How often the sweeper has enqueued a claim check for it.</param>
public sealed record LandingEntry(string BatchId, string Path, DateTimeOffset WrittenAt, DateTimeOffset? ProcessedAt, DateTimeOffset? SweptAt, int Sweeps);

/// <summary>Records that processing finished a landing batch, so the sweeper leaves it alone.</summary>
public interface IProcessedBatchLedger
{
    /// <summary>Marks the batch at <paramref name="landingPath"/> processed. Idempotent; a batch that no longer exists is ignored.</summary>
    Task MarkProcessedAsync(string landingPath, DateTimeOffset processedAt, CancellationToken cancellationToken);
}

/// <summary>The landing store as an inventory, for the sweeper.</summary>
public interface ILandingInventory
{
    /// <summary>Every landing batch received on one UTC day (the landing store's folders are UTC days of receipt).</summary>
    IAsyncEnumerable<LandingEntry> ListAsync(DateOnly utcDay, CancellationToken cancellationToken);

    /// <summary>Records that the sweeper enqueued a claim check for the batch (sets <see cref="LandingEntry.SweptAt"/>, increments <see cref="LandingEntry.Sweeps"/>).</summary>
    Task RecordSweepAsync(string landingPath, DateTimeOffset sweptAt, CancellationToken cancellationToken);
}
