using Azure.Data.Tables;
using Pipeline.Core.Rollup;

namespace Pipeline.Storage.Tables;

/// <summary>A metric row as the metric tables store it (properties: see <see cref="TableMetricsStore"/>).</summary>
internal static class MetricEntities
{
    public static MetricRow ToRow(DateOnly day, TableEntity e) => new(
        day,
        e.GetString("Metric") ?? "",
        e.GetString("Stakeholder") ?? "",
        e.GetString("Tier") ?? "",
        e.GetString("Dimension") ?? "",
        e.GetString("DimensionValue") ?? "",
        e.GetDouble("Value") ?? 0,
        e.GetDouble("Numerator"),
        e.GetDouble("Denominator"),
        e.GetString("Unit") ?? "");
}
