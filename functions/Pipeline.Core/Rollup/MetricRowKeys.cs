using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Rollup;

/// <summary>
/// Table keys of metric rows. Values in keys are escaped by the table-key rule (<see cref="TableKeys.Escape"/>:
/// <c>|</c>, <c>%</c>, <c>/ \ # ?</c> and control characters as <c>%XX</c>).
/// </summary>
public static class MetricRowKeys
{
    /// <summary>The day as keys write it (<c>yyyy-MM-dd</c>), and the first key of its range of partitions in <c>DailyMetrics</c>.</summary>
    public static string PartitionKey(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The end (exclusive) of the day's partition key range in <c>DailyMetrics</c>.</summary>
    public static string PartitionRangeEnd(DateOnly day) => PartitionKey(day) + "}";

    /// <summary>
    /// <c>&lt;metric&gt;|&lt;dimension&gt;|&lt;escaped value&gt;</c>: a row's identity within its day (unique among the day's
    /// rows), by which a re-roll compares old and new rows and a restatement names its row.
    /// </summary>
    public static string DailyRowKey(MetricRow row) => $"{row.Metric}|{row.Dimension}|{TableKeys.Escape(row.DimensionValue)}";

    /// <summary>Per-mini-program rows (also in their mini-program's <c>ProgramDailyMetrics</c> partition): those whose dimension starts with <c>miniProgram</c>.</summary>
    public static bool IsProgramRow(MetricRow row) => row.Dimension.StartsWith("miniProgram", StringComparison.Ordinal);

    /// <summary>
    /// The mini-program a program row belongs to: the whole value (<c>miniProgram</c>), the id before the
    /// page path (<c>miniProgram.page</c>), or the value up to its first <c>/</c> (every other
    /// <c>miniProgram.*</c> dimension is <c>&lt;miniProgramId&gt;/&lt;value&gt;</c>, and ids have no <c>/</c>).
    /// </summary>
    public static string ProgramPartitionKey(MetricRow row) => row.Dimension switch
    {
        "miniProgram" => TableKeys.Escape(row.DimensionValue),
        "miniProgram.page" => TableKeys.Escape(ProgramOfPageValue(row.DimensionValue)),
        _ when row.DimensionValue.IndexOf('/') is var slash and > 0 => TableKeys.Escape(row.DimensionValue[..slash]),
        _ => throw new ArgumentException($"'{row.DimensionValue}' is not a value of dimension {row.Dimension}: <miniProgramId>/<value> expected.", nameof(row)),
    };

    // A miniProgram.page value is <miniProgramId><page>; the id ends where the first character that
    // cannot be in an id starts (the page's leading '/' in the usual case).
    private static string ProgramOfPageValue(string value)
    {
        var i = 0;
        while (i < value.Length && MiniProgramIds.IsIdCharacter(value[i])) i++;
        return value[..i];
    }
}
