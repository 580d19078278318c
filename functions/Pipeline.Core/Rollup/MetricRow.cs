namespace Pipeline.Core.Rollup;

/// <summary>
/// One row of the metric catalog's output for one day: a metric, one dimension value, its value
/// and, for ratios, the numerator and denominator it came from.
/// </summary>
public sealed record MetricRow(
    DateOnly Date,
    string Metric,
    string Stakeholder,
    string Tier,
    string Dimension,
    string DimensionValue,
    double Value,
    double? Numerator,
    double? Denominator,
    string Unit);

/// <summary>The rollup's bookkeeping: the first reporting day that ever had events, and the last day rolled up.</summary>
public sealed record RollupCursor(DateOnly FirstDay, DateOnly LastRolledDay);
