using System.Text;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Rollup;

/// <summary>
/// Table keys of metric rows. Values in keys are escaped by the table-key rule (<see cref="TableKeys.Escape"/>:
/// <c>|</c>, <c>%</c>, <c>/ \ # ?</c> and control characters as <c>%XX</c>).
/// </summary>
public static class MetricRowKeys
{
    /// <summary>
    /// Per-mini-program rows of a day in <c>DailyMetrics</c> are spread over this many partitions
    /// (<see cref="DailyPartitionKey"/>), so that writing a day is not bound by one partition's rate.
    /// Persisted: changing it strands the rows written under the old count.
    /// </summary>
    public const int ProgramBuckets = 64;

    /// <summary>The day's partition in <c>DailyMetrics</c> (its ecosystem rows), and the first key of its range.</summary>
    public static string PartitionKey(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// A row's partition in <c>DailyMetrics</c>: <c>yyyy-MM-dd</c> for an ecosystem row, <c>yyyy-MM-dd|NN</c>
    /// (NN the bucket of its mini-program, 00 to 63) for a per-mini-program row. A day's partitions are the
    /// key range [<c>yyyy-MM-dd</c>, <see cref="PartitionRangeEnd"/>): '|' sorts before '}'.
    /// </summary>
    public static string DailyPartitionKey(MetricRow row) => IsProgramRow(row)
        ? $"{PartitionKey(row.Date)}|{Bucket(ProgramPartitionKey(row)):D2}"
        : PartitionKey(row.Date);

    /// <summary>The end (exclusive) of the day's partition key range in <c>DailyMetrics</c>.</summary>
    public static string PartitionRangeEnd(DateOnly day) => PartitionKey(day) + "}";

    /// <summary>A mini-program's bucket: XxHash32 of its (escaped) partition key, stable across processes and releases.</summary>
    public static int Bucket(string programPartitionKey) =>
        (int)(System.IO.Hashing.XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(programPartitionKey)) % ProgramBuckets);

    /// <summary><c>&lt;metric&gt;|&lt;dimension&gt;|&lt;escaped value&gt;</c> in <c>DailyMetrics</c>.</summary>
    public static string DailyRowKey(MetricRow row) => $"{row.Metric}|{row.Dimension}|{TableKeys.Escape(row.DimensionValue)}";

    /// <summary><c>yyyy-MM-dd|&lt;metric&gt;|&lt;dimension&gt;|&lt;escaped value&gt;</c> in <c>ProgramDailyMetrics</c>.</summary>
    public static string ProgramRowKey(MetricRow row) => $"{PartitionKey(row.Date)}|{DailyRowKey(row)}";

    /// <summary>Rows that also go to <c>ProgramDailyMetrics</c>: those whose dimension starts with <c>miniProgram</c>.</summary>
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
