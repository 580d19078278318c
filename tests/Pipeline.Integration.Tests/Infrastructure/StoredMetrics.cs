using System.Globalization;
using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Storage.Tables;

namespace Pipeline.Integration.Tests.Infrastructure;

/// <summary>
/// What the rollup wrote, read through the product's own reader: the metric tables hold rows packed many to an entity,
/// so a test names a row by its identity (<c>metric|dimension|value</c>, <see cref="MetricRowKeys.DailyRowKey"/>).
/// </summary>
internal sealed class StoredMetrics(string connectionString)
{
    private readonly TableMetricsReader _reader = new(new TableServiceClient(connectionString));

    /// <summary>Every row of the day, by identity.</summary>
    public async Task<Dictionary<string, StoredMetricRow>> DayAsync(string day) =>
        (await _reader.ReadDayAsync(Parse(day), MetricRowSelection.All, CancellationToken.None)).ToDictionary(r => MetricRowKeys.DailyRowKey(r.Row), StringComparer.Ordinal);

    /// <summary>A row's value; fails (naming the row) if the day has no such row.</summary>
    public async Task<double> ValueAsync(string day, string rowKey) =>
        (await DayAsync(day)).TryGetValue(rowKey, out var row) ? row.Row.Value : throw new Xunit.Sdk.XunitException($"{day} has no row {rowKey}.");

    /// <summary>One mini-program's rows of a day, from its own partition of <c>ProgramDailyMetrics</c>, by identity.</summary>
    public async Task<Dictionary<string, StoredMetricRow>> ProgramDayAsync(string miniProgramId, string day) =>
        (await _reader.ReadProgramAsync(miniProgramId, Parse(day), Parse(day), null, CancellationToken.None)).ToDictionary(r => MetricRowKeys.DailyRowKey(r.Row), StringComparer.Ordinal);

    private static DateOnly Parse(string day) => DateOnly.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture);
}
