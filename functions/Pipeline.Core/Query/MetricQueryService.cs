using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Query;

/// <summary>One page of a query's answer.</summary>
/// <param name="Rows">At most <see cref="MetricQuery.Limit"/> rows, in the order of <see cref="RowPosition"/>.</param>
/// <param name="MissingDays">The days of the range that have not been rolled up (no rows is not zero).</param>
/// <param name="Continuation">The token for the next page; null on the last page.</param>
public sealed record QueryPage(MetricQuery Query, IReadOnlyList<StoredMetricRow> Rows, IReadOnlyList<DateOnly> MissingDays, string? Continuation);

/// <summary>
/// Answers a <see cref="MetricQuery"/> for a reader. The platform's analysts read a day's rows from
/// <c>DailyMetrics</c> (one key-range query per day, narrowed to the ecosystem or the per-mini-program
/// partitions and to a metric prefix where the filters allow); one mini-program's series, and everything a
/// developer's key reads, come from the mini-programs' own <c>ProgramDailyMetrics</c> partitions, so a
/// developer's query never touches another developer's rows.
/// </summary>
public sealed class MetricQueryService(IMetricsReader reader)
{
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
        var collected = new List<StoredMetricRow>(Math.Min(query.Limit + 1, 4096));
        var start = query.After?.Date ?? query.From;

        if (query.MiniProgram is not null || !access.AllMiniPrograms)
        {
            // A week of each partition at a time, in date order, so a page stops reading once it is full.
            var programs = query.MiniProgram is { } one ? [one] : access.MiniPrograms.Order(StringComparer.Ordinal).ToList();
            for (var from = start; from <= query.To && collected.Count <= query.Limit; from = from.AddDays(ProgramReadDays))
            {
                var to = from.AddDays(ProgramReadDays - 1) < query.To ? from.AddDays(ProgramReadDays - 1) : query.To;
                var rows = new List<StoredMetricRow>();
                await Parallel.ForEachAsync(programs, new ParallelOptions { MaxDegreeOfParallelism = ProgramReadParallelism, CancellationToken = ct }, async (program, token) =>
                {
                    var read = await reader.ReadProgramAsync(program, from, to, prefix, token).ConfigureAwait(false);
                    lock (rows) rows.AddRange(read);
                }).ConfigureAwait(false);
                Append(collected, rows.Where(r => rolled.Contains(r.Row.Date)), keep, query);
            }
        }
        else
        {
            var selection = new MetricRowSelection(
                EcosystemRows: query.Dimension is null || !query.Dimension.StartsWith("miniProgram", StringComparison.Ordinal),
                ProgramRows: query.Dimension is null || query.Dimension.StartsWith("miniProgram", StringComparison.Ordinal),
                prefix);
            for (var day = start; day <= query.To && collected.Count <= query.Limit; day = day.AddDays(1))
            {
                if (!rolled.Contains(day)) continue;
                Append(collected, await reader.ReadDayAsync(day, selection, ct).ConfigureAwait(false), keep, query);
            }
        }

        var page = collected.Count > query.Limit ? collected.GetRange(0, query.Limit) : collected;
        var continuation = collected.Count > query.Limit ? ContinuationToken.Write(query, RowPosition.Of(page[^1].Row)) : null;
        return (new QueryPage(query, page, missing, continuation), null);
    }

    // Sorted, past the continuation point, and no more than one row beyond the page (which says there is a next page).
    private static void Append(List<StoredMetricRow> collected, IEnumerable<StoredMetricRow> rows, Func<MetricRow, bool> keep, MetricQuery query)
    {
        var sorted = rows.Where(r => keep(r.Row)).Select(r => (Position: RowPosition.Of(r.Row), r)).ToList();
        sorted.Sort((a, b) => a.Position.CompareTo(b.Position));
        RowPosition? previous = collected.Count > 0 ? RowPosition.Of(collected[^1].Row) : null;
        foreach (var (position, row) in sorted)
        {
            if (query.After is { } after && position.CompareTo(after) <= 0) continue;
            // A row can be stored twice for a moment (a re-roll that stopped while moving it to its bucket partition): once.
            if (previous is not null && position.CompareTo(previous) == 0) continue;
            previous = position;
            collected.Add(row);
            if (collected.Count > query.Limit) return;
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
