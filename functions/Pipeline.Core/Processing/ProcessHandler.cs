using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Time;

namespace Pipeline.Core.Processing;

/// <summary>What processing one batch did, for the host's log line (<see cref="Duplicates"/>: copies of an id repeated within the batch).</summary>
public sealed record ProcessResult(string BatchId, string Source, int Events, int Stored, int Duplicates, IReadOnlyList<DateOnly> Days);

/// <summary>
/// Processes one claim-check message: reads the landing batch, keeps the first copy of each
/// <c>eventId</c> within it, writes the events to the event store by reporting day and user shard,
/// and marks those days dirty.
/// </summary>
/// <remarks>
/// <para>Nothing is written per event: copies of an id sent in other batches (a client's retry, on
/// whichever day) are told apart by the rollup in the user's shard (<c>ShardDeduplicator</c>), since
/// every copy carries the same user. One segment per (day, shard) the batch touches, all of a day's written
/// as one object (<see cref="IEventStore.WriteBatchAsync"/>): a batch of one day is one storage write, however
/// many shards it touches.</para>
/// <para>Idempotent by construction, so a message delivered twice, or a host killed half-way, does no
/// harm: a batch always yields the same segments, segment names are deterministic per (day, shard,
/// batch), and marks are made only after the segments are written, so the next rollup never misses
/// a stored event. Finishing a batch is recorded last (<see cref="IProcessedBatchLedger"/>), so the
/// landing sweeper re-enqueues any batch whose message was lost before that point.</para>
/// </remarks>
public sealed class ProcessHandler(
    ILandingStore landing,
    IEventStore eventStore,
    IDirtyDayLedger dirtyDays,
    ReportingCalendar calendar,
    PipelineOptions options,
    TimeProvider time,
    IProcessedBatchLedger processed)
{
    /// <summary>Days of one batch written at once (a batch usually falls on one day, two around midnight, more when a client sends late).</summary>
    public const int DayWriteParallelism = 8;

    public async Task<ProcessResult> HandleAsync(ProcessingMessage message, CancellationToken cancellationToken)
    {
        var batch = await landing.ReadAsync(message.LandingPath, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Landing batch {message.BatchId} is missing at '{message.LandingPath}'.");

        // The first occurrence of an id within the batch is the one received first; segments keep the batch's order.
        var seen = new HashSet<string>(batch.Events.Count, StringComparer.Ordinal);
        var segments = new Dictionary<(DateOnly Day, int Shard), List<PipelineEvent>>();
        var stored = 0;
        foreach (var e in batch.Events)
        {
            if (!seen.Add(e.EventId)) continue;
            var key = (calendar.DayOf(e.TimeMs), UserShard.Of(e.UserKey, options.EventStoreShards));
            if (!segments.TryGetValue(key, out var list)) segments[key] = list = [];
            list.Add(e);
            stored++;
        }

        // One object per day, the days' objects written at once, not one round trip after another.
        var byDay = segments
            .GroupBy(s => s.Key.Day)
            .Select(day => day.OrderBy(s => s.Key.Shard)
                .Select(s => new EventSegment(day.Key, s.Key.Shard, batch.BatchId, batch.Source, s.Value, batch.ReceivedAt))
                .ToList())
            .ToList();
        await Parallel.ForEachAsync(
            byDay,
            new ParallelOptions { MaxDegreeOfParallelism = DayWriteParallelism, CancellationToken = cancellationToken },
            (day, ct) => new ValueTask(eventStore.WriteBatchAsync(day, ct))).ConfigureAwait(false);

        var days = segments.Keys.Select(k => k.Day).Distinct().Order().ToList();
        if (days.Count > 0)
            await dirtyDays.MarkAsync(days, cancellationToken).ConfigureAwait(false);
        await processed.MarkProcessedAsync(message.LandingPath, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);

        return new ProcessResult(batch.BatchId, batch.Source, batch.Events.Count, stored, batch.Events.Count - stored, days);
    }
}
