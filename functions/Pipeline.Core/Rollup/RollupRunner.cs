using Pipeline.Core.Events;
using Pipeline.Core.Export;
using Pipeline.Core.Ports;
using Pipeline.Core.Time;

namespace Pipeline.Core.Rollup;

/// <summary>What a rollup run did.</summary>
/// <param name="DaysRolled">The days rolled up, in order.</param>
/// <param name="RowsWritten">Rows written per day rolled up.</param>
/// <param name="EventsRead">Events read over all days.</param>
/// <param name="Elapsed">Wall-clock time of the run.</param>
public sealed record RollupReport(IReadOnlyList<DateOnly> DaysRolled, IReadOnlyDictionary<DateOnly, int> RowsWritten, long EventsRead, TimeSpan Elapsed)
{
    public static RollupReport Nothing(TimeSpan elapsed) => new([], new Dictionary<DateOnly, int>(), 0, elapsed);

    /// <summary>One line for logs and the CLI.</summary>
    public override string ToString() => DaysRolled.Count == 0
        ? $"nothing to roll up ({Elapsed.TotalSeconds:0.0} s)"
        : $"rolled up {DaysRolled.Count} day(s) {DaysRolled[0]:yyyy-MM-dd}..{DaysRolled[^1]:yyyy-MM-dd}: {EventsRead:N0} events read, {RowsWritten.Values.Sum():N0} rows written in {Elapsed.TotalSeconds:0.0} s";
}

