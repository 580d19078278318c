using System.Globalization;
using Azure.Data.Tables;
using Pipeline.Core.Rollup;

namespace Pipeline.Storage.Tables;

/// <summary>The keys and filters of the packed metric tables (layout: <see cref="TableMetricsStore"/>).</summary>
internal static class MetricTableKeys
{
    /// <summary>
    /// A day's partition in <c>DailyMetrics</c>: <c>yyyy-MM-dd|e</c> (ecosystem rows) or <c>yyyy-MM-dd|p</c> (rows whose
    /// dimension starts with <c>miniProgram</c>). Both sort inside the day's range [<c>yyyy-MM-dd</c>, <c>yyyy-MM-dd}</c>),
    /// and neither is a partition of the layout before packing (<c>yyyy-MM-dd</c> and <c>yyyy-MM-dd|00</c> to <c>|63</c>).
    /// </summary>
    public static string DailyPartition(DateOnly day, bool programRows) => MetricRowKeys.PartitionKey(day) + (programRows ? "|p" : "|e");

    /// <summary><c>&lt;metric&gt;|&lt;dimension&gt;|&lt;part:D4&gt;</c>: a metric id or prefix is a RowKey range.</summary>
    public static string DailyRowKey(string metric, string dimension, int part) =>
        string.Create(CultureInfo.InvariantCulture, $"{metric}|{dimension}|{part:D4}");

    /// <summary><c>yyyy-MM-dd|&lt;part:D4&gt;</c> in a mini-program's <c>ProgramDailyMetrics</c> partition.</summary>
    public static string ProgramRowKey(DateOnly day, int part) =>
        string.Create(CultureInfo.InvariantCulture, $"{MetricRowKeys.PartitionKey(day)}|{part:D4}");

    /// <summary>Every entity of the day in <c>DailyMetrics</c>, in either layout: one partition-key range.</summary>
    public static string DayFilter(DateOnly day) =>
        TableClient.CreateQueryFilter($"PartitionKey ge {MetricRowKeys.PartitionKey(day)} and PartitionKey lt {MetricRowKeys.PartitionRangeEnd(day)}");

    /// <summary>
    /// A mini-program's entities of the days <paramref name="from"/> to <paramref name="to"/>, in either layout: RowKeys
    /// start with <c>yyyy-MM-dd|</c>, and '}' is the character after '|', so [<c>from|</c>, <c>to}</c>) is exactly those days.
    /// </summary>
    public static string ProgramDaysFilter(string partition, DateOnly from, DateOnly to) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {MetricRowKeys.PartitionKey(from) + "|"} and RowKey lt {MetricRowKeys.PartitionRangeEnd(to)}");

    /// <summary>
    /// Whether a day is rolled up: every rolled-up day has the North Star's <c>total</c> row (a count's total is always
    /// written, even when it is 0), in its first pack or, in the layout before packing, as its own entity.
    /// </summary>
    public static string RolledUpFilter(DateOnly day) =>
        TableClient.CreateQueryFilter(
            $"(PartitionKey eq {DailyPartition(day, programRows: false)} and RowKey eq {DailyRowKey(NorthStarMetric, "total", 0)}) or (PartitionKey eq {MetricRowKeys.PartitionKey(day)} and RowKey eq {NorthStarMetric + "|total|"})");

    private const string NorthStarMetric = "northstar.engaged_users";

    /// <summary>A pack as the entity that holds it: its rows (binary) and, for people browsing the table, how many.</summary>
    public static TableEntity PackEntity(string partitionKey, string rowKey, byte[] pack) => new(partitionKey, rowKey)
    {
        [MetricEntities.RowsProperty] = pack,
        ["Count"] = MetricRowPack.Count(pack),
    };
}
