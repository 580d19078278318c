using System.IO.Hashing;
using System.Runtime.InteropServices;
using Azure;
using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Storage.Tables;

/// <summary>
/// The de-duplication index in table <c>EventIds</c>: PartitionKey <c>&lt;source&gt;|&lt;bucket&gt;</c>
/// (bucket = two hex digits of a hash of the event id, 16 buckets, so one source's claims spread
/// over 16 partitions), RowKey = event id, properties BatchId and ClaimedAt.
/// </summary>
/// <remarks>
/// A claim is an insert, and inserts are atomic: of two batches claiming the same id at once,
/// exactly one insert succeeds. The common case (all ids new) is one entity-group transaction per
/// 100 ids of a partition. A transaction that fails with 409 (some id exists: a redelivery or a
/// duplicate) is redone id by id: insert; on conflict read the owner: this batch → owned; a claim
/// older than <see cref="Window"/> → take it over with an ETag-conditional replace (on 412 re-read);
/// otherwise a duplicate.
/// </remarks>
public sealed class TableEventIdIndex(TableServiceClient tableService) : IEventIdIndex
{
    /// <summary>How long a claim stands (the contract's 30-day de-duplication window).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromDays(30);

    public const int Buckets = 16;
    private const int TransactionLimit = 100;
    private const int Parallelism = 8;

    private readonly TableClient _table = tableService.GetTableClient(StorageNames.EventIdsTable);

    public Task<bool[]> ClaimAsync(string source, string batchId, IReadOnlyList<string> eventIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(batchId);
        ArgumentNullException.ThrowIfNull(eventIds);
        var owned = new bool[eventIds.Count];
        if (eventIds.Count == 0) return Task.FromResult(owned);
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in eventIds)
        {
            ArgumentException.ThrowIfNullOrEmpty(id, nameof(eventIds));
            if (!distinct.Add(id)) throw new ArgumentException($"Event id '{id}' appears twice; ids must be distinct within one claim.", nameof(eventIds));
        }

        // Work items: chunks of ≤100 ids of one partition, as indexes into eventIds.
        var chunks = Enumerable.Range(0, eventIds.Count)
            .GroupBy(i => PartitionKey(source, eventIds[i]), StringComparer.Ordinal)
            .SelectMany(g => g.Chunk(TransactionLimit).Select(indexes => (Partition: g.Key, Indexes: indexes)))
            .ToList();

        return StorageFailures.RunAsync("claiming event ids", async ct =>
        {
            await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
                async (chunk, token) =>
                {
                    if (await TryClaimAllAsync(chunk.Partition, chunk.Indexes, eventIds, batchId, now, token).ConfigureAwait(false))
                    {
                        foreach (var i in chunk.Indexes) owned[i] = true;
                        return;
                    }
                    await Parallel.ForEachAsync(chunk.Indexes, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = token },
                        async (i, t) => owned[i] = await ClaimOneAsync(chunk.Partition, RowKey(eventIds[i]), batchId, now, t).ConfigureAwait(false))
                        .ConfigureAwait(false);
                }).ConfigureAwait(false);
            return owned;
        }, cancellationToken);
    }

    /// <summary>The partition of an event id's claim.</summary>
    public static string PartitionKey(string source, string eventId)
    {
        var hash = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(eventId.AsSpan()));
        return $"{MetricRowKeys.Escape(source)}|{(int)(hash % Buckets):x2}";
    }

    // The contract restricts event ids to [A-Za-z0-9_.:-]; escape anyway so no id can break a key.
    private static string RowKey(string eventId) => MetricRowKeys.Escape(eventId);

    private async Task<bool> TryClaimAllAsync(string partition, int[] indexes, IReadOnlyList<string> eventIds, string batchId, DateTimeOffset now, CancellationToken ct)
    {
        var actions = new List<TableTransactionAction>(indexes.Length);
        foreach (var i in indexes)
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, NewClaim(partition, RowKey(eventIds[i]), batchId, now)));
        try
        {
            await _table.SubmitTransactionAsync(actions, ct).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false; // some id is already claimed: nothing of this transaction was written
        }
    }

    private async Task<bool> ClaimOneAsync(string partition, string rowKey, string batchId, DateTimeOffset now, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                await _table.AddEntityAsync(NewClaim(partition, rowKey, batchId, now), ct).ConfigureAwait(false);
                return true;
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                // Claimed before: by whom, and when?
            }

            var existing = await _table.GetEntityIfExistsAsync<TableEntity>(partition, rowKey, select: ["BatchId", "ClaimedAt"], cancellationToken: ct).ConfigureAwait(false);
            if (!existing.HasValue || existing.Value is not { } claim)
                continue; // deleted in between: try the insert again

            if (string.Equals(claim.GetString("BatchId"), batchId, StringComparison.Ordinal))
                return true; // our own claim from an earlier delivery of this batch

            var claimedAt = claim.GetDateTimeOffset("ClaimedAt") ?? DateTimeOffset.MinValue;
            if (now - claimedAt <= Window)
                return false; // a duplicate of another batch's event

            try
            {
                // The old claim expired: take it over, unless someone else changed it since we read it.
                await _table.UpdateEntityAsync(NewClaim(partition, rowKey, batchId, now), claim.ETag, TableUpdateMode.Replace, ct).ConfigureAwait(false);
                return true;
            }
            catch (RequestFailedException ex) when (ex.Status is 412 or 404)
            {
                // Lost the race (or it vanished): look again.
            }
        }
    }

    private static TableEntity NewClaim(string partition, string rowKey, string batchId, DateTimeOffset now) =>
        new(partition, rowKey) { ["BatchId"] = batchId, ["ClaimedAt"] = now };
}