/// <summary>
/// Orchestrates the daily rollup over the storage ports: which days to roll, in which order, from
/// which saved state, and where the results go.
/// </summary>
/// <remarks>
/// Days are rolled in date order, each from the saved state of the day before, because windows
/// chain. For each day: read every shard, roll up, replace the day's rows, write its CSV export,
/// save its state, and only then clear its dirty mark (at the version listed at the start, so a
/// mark made meanwhile survives for the next run), then advance the cursor. A run that dies
/// part-way leaves the remaining days dirty, so the next run redoes them.
/// </remarks>
public sealed class RollupRunner(
    IEventStore events,
    IDirtyDayLedger ledger,
    IRollupStateStore states,
    IMetricsStore metrics,
    IExportStore exports,
    IIngestReceiptLedger receipts,
    RollupEngine engine,
    ReportingCalendar calendar,
    PipelineOptions options,
    TimeProvider time)
{
    private readonly int _shards = Math.Max(1, options.EventStoreShards);

    /// <summary>
    /// The scheduled run: rolls every day from M through max(latest dirty day, yesterday in the
    /// reporting time zone), where M is the earliest dirty day or the day after the last one rolled
    /// (whichever is earlier, so no day is ever skipped). Days before the first day that ever had
    /// events are never rolled: with no dirty day and no cursor there is nothing to do.
    /// </summary>
    public async Task<RollupReport> RunDueAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var dirty = await ledger.ListAsync(cancellationToken).ConfigureAwait(false);
        var cursor = await states.GetCursorAsync(cancellationToken).ConfigureAwait(false);
        if (dirty.Count == 0 && cursor is null) return RollupReport.Nothing(time.GetElapsedTime(started));

        var yesterday = calendar.DayOf(time.GetUtcNow()).AddDays(-1);
        DateOnly? minDirty = null, maxDirty = null;
        foreach (var d in dirty)
        {
            if (minDirty is null || d.Day < minDirty) minDirty = d.Day;
            if (maxDirty is null || d.Day > maxDirty) maxDirty = d.Day;
        }

        DateOnly from;
        if (cursor is null) from = minDirty!.Value;
        else
        {
            from = cursor.LastRolledDay.AddDays(1);
            if (minDirty is { } m && m < from) from = m;
            // Before the first day with events there is nothing to report (unless a late event made an earlier day dirty).
            var first = minDirty is { } md && md < cursor.FirstDay ? md : cursor.FirstDay;
            if (from < first) from = first;
        }
        var to = maxDirty is { } mx && mx > yesterday ? mx : yesterday;
        if (to < from) return RollupReport.Nothing(time.GetElapsedTime(started));
        return await RollAsync(from, to, dirty, cursor, started, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// On demand: re-rolls from <paramref name="from"/> (starting from the saved state of the day
    /// before) through <paramref name="to"/>; when <paramref name="to"/> is before the last day
    /// already rolled, it continues through that day, since every later day's windows depend on the
    /// days re-rolled. Dirty marks of the days rolled are cleared as in <see cref="RunDueAsync"/>.
    /// </summary>
    public async Task<RollupReport> RunRangeAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        if (to < from) throw new ArgumentException($"The range {from:yyyy-MM-dd}..{to:yyyy-MM-dd} is empty.", nameof(to));
        var started = time.GetTimestamp();
        var dirty = await ledger.ListAsync(cancellationToken).ConfigureAwait(false);
        var cursor = await states.GetCursorAsync(cancellationToken).ConfigureAwait(false);
        if (cursor is not null && cursor.LastRolledDay > to) to = cursor.LastRolledDay;
        return await RollAsync(from, to, dirty, cursor, started, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RollupReport> RollAsync(DateOnly from, DateOnly to, IReadOnlyList<DirtyDay> dirty, RollupCursor? cursor, long started, CancellationToken cancellationToken)
    {
        var marks = new Dictionary<DateOnly, DirtyDay>();
        foreach (var d in dirty) marks[d.Day] = d;

        var state = await LoadStateBeforeAsync(from, cursor, cancellationToken).ConfigureAwait(false);
        var runId = Guid.CreateVersion7(time.GetUtcNow()).ToString("N");
        var days = new List<DateOnly>();
        var rowsWritten = new Dictionary<DateOnly, int>();
        long eventsRead = 0;

        for (var day = from; day <= to; day = day.AddDays(1))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var shards = await ReadShardsAsync(day, cancellationToken).ConfigureAwait(false);
            var received = await receipts.TotalsAsync(day, cancellationToken).ConfigureAwait(false);
            var result = engine.RollUp(day, shards, state, received);

            await metrics.ReplaceDayAsync(day, result.Rows, runId, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            await exports.WriteDailyAsync(day, DailyCsv.Write(day, result.Rows), cancellationToken).ConfigureAwait(false);
            await states.SaveAsync(day, WindowStateCodec.Encode(result.State), cancellationToken).ConfigureAwait(false);
            if (marks.TryGetValue(day, out var mark)) await ledger.ClearAsync(mark, cancellationToken).ConfigureAwait(false);

            var firstDay = cursor?.FirstDay;
            if (result.EventsRead > 0 && (firstDay is null || day < firstDay)) firstDay = day;
            firstDay ??= from; // no day with events yet: start where this run started
            var lastRolled = cursor is not null && cursor.LastRolledDay > day ? cursor.LastRolledDay : day;
            cursor = new RollupCursor(firstDay.Value, lastRolled);
            await states.SetCursorAsync(cursor, cancellationToken).ConfigureAwait(false);

            state = result.State;
            days.Add(day);
            rowsWritten[day] = result.Rows.Count;
            eventsRead += result.EventsRead;
        }
        return new RollupReport(days, rowsWritten, eventsRead, time.GetElapsedTime(started));
    }

    /// <summary>The saved state as of the end of the day before <paramref name="from"/>; empty when there is none or that day is before the first day with events.</summary>
    private async Task<WindowState> LoadStateBeforeAsync(DateOnly from, RollupCursor? cursor, CancellationToken cancellationToken)
    {
        var before = from.AddDays(-1);
        if (cursor is null || before < cursor.FirstDay) return WindowState.Empty();
        var bytes = await states.LoadAsync(before, cancellationToken).ConfigureAwait(false);
        return bytes is null ? WindowState.Empty() : WindowStateCodec.Decode(bytes);
    }

    private async Task<IReadOnlyList<IReadOnlyList<PipelineEvent>>> ReadShardsAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var reads = new Task<IReadOnlyList<PipelineEvent>>[_shards];
        for (var shard = 0; shard < _shards; shard++) reads[shard] = events.ReadAsync(day, shard, cancellationToken);
        return await Task.WhenAll(reads).ConfigureAwait(false);
    }
}
