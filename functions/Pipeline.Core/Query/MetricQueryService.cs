using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Query;

/// <summary>One page of a query's answer.</summary>
/// <param name="Rows">At most <see cref="MetricQuery.Limit"/> rows, in the order of <see cref="RowPosition"/>.</param>
/// <param name="MissingDays">The days of the range that have not been rolled up (no rows is not zero).</param>
/// <param name="Continuation">The token for the next page; null on the last page.</param>
/// <param name="Withheld">
/// Rows of this page's stretch of the order (after the previous page, up to this page's last row; on the last
/// page, to the end) that small-cell suppression withheld from a developer's key (<see cref="CellSuppression"/>),
/// so that a short or empty page is not mistaken for no data. Summed over the pages: every withheld row once.
/// </param>
public sealed record QueryPage(MetricQuery Query, IReadOnlyList<StoredMetricRow> Rows, IReadOnlyList<DateOnly> MissingDays, string? Continuation, int Withheld = 0);

/// <summary>
/// Answers a <see cref="MetricQuery"/> for a reader. The platform's analysts read a day's rows from
/// <c>DailyMetrics</c> (one key-range query per day, narrowed to the ecosystem or the per-mini-program
/// partitions and to a metric prefix where the filters allow); one mini-program's series, and everything a
/// developer's key reads, come from the mini-programs' own <c>ProgramDailyMetrics</c> partitions, so a
/// developer's query never touches another developer's rows. A developer's rows computed from fewer than k
/// users are withheld when <c>Pipeline:Query:MinimumCellUsers</c> sets k (<see cref="CellSuppression"/>).
/// </summary>
public sealed class MetricQueryService(IMetricsReader reader, CellSuppression? cells = null)
{
    private readonly CellSuppression _cells = cells ?? CellSuppression.Off;

    private const int ProgramReadParallelism = 8;

    /// <summary>Days of a mini-program's partition read at once: a page needs few, a 92-day series no more than 14 reads per partition.</summary>
    private const int ProgramReadDays = 7;

    public async Task<(QueryPage? Page, QueryError? Error)> RunAsync(MetricQuery query, ReadAccess access, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(access);

        if (query.MiniProgram is { } asked && !access.Sees(asked))
            return (null, new QueryError(403, "forbidden_mini_program", $"This read key does not cover miniProgram '{asked}'.", "miniProgram"));
        if (!access.AllMiniPrograms && query.Dimension is { } d && !d.StartsWith("miniProgram", StringComparison.Ordinal))
            return (null, new QueryError(403, "forbidden_dimension",
                $"A developer's read key sees its mini-programs' rows (dimensions miniProgram and miniProgram.*), not the ecosystem's '{d}' rows.", "dimension"));
        if (!access.AllMiniPrograms && query.MiniProgram is null && access.MiniPrograms.Count > MetricQueryLimits.MaxProgramsWithoutFilter)
            return (null, QueryError.BadRequest("mini_program_required", "miniProgram",
                $"This read key covers {access.MiniPrograms.Count} mini-programs; name one with 'miniProgram' (at most {MetricQueryLimits.MaxProgramsWithoutFilter} are read together)."));

        var rolled = await reader.RolledUpDaysAsync(query.From, query.To, ct).ConfigureAwait(false);
        var missing = query.Days().Where(day => !rolled.Contains(day)).ToList();
        if (rolled.Count == 0)
            return (null, new QueryError(404, "not_rolled_up",
                query.From == query.To
                    ? $"No metrics for {Day(query.From)}: the day has not been rolled up yet."
                    : $"No metrics for {Day(query.From)}..{Day(query.To)}: none of these days has been rolled up yet."));

        var keep = RowFilter(query, access);
        var prefix = MetricPrefix(query);
        var collected = new Collected(query);
        var start = query.After?.Date ?? query.From;

        if (query.MiniProgram is not null || !access.AllMiniPrograms)
        {
            var suppress = _cells.AppliesTo(access);
            // A week of each partition at a time, in date order, so a page stops reading once it is full.
            var programs = query.MiniProgram is { } one ? [one] : access.MiniPrograms.Order(StringComparer.Ordinal).ToList();
            for (var from = start; from <= query.To && !collected.Full; from = from.AddDays(ProgramReadDays))
            {
                var to = from.AddDays(ProgramReadDays - 1) < query.To ? from.AddDays(ProgramReadDays - 1) : query.To;
                var rows = new List<(StoredMetricRow, bool)>();
                var week = from;
                await Parallel.ForEachAsync(programs, new ParallelOptions { MaxDegreeOfParallelism = ProgramReadParallelism, CancellationToken = ct }, async (program, token) =>
                {
                    var read = await reader.ReadProgramAsync(program, week, to, prefix, token).ConfigureAwait(false);
                    var wanted = read.Where(r => rolled.Contains(r.Row.Date) && keep(r.Row)).ToList();
                    // The populations that decide a row's users are found in the same read where it holds them.
                    var withheld = suppress && wanted.Count > 0
                        ? await _cells.WithheldAsync(program, week, to, wanted.Select(r => r.Row).ToList(), read.Select(r => r.Row), CellSuppression.Covered(prefix), token).ConfigureAwait(false)
                        : null;
                    lock (rows) rows.AddRange(wanted.Select(r => (r, withheld?.Invoke(r.Row) ?? false)));
                }).ConfigureAwait(false);
                collected.Append(rows);
            }
        }
        else
        {
            var selection = new MetricRowSelection(
                EcosystemRows: query.Dimension is null || !query.Dimension.StartsWith("miniProgram", StringComparison.Ordinal),
                ProgramRows: query.Dimension is null || query.Dimension.StartsWith("miniProgram", StringComparison.Ordinal),
                prefix);
            for (var day = start; day <= query.To && !collected.Full; day = day.AddDays(1))
            {
                if (!rolled.Contains(day)) continue;
                var rows = await reader.ReadDayAsync(day, selection, ct).ConfigureAwait(false);
                collected.Append(rows.Where(r => keep(r.Row)).Select(r => (r, false)));
            }
        }

        var (page, withheldRows) = collected.Page();
        var continuation = collected.Full ? ContinuationToken.Write(query, RowPosition.Of(page[^1].Row)) : null;
        return (new QueryPage(query, page, missing, continuation, withheldRows), null);
    }

