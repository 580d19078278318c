using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Pipeline.Storage;
using Pipeline.Core.Rollup;
using Pipeline.Storage.Blobs;
using Pipeline.Storage.Tables;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// What a run ended with, for the days compared: every <c>DailyMetrics</c> and
/// <c>ProgramDailyMetrics</c> row (unpacked; identity and values; not <c>ComputedAt</c>, <c>RunId</c> or the
/// service's timestamps, which differ between any two runs) and the number of distinct events
/// (source, eventId) stored per day (a client's retry in another batch is stored too, and dropped by the rollup).
/// </summary>
internal sealed record MetricsSnapshot(IReadOnlyDictionary<string, string> Rows, IReadOnlyDictionary<DateOnly, int> StoredEvents)
{
    public static async Task<MetricsSnapshot> TakeAsync(string connectionString, IReadOnlyList<DateOnly> days, int shards)
    {
        var tables = new TableServiceClient(connectionString);
        var rows = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var day in days)
        {
            var key = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var daily = new MetricEntities.DistinctRows();
            await foreach (var e in tables.GetTableClient(StorageNames.DailyMetricsTable).QueryAsync<TableEntity>(MetricTableKeys.DayFilter(day)))
                daily.Add(day, e);
            foreach (var row in daily.ToList())
                rows[$"daily|{key}|{MetricRowKeys.DailyRowKey(row.Row)}"] = Describe(row.Row);
            // Every mini-program's partition: the day's RowKey range across the table.
            var programs = new Dictionary<string, MetricEntities.DistinctRows>(StringComparer.Ordinal);
            var filter = TableClient.CreateQueryFilter($"RowKey ge {key + "|"} and RowKey lt {key + "}"}");
            await foreach (var e in tables.GetTableClient(StorageNames.ProgramDailyMetricsTable).QueryAsync<TableEntity>(filter))
            {
                if (!programs.TryGetValue(e.PartitionKey, out var program)) programs[e.PartitionKey] = program = new MetricEntities.DistinctRows();
                program.Add(day, e);
            }
            foreach (var (partition, program) in programs)
                foreach (var row in program.ToList())
                    rows[$"program|{partition}|{key}|{MetricRowKeys.DailyRowKey(row.Row)}"] = Describe(row.Row);
        }

        var store = new BlobEventStore(new BlobServiceClient(connectionString));
        var stored = new SortedDictionary<DateOnly, int>();
        foreach (var day in days)
        {
            var ids = new HashSet<(string?, string)>();
            for (var shard = 0; shard < shards; shard++)
                foreach (var e in await store.ReadAsync(day, shard, CancellationToken.None)) ids.Add((e.Source, e.EventId));
            stored[day] = ids.Count;
        }
        return new MetricsSnapshot(rows, stored);
    }

    public int TotalStored => StoredEvents.Values.Sum();

    public double Value(DateOnly day, string rowKey) =>
        double.Parse(Field(Rows[$"daily|{day:yyyy-MM-dd}|{rowKey}"], "Value"), CultureInfo.InvariantCulture);

    /// <summary>Asserts this run ended exactly where the uninterrupted run did: the same rows with the same values, and the same events stored per day.</summary>
    public void AssertSameAs(MetricsSnapshot expected)
    {
        Assert.Equal(expected.StoredEvents, StoredEvents);
        var differences = new StringBuilder();
        foreach (var key in expected.Rows.Keys.Union(Rows.Keys).Order(StringComparer.Ordinal))
        {
            expected.Rows.TryGetValue(key, out var want);
            Rows.TryGetValue(key, out var got);
            if (want == got) continue;
            differences.AppendLine(CultureInfo.InvariantCulture, $"{key}: expected {want ?? "(no row)"}, got {got ?? "(no row)"}");
        }
        Assert.True(differences.Length == 0, $"{differences.ToString().Split('\n').Length - 1} row(s) differ from the uninterrupted run:\n{differences}");
        Assert.Equal(expected.Rows.Count, Rows.Count);
    }

    /// <summary>A row's fields, as compared (not ComputedAt or RunId, which differ between any two runs).</summary>
    private static string Describe(MetricRow r) => string.Join(";",
        $"Metric={r.Metric}", $"Stakeholder={r.Stakeholder}", $"Tier={r.Tier}", $"Dimension={r.Dimension}", $"DimensionValue={r.DimensionValue}",
        $"Value={Format(r.Value)}", $"Numerator={Format(r.Numerator)}", $"Denominator={Format(r.Denominator)}", $"Unit={r.Unit}");

    private static string Format(double? value) => value is { } d ? d.ToString("R", CultureInfo.InvariantCulture) : "";

    private static string Field(string described, string name) =>
        described.Split(';').First(p => p.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
}
