using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Storage.Tables;

/// <summary>
/// Metric rows as the metric tables store them (layout: <see cref="TableMetricsStore"/>): packed entities of
/// many rows, and the one-row entities of the layout before packing, which a day keeps until it is rolled again.
/// </summary>
internal static class MetricEntities
{
    /// <summary>The packed rows' property (<see cref="MetricRowPack"/>).</summary>
    public const string RowsProperty = "Rows";

    /// <summary>What a read of the metric tables asks for: a packed entity's rows, or a one-row entity's columns.</summary>
    public static readonly string[] Columns =
        ["PartitionKey", "RowKey", RowsProperty, "Metric", "Stakeholder", "Tier", "Dimension", "DimensionValue", "Value", "Numerator", "Denominator", "Unit", "ComputedAt", "RunId", "Restated", "PreviousValue"];

    public static bool IsPacked(TableEntity e) => e.ContainsKey(RowsProperty);

    /// <summary>The rows an entity holds: every row of a pack, or the one row of an entity of the earlier layout.</summary>
    public static IEnumerable<StoredMetricRow> Rows(DateOnly day, TableEntity e) =>
        e.GetBinary(RowsProperty) is { } pack
            ? MetricRowPack.Unpack(day, pack)
            : [new StoredMetricRow(ToRow(day, e), e.GetDateTimeOffset("ComputedAt"), e.GetString("RunId"), e.GetBoolean("Restated") ?? false, e.GetDouble("PreviousValue"))];

    private static MetricRow ToRow(DateOnly day, TableEntity e) => new(
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

    /// <summary>
    /// One row per (metric, dimension, value). A row can be read twice only after a replace was interrupted half-way
    /// (in both layouts, or in an old and a new pack); the packed one, then the one computed last, is the newer.
    /// </summary>
    public sealed class DistinctRows
    {
        private readonly Dictionary<string, (StoredMetricRow Row, bool Packed)> _rows = new(StringComparer.Ordinal);

        public void Add(DateOnly day, TableEntity e)
        {
            var packed = IsPacked(e);
            foreach (var row in Rows(day, e)) Add(row, packed);
        }

        public void Add(StoredMetricRow row, bool packed)
        {
            var key = MetricRowKeys.DailyRowKey(row.Row);
            if (_rows.TryGetValue(key, out var seen) && (seen.Packed, seen.Row.ComputedAt ?? DateTimeOffset.MinValue).CompareTo((packed, row.ComputedAt ?? DateTimeOffset.MinValue)) >= 0)
                return;
            _rows[key] = (row, packed);
        }

        public IReadOnlyDictionary<string, (StoredMetricRow Row, bool Packed)> ByKey => _rows;

        public List<StoredMetricRow> ToList() => _rows.Values.Select(v => v.Row).ToList();
    }
}
