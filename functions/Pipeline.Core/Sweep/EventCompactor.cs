using Pipeline.Core.Ports;
using Pipeline.Core.Time;

namespace Pipeline.Core.Sweep;

/// <summary>What one background compaction did.</summary>
public sealed record CompactionReport(int DaysCompacted, int SegmentsFolded, long EventsFolded, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"compacted {DaysCompacted} dirty day(s): {SegmentsFolded:N0} segment(s), {EventsFolded:N0} events folded, in {Elapsed.TotalSeconds:0.0} s";
}

/// <summary>
/// Compacts the event store in the background: every (day, shard) of the dirty days before today
/// (reporting time zone), so that the rollup, which compacts each (day, shard) again before reading
/// it, usually finds nothing left to fold and reads one file per (day, shard).
/// </summary>
/// <remarks>
/// Today is left alone: it is still receiving events, and each compaction rewrites the (day, shard)'s
/// compacted file whole, so compacting it every sweep would write it dozens of times a day. A day
/// that receives late events becomes dirty again and is compacted again. Safe beside processing,
/// the rollup and other compactions (the event store's protocol).
/// </remarks>
public sealed class EventCompactor(IDirtyDayLedger dirty, IEventStore events, ReportingCalendar calendar, PipelineOptions options, TimeProvider time)
{
    /// <summary>(day, shard)s compacted at once.</summary>
    public const int Parallelism = 4;

    public async Task<CompactionReport> RunAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var today = calendar.DayOf(time.GetUtcNow());
        var days = (await dirty.ListAsync(cancellationToken).ConfigureAwait(false)).Select(d => d.Day).Where(d => d < today).Distinct().ToList();
        var shards = Math.Max(1, options.EventStoreShards);
        var work = days.SelectMany(d => Enumerable.Range(0, shards).Select(s => (Day: d, Shard: s))).ToList();
        var segments = 0;
        long folded = 0;
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken }, async (w, ct) =>
        {
            var result = await events.CompactAsync(w.Day, w.Shard, ct).ConfigureAwait(false);
            Interlocked.Add(ref segments, result.SegmentsFolded);
            Interlocked.Add(ref folded, result.EventsFolded);
        }).ConfigureAwait(false);
        return new CompactionReport(days.Count, segments, folded, time.GetElapsedTime(started));
    }
}
