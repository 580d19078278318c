using System.Globalization;
using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Storage.Tables;

/// <summary>
/// The query API's reads of the metric tables (their layout: <see cref="TableMetricsStore"/>). A day is
/// the key range [day, day}) of <c>DailyMetrics</c>, narrowed to the day's own partition (ecosystem rows)
/// or its 64 buckets (per-mini-program rows) when only one kind is wanted; a metric-id prefix becomes a
/// RowKey range there. One mini-program's days are a RowKey range of its <c>ProgramDailyMetrics</c>
/// partition. Whether a day is rolled up is one point read: every rolled-up day has the North Star's
/// <c>total</c> row (a count's total is always written, even when it is 0).
/// </summary>
public sealed class TableMetricsReader(TableServiceClient tableService) : IMetricsReader
{
    /// <summary>The row every rolled-up day has.</summary>
    public const string RolledUpMarkerRowKey = "northstar.engaged_users|total|";

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
            (true, true) => TableClient.CreateQueryFilter($"PartitionKey ge {dayKey} and PartitionKey lt {MetricRowKeys.PartitionRangeEnd(day)}"),
            (true, false) => TableClient.CreateQueryFilter($"PartitionKey eq {dayKey}"),
            // Per-mini-program rows: the whole day's range, not only its buckets, since a day rolled before the
            // buckets existed keeps them in the day's own partition until it is re-rolled (the caller filters by dimension).
            _ => TableClient.CreateQueryFilter($"PartitionKey ge {dayKey} and PartitionKey lt {MetricRowKeys.PartitionRangeEnd(day)}"),
        };
        var filter = selection.MetricPrefix is { } prefix
            ? partitions + " and " + TableClient.CreateQueryFilter($"RowKey ge {prefix} and RowKey lt {PrefixEnd(prefix)}")
            : partitions;
        return StorageFailures.RunAsync<IReadOnlyList<StoredMetricRow>>("reading the metrics of " + dayKey, async ct =>
        {
            var rows = new List<StoredMetricRow>();
            await foreach (var e in _daily.QueryAsync<TableEntity>(filter, cancellationToken: ct).ConfigureAwait(false))
                rows.Add(ToStored(day, e));
            return rows;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<StoredMetricRow>> ReadProgramAsync(string miniProgramId, DateOnly from, DateOnly to, string? metricPrefix, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(miniProgramId);
        var partition = TableKeys.Escape(miniProgramId);
        // Program row keys are "yyyy-MM-dd|…": [from|, to}) is exactly the days from..to.
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {MetricRowKeys.PartitionKey(from) + "|"} and RowKey lt {MetricRowKeys.PartitionRangeEnd(to)}");
        if (metricPrefix is { } prefix)
        {
            // Metric ids hold no '|', so a whole id with its separator narrows to that metric.
            var metric = prefix.TrimEnd('|');
            filter += prefix.EndsWith('|')
                ? " and " + TableClient.CreateQueryFilter($"Metric eq {metric}")
                : " and " + TableClient.CreateQueryFilter($"Metric ge {prefix} and Metric lt {PrefixEnd(prefix)}");
        }
        return StorageFailures.RunAsync<IReadOnlyList<StoredMetricRow>>("reading the metrics of mini-program " + miniProgramId, async ct =>
        {
            var rows = new List<StoredMetricRow>();
            await foreach (var e in _program.QueryAsync<TableEntity>(filter, cancellationToken: ct).ConfigureAwait(false))
            {
                if (DateOnly.TryParseExact(e.RowKey.AsSpan(0, Math.Min(10, e.RowKey.Length)), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                    rows.Add(ToStored(day, e));
            }
            return rows;
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
                var marker = await _daily.GetEntityIfExistsAsync<TableEntity>(MetricRowKeys.PartitionKey(day), RolledUpMarkerRowKey, ["RowKey"], token).ConfigureAwait(false);
                if (marker.HasValue) lock (rolled) rolled.Add(day);
            }).ConfigureAwait(false);
            return rolled;
        }, cancellationToken);
    }

    /// <summary>The smallest string above every string that starts with <paramref name="prefix"/>.</summary>
    internal static string PrefixEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);

    private static StoredMetricRow ToStored(DateOnly day, TableEntity e) => new(
        MetricEntities.ToRow(day, e),
        e.GetDateTimeOffset("ComputedAt"),
        e.GetString("RunId"),
        e.GetBoolean("Restated") ?? false,
        e.GetDouble("PreviousValue"));
}
