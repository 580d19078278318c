using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Time;

namespace Pipeline.Core.Processing;

/// <summary>What processing one batch did, for the host's log line.</summary>
public sealed record ProcessResult(string BatchId, string Source, int Events, int Stored, int Duplicates, IReadOnlyList<DateOnly> Days);

/// <summary>
/// Processes one claim-check message: reads the landing batch, drops duplicates (the same
/// <c>eventId</c> from the same source, however often and on whichever day it was sent),
/// writes the rest to the event store by reporting day and user shard, and marks those days dirty.
/// </summary>
/// <remarks>
/// Idempotent by construction, so a message delivered twice, or a host killed half-way, does no
/// harm: a batch's claims on its event ids are recognised as its own on redelivery, segment
/// names are deterministic per (day, shard, batch), and marks are made only after the segments
/// are written, so the next rollup never misses a stored event. Finishing a batch is recorded
/// last (<see cref="IProcessedBatchLedger"/>), so the landing sweeper re-enqueues any batch whose message
/// was lost before that point.
/// </remarks>
public sealed class ProcessHandler(
    ILandingStore landing,
    IEventIdIndex eventIds,
    IEventStore eventStore,
    IDirtyDayLedger dirtyDays,
    ReportingCalendar calendar,
    PipelineOptions options,
    TimeProvider time,
    IProcessedBatchLedger processed)
{
    public async Task<ProcessResult> HandleAsync(ProcessingMessage message, CancellationToken cancellationToken)
    {
        var batch = await landing.ReadAsync(message.LandingPath, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Landing batch {message.BatchId} is missing at '{message.LandingPath}'.");

        // The first occurrence of an id within the batch is the one received first.
        var firstOfId = new Dictionary<string, PipelineEvent>(batch.Events.Count, StringComparer.Ordinal);
        foreach (var e in batch.Events)
            firstOfId.TryAdd(e.EventId, e);
        var candidates = firstOfId.Values.ToList();
        var ids = candidates.ConvertAll(e => e.EventId);

        var owned = ids.Count == 0
            ? []
            : await eventIds.ClaimAsync(batch.Source, batch.BatchId, ids, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);

        var segments = new Dictionary<(DateOnly Day, int Shard), List<PipelineEvent>>();
        var stored = 0;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!owned[i]) continue;
            var e = candidates[i];
            var key = (calendar.DayOf(e.TimeMs), UserShard.Of(e.UserKey, options.EventStoreShards));
            if (!segments.TryGetValue(key, out var list)) segments[key] = list = [];
            list.Add(e);
            stored++;
        }

        foreach (var ((day, shard), events) in segments)
            await eventStore.WriteAsync(new EventSegment(day, shard, batch.BatchId, batch.Source, events), cancellationToken).ConfigureAwait(false);

        var days = segments.Keys.Select(k => k.Day).Distinct().Order().ToList();
        if (days.Count > 0)
            await dirtyDays.MarkAsync(days, cancellationToken).ConfigureAwait(false);
        await processed.MarkProcessedAsync(message.LandingPath, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);

        return new ProcessResult(batch.BatchId, batch.Source, batch.Events.Count, stored, batch.Events.Count - stored, days);
    }
}
