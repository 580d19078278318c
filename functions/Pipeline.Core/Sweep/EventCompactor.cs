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
    /// <summary>(day, shard)s compacted at once.</summary>
    public const int Parallelism = 4;

    public async Task<CompactionReport> RunAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var today = calendar.DayOf(time.GetUtcNow());
        var marks = await folded.ListAsync(cancellationToken).ConfigureAwait(false);
        var days = (await dirty.ListAsync(cancellationToken).ConfigureAwait(false)).Select(d => d.Day).Where(d => d < today)
            .Concat(marks.Select(m => m.Day)).Distinct().Order().ToList();
        var shards = Math.Max(1, options.EventStoreShards);
        var work = days.SelectMany(d => Enumerable.Range(0, shards).Select(s => (Day: d, Shard: s))).ToList();
        var segments = 0;
        long eventsFolded = 0;
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (w, ct) =>
        {
            var result = await events.CompactAsync(w.Day, w.Shard, ct).ConfigureAwait(false);
            Interlocked.Add(ref segments, result.SegmentsFolded);
            Interlocked.Add(ref eventsFolded, result.EventsFolded);
        }).ConfigureAwait(false);
        // Reached only when every (day, shard) was compacted (a failure throws above and the marks stay).
        foreach (var mark in marks) await folded.ClearAsync(mark, cancellationToken).ConfigureAwait(false);
        return new CompactionReport(days.Count, segments, eventsFolded, time.GetElapsedTime(started));
    }
}
