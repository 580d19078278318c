using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// What a run ended with, for the days compared: every <c>DailyMetrics</c> and
/// <c>ProgramDailyMetrics</c> row (keys and values; not <c>ComputedAt</c>, <c>RunId</c> or the
/// service's timestamps, which differ between any two runs) and the number of distinct events
/// (source, eventId) stored per day (a client's retry in another batch is stored too, and dropped by the rollup).
/// </summary>
internal sealed record MetricsSnapshot(IReadOnlyDictionary<string, string> Rows, IReadOnlyDictionary<DateOnly, int> StoredEvents)
{
    private static readonly string[] Compared = ["Metric", "Stakeholder", "Tier", "Dimension", "DimensionValue", "Value", "Numerator", "Denominator", "Unit"];

    public static async Task<MetricsSnapshot> TakeAsync(string connectionString, IReadOnlyList<DateOnly> days, int shards)
    {
        var tables = new TableServiceClient(connectionString);
        var rows = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var day in days)
        {
            var key = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var dayRange = TableClient.CreateQueryFilter($"PartitionKey ge {key} and PartitionKey lt {key + "}"}");
            await foreach (var e in tables.GetTableClient(StorageNames.DailyMetricsTable).QueryAsync<TableEntity>(dayRange))
                rows[$"daily|{e.PartitionKey}|{e.RowKey}"] = Describe(e);
            var filter = TableClient.CreateQueryFilter($"RowKey ge {key + "|"} and RowKey lt {key + "}"}");
            await foreach (var e in tables.GetTableClient(StorageNames.ProgramDailyMetricsTable).QueryAsync<TableEntity>(filter))
                rows[$"program|{e.PartitionKey}|{e.RowKey}"] = Describe(e);
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

    private static string Describe(TableEntity e) =>
        string.Join(";", Compared.Select(name => $"{name}={Format(e.TryGetValue(name, out var v) ? v : null)}"));

    private static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Field(string described, string name) =>
        described.Split(';').First(p => p.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
}
