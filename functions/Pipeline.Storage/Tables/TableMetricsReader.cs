using System.Globalization;
using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Storage.Tables;

/// <summary>
/// The query API's reads of the metric tables (their layout: <see cref="TableMetricsStore"/>). A day is the key range
/// [day, day}) of <c>DailyMetrics</c>, narrowed to its ecosystem partition(s) when only those rows are wanted; a metric-id
/// prefix becomes a RowKey range there. One mini-program's days are a RowKey range of its <c>ProgramDailyMetrics</c>
/// partition. Whether a day is rolled up is one query for the North Star's total (<see cref="MetricTableKeys.RolledUpFilter"/>).
/// Entities of the layout before packing are read too, until their day is rolled again.
/// </summary>
public sealed class TableMetricsReader(TableServiceClient tableService) : IMetricsReader
{
    private const int Parallelism = 8;

    private readonly TableClient _daily = tableService.GetTableClient(StorageNames.DailyMetricsTable);
    private readonly TableClient _program = tableService.GetTableClient(StorageNames.ProgramDailyMetricsTable);

    public Task<IReadOnlyList<StoredMetricRow>> ReadDayAsync(DateOnly day, MetricRowSelection selection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var dayKey = MetricRowKeys.PartitionKey(day);
        if (!selection.EcosystemRows && !selection.ProgramRows) return Task.FromResult<IReadOnlyList<StoredMetricRow>>([]);

        var partitions = (selection.EcosystemRows, selection.ProgramRows) switch
        {
            // The ecosystem pack partition, and the day's own partition of the layout before packing.
            (true, false) => TableClient.CreateQueryFilter($"(PartitionKey eq {dayKey} or PartitionKey eq {MetricTableKeys.DailyPartition(day, programRows: false)})"),
            // Per-mini-program rows: the whole day's range (before packing they were in the day's partition or its buckets);
            // the caller keeps the rows of the dimensions it wants.
            _ => MetricTableKeys.DayFilter(day),
        };
        var filter = selection.MetricPrefix is { } prefix
            ? partitions + " and " + TableClient.CreateQueryFilter($"RowKey ge {prefix} and RowKey lt {PrefixEnd(prefix)}")
            : partitions;
        return StorageFailures.RunAsync<IReadOnlyList<StoredMetricRow>>("reading the metrics of " + dayKey, async ct =>
        {
            var rows = new MetricEntities.DistinctRows();
            await foreach (var e in _daily.QueryAsync<TableEntity>(filter, select: MetricEntities.Columns, cancellationToken: ct).ConfigureAwait(false))
                rows.Add(day, e);
            return rows.ToList();
        }, cancellationToken);
    }

    public Task<IReadOnlyList<StoredMetricRow>> ReadProgramAsync(string miniProgramId, DateOnly from, DateOnly to, string? metricPrefix, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(miniProgramId);
        var filter = MetricTableKeys.ProgramDaysFilter(TableKeys.Escape(miniProgramId), from, to);
        // Metric ids hold no '|', so a whole id with its separator names exactly that metric.
        Func<string, bool> metricWanted = metricPrefix switch
        {
            null => _ => true,
            _ when metricPrefix.EndsWith('|') => m => m.Length == metricPrefix.Length - 1 && metricPrefix.StartsWith(m, StringComparison.Ordinal),
            _ => m => m.StartsWith(metricPrefix, StringComparison.Ordinal),
        };
        return StorageFailures.RunAsync<IReadOnlyList<StoredMetricRow>>("reading the metrics of mini-program " + miniProgramId, async ct =>
        {
            var days = new SortedDictionary<DateOnly, MetricEntities.DistinctRows>();
            await foreach (var e in _program.QueryAsync<TableEntity>(filter, select: MetricEntities.Columns, cancellationToken: ct).ConfigureAwait(false))
            {
                if (!DateOnly.TryParseExact(e.RowKey.AsSpan(0, Math.Min(10, e.RowKey.Length)), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                    continue;
                if (!days.TryGetValue(day, out var rows)) days[day] = rows = new MetricEntities.DistinctRows();
                rows.Add(day, e);
            }
            return days.Values.SelectMany(d => d.ToList()).Where(r => metricWanted(r.Row.Metric)).ToList();
        }, cancellationToken);
    }

    public Task<IReadOnlySet<DateOnly>> RolledUpDaysAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var days = new List<DateOnly>();
        for (var d = from; d <= to; d = d.AddDays(1)) days.Add(d);
        return StorageFailures.RunAsync<IReadOnlySet<DateOnly>>($"reading which days of {MetricRowKeys.PartitionKey(from)}..{MetricRowKeys.PartitionKey(to)} are rolled up", async ct =>
        {
            var rolled = new HashSet<DateOnly>();
            await Parallel.ForEachAsync(days, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (day, token) =>
            {
                await foreach (var _ in _daily.QueryAsync<TableEntity>(MetricTableKeys.RolledUpFilter(day), maxPerPage: 1, select: ["RowKey"], cancellationToken: token).ConfigureAwait(false))
                {
                    lock (rolled) rolled.Add(day);
                    break;
                }
            }).ConfigureAwait(false);
            return rolled;
        }, cancellationToken);
    }

    /// <summary>The smallest string above every string that starts with <paramref name="prefix"/>.</summary>
    internal static string PrefixEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);
}
