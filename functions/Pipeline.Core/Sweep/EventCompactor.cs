using Pipeline.Core.Ports;
using Pipeline.Core.Time;

namespace Pipeline.Core.Sweep;

/// <summary>What one background compaction did.</summary>
public sealed record CompactionReport(int DaysCompacted, int SegmentsFolded, long EventsFolded, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"compacted {DaysCompacted} day(s): {SegmentsFolded:N0} segment(s), {EventsFolded:N0} events folded, in {Elapsed.TotalSeconds:0.0} s";
}

/// <summary>
/// Compacts the event store in the background: every (day, shard) of the dirty days before today
/// (reporting time zone), so that the rollup usually finds nothing left to fold and reads one file
/// per (day, shard); and finishes the days the rollup folded (<see cref="IFoldedDayLedger"/>): their
/// folded segments deleted and their Parquet copies brought up to date.
/// </summary>
/// <remarks>
/// Today is left alone unless the rollup folded it: it is still receiving events, and each
/// compaction rewrites the (day, shard)'s compacted file whole, so compacting it every sweep would
/// write it dozens of times a day. A day that receives late events becomes dirty again and is
/// compacted again. A folded day's mark is cleared only when every one of its shards was finished,
/// and only at the version listed. Safe beside processing, the rollup and other compactions (the
/// event store's protocol).
/// </remarks>
public sealed class EventCompactor(IDirtyDayLedger dirty, IFoldedDayLedger folded, IEventStore events, ReportingCalendar calendar, PipelineOptions options, TimeProvider time)
{

    public async Task<CompactionReport> RunAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var today = calendar.DayOf(time.GetUtcNow());
        var marks = await folded.ListAsync(cancellationToken).ConfigureAwait(false);
        var days = (await dirty.ListAsync(cancellationToken).ConfigureAwait(false)).Select(d => d.Day).Where(d => d < today)
            .Concat(marks.Select(m => m.Day)).Distinct().Order().ToList();
        var shards = Math.Max(1, options.EventStoreShards);
        var segments = 0;
        long eventsFolded = 0;
        // A day at a time, its shards several at once inside the store: a day's batch segments are read once for all
        // its shards and deleted once all have folded them (IEventStore.CompactDayAsync).
        foreach (var day in days)
        {
            var result = await events.CompactDayAsync(day, shards, cancellationToken).ConfigureAwait(false);
            segments += result.SegmentsFolded;
            eventsFolded += result.EventsFolded;
        }
        // Reached only when every (day, shard) was compacted (a failure throws above and the marks stay).
        foreach (var mark in marks) await folded.ClearAsync(mark, cancellationToken).ConfigureAwait(false);
        return new CompactionReport(days.Count, segments, eventsFolded, time.GetElapsedTime(started));
    }
}
