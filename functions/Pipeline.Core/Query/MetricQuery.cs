namespace Pipeline.Core.Query;

/// <summary>
/// A parsed, validated request for metric rows (<c>GET /api/v1/metrics</c> and the CLI's <c>query</c>).
/// Every filter is optional except the date range; null means "any".
/// </summary>
/// <param name="From">First day (inclusive).</param>
/// <param name="To">Last day (inclusive); at most <see cref="MetricQueryLimits.MaxDays"/> days after <paramref name="From"/>.</param>
/// <param name="Metrics">Exact metric ids, and prefixes ending with <c>*</c> (<c>users.*</c>); null for every metric.</param>
/// <param name="Stakeholder">Only this stakeholder's metrics.</param>
/// <param name="Tier">Only this tier.</param>
/// <param name="Dimension">Only rows of this dimension.</param>
/// <param name="Value">Only rows with this dimension value (needs <paramref name="Dimension"/>).</param>
/// <param name="MiniProgram">Only this mini-program's rows, read from its own partition.</param>
/// <param name="Limit">Rows per page.</param>
/// <param name="After">Where the previous page ended (from its continuation token); null for the first page.</param>
public sealed record MetricQuery(
    DateOnly From,
    DateOnly To,
    IReadOnlyList<string>? Metrics,
    string? Stakeholder,
    string? Tier,
    string? Dimension,
    string? Value,
    string? MiniProgram,
    int Limit,
    RowPosition? After)
{
    /// <summary>The days of the range, in order.</summary>
    public IEnumerable<DateOnly> Days()
    {
        for (var d = From; d <= To; d = d.AddDays(1)) yield return d;
    }

    /// <summary>
    /// What identifies the query's result set apart from paging: a continuation token is valid only for
    /// the query it came from (a token replayed with other filters would silently skip rows).
    /// </summary>
    public string Fingerprint() => string.Join('\u001f',
        From.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        To.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        Metrics is null ? "*" : string.Join(',', Metrics),
        Stakeholder ?? "*", Tier ?? "*", Dimension ?? "*", Value ?? "*", MiniProgram ?? "*");
}

/// <summary>A row's place in the query API's order: date, metric, dimension, dimension value (ordinal, as the CSV export).</summary>
public sealed record RowPosition(DateOnly Date, string Metric, string Dimension, string DimensionValue) : IComparable<RowPosition>
{
    public int CompareTo(RowPosition? other)
    {
        if (other is null) return 1;
        var c = Date.CompareTo(other.Date);
        if (c != 0) return c;
        c = string.CompareOrdinal(Metric, other.Metric);
        if (c != 0) return c;
        c = string.CompareOrdinal(Dimension, other.Dimension);
        return c != 0 ? c : string.CompareOrdinal(DimensionValue, other.DimensionValue);
    }

    public static RowPosition Of(Rollup.MetricRow row) => new(row.Date, row.Metric, row.Dimension, row.DimensionValue);
}

/// <summary>The query API's documented limits.</summary>
public static class MetricQueryLimits
{
    /// <summary>Longest range in one query: a quarter (92 days). Longer spans are read in several queries or from the exports.</summary>
    public const int MaxDays = 92;

    /// <summary>Rows per page when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 1000;

    /// <summary>Most rows per page.</summary>
    public const int MaxLimit = 10_000;

    /// <summary>Most mini-programs a developer key reads at once without naming one (<c>miniProgram=</c>).</summary>
    public const int MaxProgramsWithoutFilter = 50;
}