    /// <summary>
    /// The rows gathered for a page, in order, past the continuation point: the shown ones up to one beyond the
    /// page (which says there is a next page) and the withheld ones among them, counted but not shown.
    /// </summary>
    private sealed class Collected(MetricQuery query)
    {
        private readonly List<(StoredMetricRow Row, RowPosition Position, bool Withheld)> _rows = [];
        private int _shown;

        public bool Full => _shown > query.Limit;

        public void Append(IEnumerable<(StoredMetricRow Row, bool Withheld)> rows)
        {
            var sorted = rows.Select(r => (r.Row, Position: RowPosition.Of(r.Row.Row), r.Withheld)).ToList();
            sorted.Sort((a, b) => a.Position.CompareTo(b.Position));
            RowPosition? previous = _rows.Count > 0 ? _rows[^1].Position : null;
            foreach (var row in sorted)
            {
                if (query.After is { } after && row.Position.CompareTo(after) <= 0) continue;
                // Once per position: the table adapter already answers a row left twice by an interrupted re-roll once, but the
                // port does not promise it of every reader, and a page must never show a row twice.
                if (previous is not null && row.Position.CompareTo(previous) == 0) continue;
                previous = row.Position;
                _rows.Add(row);
                if (!row.Withheld && ++_shown > query.Limit) return;
            }
        }

        /// <summary>The page's rows, and the withheld rows up to its last row (the rest belong to the next page's stretch).</summary>
        public (List<StoredMetricRow> Rows, int Withheld) Page()
        {
            var shown = _rows.Where(r => !r.Withheld).Take(query.Limit).ToList();
            var end = Full ? shown[^1].Position : null;
            var withheld = _rows.Count(r => r.Withheld && (end is null || r.Position.CompareTo(end) <= 0));
            return (shown.Select(r => r.Row).ToList(), withheld);
        }
    }

    private static Func<MetricRow, bool> RowFilter(MetricQuery query, ReadAccess access)
    {
        HashSet<string>? ids = query.Metrics is null && query.Stakeholder is null && query.Tier is null
            ? null
            : MetricQueryParser.MetricsIn(query.Metrics, query.Stakeholder, query.Tier).Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        return row =>
            (ids is null || ids.Contains(row.Metric))
            && (query.Dimension is null || row.Dimension == query.Dimension)
            && (query.Value is null || row.DimensionValue == query.Value)
            && access.Sees(row);
    }

    /// <summary>The narrowest metric-id prefix that every wanted row has, pushed down to storage as a key range; null when there is none.</summary>
    internal static string? MetricPrefix(MetricQuery query)
    {
        if (query.Metrics is { Count: 1 } single)
            return single[0].EndsWith('*') ? single[0][..^1] : single[0] + "|"; // a prefix as it is; a whole id up to its separator
        if (query.Metrics is null && query.Stakeholder is { } stakeholder) return stakeholder + ".";
        return null;
    }

    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
