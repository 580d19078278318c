using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Tables;

namespace Pipeline.Integration.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class MetricsStoreTests(AzuriteFixture azurite)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset ComputedAt = new(2026, 11, 24, 16, 30, 0, TimeSpan.Zero);

    private static MetricRow Row(DateOnly day, string metric, string dimension, string value, double v, double? num = null, double? den = null) =>
        new(day, metric, "platform", "core", dimension, value, v, num, den, num is null ? "users" : "ratio");

    [Fact]
    public async Task A_reroll_rewrites_only_the_rows_whose_value_changed()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var day = AzuriteFixture.UniqueDay();
        var daily = azurite.Tables.GetTableClient(StorageNames.DailyMetricsTable);
        var program = azurite.Tables.GetTableClient(StorageNames.ProgramDailyMetricsTable);
        MetricRow Same(string mp) => Row(day, "dau", "miniProgram", mp, 4);
        await store.ReplaceDayAsync(day, [Row(day, "dau", "all", "", 10), Same("wx_same"), Row(day, "dau", "miniProgram", "wx_moved", 6)], "run-1", ComputedAt, None);

        await store.ReplaceDayAsync(day, [Row(day, "dau", "all", "", 11), Same("wx_same"), Row(day, "dau", "miniProgram", "wx_moved", 7)], "run-2", ComputedAt.AddHours(1), None);

        async Task<string?> RunOf(TableClient table, string partition, string row) =>
            (await table.GetEntityAsync<TableEntity>(partition, row)).Value.GetString("RunId");
        var dayKey = MetricRowKeys.PartitionKey(day);
        string Bucket(string mp) => MetricRowKeys.DailyPartitionKey(Same(mp));
        Assert.Equal("run-1", await RunOf(daily, Bucket("wx_same"), "dau|miniProgram|wx_same"));
        Assert.Equal("run-1", await RunOf(program, "wx_same", dayKey + "|dau|miniProgram|wx_same"));
        Assert.Equal("run-2", await RunOf(daily, dayKey, "dau|all|"));
        Assert.Equal("run-2", await RunOf(daily, Bucket("wx_moved"), "dau|miniProgram|wx_moved"));
        Assert.Equal("run-2", await RunOf(program, "wx_moved", dayKey + "|dau|miniProgram|wx_moved"));
        Assert.Equal(7, (await store.ReadDayAsync(day, None)).Single(r => r.DimensionValue == "wx_moved").Value);
    }

    [Fact]
    public async Task Replacing_a_day_writes_exact_properties_and_leaves_no_stale_row()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var day = AzuriteFixture.UniqueDay();
        var daily = azurite.Tables.GetTableClient(StorageNames.DailyMetricsTable);
        var program = azurite.Tables.GetTableClient(StorageNames.ProgramDailyMetricsTable);
        var next = day.AddDays(1);

        var first = new List<MetricRow>
        {
            Row(day, "dau", "all", "", 10),
            Row(day, "dau", "platform", "ios", 6),
            Row(day, "dau", "miniProgram", "wx_a", 4),
            Row(day, "dau", "miniProgram", "wx_old", 1),
            Row(day, "gmv", "miniProgram.currency", "wx_a/CNY", 99.5),
            Row(day, "pv", "miniProgram.page", "wx_a/pages/a?x=1#h", 3),
            Row(day, "conversion", "all", "", 0.25, 1, 4),
        };
        // 150 platform rows: more than one transaction.
        first.AddRange(Enumerable.Range(0, 150).Select(i => Row(day, "dau", "scene", i.ToString(), i)));
        await store.ReplaceDayAsync(day, first, "run-1", ComputedAt, None);
        // The next day's program rows share the partitions and must survive.
        await store.ReplaceDayAsync(next, [Row(next, "dau", "miniProgram", "wx_old", 2)], "run-n", ComputedAt, None);

        Assert.Equal(first.Count, (await store.ReadDayAsync(day, None)).Count);
        Assert.Equal(2, await CountAsync(program, "wx_old"));

        var second = new List<MetricRow>
        {
            Row(day, "dau", "all", "", 11),
            Row(day, "dau", "miniProgram", "wx_a", 5),
            Row(day, "dau", "miniProgram", "wx_new", 1),
            Row(day, "conversion", "all", "", 0.5, 2, 4),
        };
        await store.ReplaceDayAsync(day, second, "run-2", ComputedAt.AddHours(1), None);

        var read = await store.ReadDayAsync(day, None);
        Assert.Equal(second.OrderBy(r => MetricRowKeys.DailyRowKey(r), StringComparer.Ordinal), read.OrderBy(r => MetricRowKeys.DailyRowKey(r), StringComparer.Ordinal));

        var dailyKeys = new List<string>();
        await foreach (var e in daily.QueryAsync<TableEntity>(DayRange(day))) dailyKeys.Add(e.RowKey);
        Assert.Equal(["conversion|all|", "dau|all|", "dau|miniProgram|wx_a", "dau|miniProgram|wx_new"], dailyKeys.Order(StringComparer.Ordinal));

        // Program rows: the stale ones of this day are gone in every partition, the next day's stay.
        var dayKey = MetricRowKeys.PartitionKey(day);
        Assert.Equal([$"{dayKey}|dau|miniProgram|wx_a"], await KeysAsync(program, "wx_a"));
        Assert.Equal([$"{dayKey}|dau|miniProgram|wx_new"], await KeysAsync(program, "wx_new"));
        Assert.Equal([$"{MetricRowKeys.PartitionKey(next)}|dau|miniProgram|wx_old"], await KeysAsync(program, "wx_old"));

        // Exact properties: a ratio has Numerator and Denominator, a count has neither.
        var ratio = (await daily.GetEntityAsync<TableEntity>(dayKey, "conversion|all|")).Value;
        Assert.Equal(0.5, ratio.GetDouble("Value"));
        Assert.Equal(2, ratio.GetDouble("Numerator"));
        Assert.Equal(4, ratio.GetDouble("Denominator"));
        Assert.Equal("run-2", ratio.GetString("RunId"));
        Assert.Equal(ComputedAt.AddHours(1), ratio.GetDateTimeOffset("ComputedAt"));

        var count = (await daily.GetEntityAsync<TableEntity>(MetricRowKeys.DailyPartitionKey(second[1]), "dau|miniProgram|wx_a")).Value;
        Assert.False(count.ContainsKey("Numerator"));
        Assert.False(count.ContainsKey("Denominator"));
        // 4 before, 5 now: a restated row says so, with the value before.
        Assert.Equal(
            new[] { "ComputedAt", "Dimension", "DimensionValue", "Metric", "PartitionKey", "PreviousValue", "Restated", "RowKey", "RunId", "Stakeholder", "Tier", "Timestamp", "Unit", "Value", "odata.etag" },
            count.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(true, count.GetBoolean("Restated"));
        Assert.Equal(4.0, count.GetDouble("PreviousValue"));
        // A row new in this roll is not restated.
        var added = (await daily.GetEntityAsync<TableEntity>(MetricRowKeys.DailyPartitionKey(second[2]), "dau|miniProgram|wx_new")).Value;
        Assert.False(added.ContainsKey("Restated"));
        Assert.False(added.ContainsKey("PreviousValue"));
        Assert.Equal("platform", count.GetString("Stakeholder"));
        Assert.Equal("core", count.GetString("Tier"));
        Assert.Equal("users", count.GetString("Unit"));
        Assert.Equal(5.0, count["Value"]); // stored as a double, not an int
    }

    [Fact]
    public async Task A_days_per_mini_program_rows_are_spread_over_bucket_partitions_and_rows_of_the_old_layout_move()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var daily = azurite.Tables.GetTableClient(StorageNames.DailyMetricsTable);
        var day = AzuriteFixture.UniqueDay();
        var dayKey = MetricRowKeys.PartitionKey(day);
        var rows = Enumerable.Range(0, 200).Select(i => Row(day, "dau", "miniProgram", $"wx_{i:D3}", i)).Append(Row(day, "dau", "all", "", 500)).ToList();
        // A row as an earlier release wrote it: every row of the day in the day's own partition, computed by an earlier run.
        var earlier = ComputedAt.AddDays(-3);
        await daily.UpsertEntityAsync(new TableEntity(dayKey, "dau|miniProgram|wx_007")
        {
            ["Metric"] = "dau", ["Stakeholder"] = "platform", ["Tier"] = "core", ["Dimension"] = "miniProgram", ["DimensionValue"] = "wx_007",
            ["Value"] = 7.0, ["Unit"] = "users", ["ComputedAt"] = earlier, ["RunId"] = "run-old",
        });
        // Before the re-roll, the query side reads it where it is (a day rolled before the buckets existed).
        var reader = new TableMetricsReader(azurite.Tables);
        Assert.Single(await reader.ReadDayAsync(day, new MetricRowSelection(false, true, null), None));

        await store.ReplaceDayAsync(day, rows, "run", ComputedAt, None);

        // Moved with the same value: it keeps when and by which run it was computed.
        var moved = (await daily.GetEntityAsync<TableEntity>($"{dayKey}|{MetricRowKeys.Bucket("wx_007"):D2}", "dau|miniProgram|wx_007")).Value;
        Assert.Equal(("run-old", earlier), (moved.GetString("RunId"), moved.GetDateTimeOffset("ComputedAt")));

        var partitions = new Dictionary<string, int>();
        await foreach (var e in daily.QueryAsync<TableEntity>(DayRange(day), select: ["PartitionKey", "RowKey"]))
            partitions[e.PartitionKey] = partitions.GetValueOrDefault(e.PartitionKey) + 1;
        Assert.Equal(1, partitions[dayKey]); // the ecosystem row only: the old-layout row moved to its bucket
        Assert.True(partitions.Count > 40, $"200 mini-programs over {partitions.Count - 1} buckets");
        Assert.All(partitions.Keys.Where(k => k != dayKey), k => Assert.Matches($"^{dayKey}\\|[0-6][0-9]$", k));
        Assert.Equal(201, partitions.Values.Sum());
        Assert.Equal(rows.OrderBy(MetricRowKeys.DailyRowKey, StringComparer.Ordinal), (await store.ReadDayAsync(day, None)).OrderBy(MetricRowKeys.DailyRowKey, StringComparer.Ordinal));
        // The next day's range does not see this day's buckets.
        Assert.Empty(await store.ReadDayAsync(day.AddDays(1), None));
    }

    [Fact]
    public async Task A_row_left_in_both_layouts_by_an_interrupted_move_is_answered_once()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var daily = azurite.Tables.GetTableClient(StorageNames.DailyMetricsTable);
        var day = AzuriteFixture.UniqueDay();
        var rows = new[] { Row(day, "northstar.engaged_users", "total", "", 3), Row(day, "users.dau", "miniProgram", "wx_twice", 2) };
        await store.ReplaceDayAsync(day, rows, "run", ComputedAt, None);
        // As a re-roll stopped between writing the bucket row and deleting the old one leaves it.
        await daily.UpsertEntityAsync(new TableEntity(MetricRowKeys.PartitionKey(day), "users.dau|miniProgram|wx_twice")
        {
            ["Metric"] = "users.dau", ["Stakeholder"] = "platform", ["Tier"] = "core", ["Dimension"] = "miniProgram", ["DimensionValue"] = "wx_twice",
            ["Value"] = 2.0, ["Unit"] = "users",
        });
        Assert.Equal(2, (await new TableMetricsReader(azurite.Tables).ReadDayAsync(day, MetricRowSelection.All, None)).Count(r => r.Row.DimensionValue == "wx_twice"));

        var query = new Pipeline.Core.Query.MetricQuery(day, day, ["users.dau"], null, null, null, null, null, 100, null);
        var (page, error) = await new Pipeline.Core.Query.MetricQueryService(new TableMetricsReader(azurite.Tables))
            .RunAsync(query, Pipeline.Core.Query.ReadAccess.Platform("test"), None);

        Assert.Null(error);
        Assert.Single(page!.Rows, r => r.Row.DimensionValue == "wx_twice");
    }

    private static string DayRange(DateOnly day) =>
        TableClient.CreateQueryFilter($"PartitionKey ge {MetricRowKeys.PartitionKey(day)} and PartitionKey lt {MetricRowKeys.PartitionRangeEnd(day)}");

    [Fact]
    public async Task Dimension_values_are_escaped_in_keys_and_unescaped_in_properties()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var day = AzuriteFixture.UniqueDay();
        var page = Row(day, "pv", "miniProgram.page", "wx_b/pages/a?x=1#h", 3);
        var currency = Row(day, "gmv", "miniProgram.currency", "wx_b/CNY", 9.5);

        await store.ReplaceDayAsync(day, [page, currency], "run", ComputedAt, None);

        var daily = azurite.Tables.GetTableClient(StorageNames.DailyMetricsTable);
        var entity = (await daily.GetEntityAsync<TableEntity>(MetricRowKeys.DailyPartitionKey(page), "pv|miniProgram.page|wx_b%2Fpages%2Fa%3Fx=1%23h")).Value;
        Assert.Equal("wx_b/pages/a?x=1#h", entity.GetString("DimensionValue"));

        var program = azurite.Tables.GetTableClient(StorageNames.ProgramDailyMetricsTable);
        Assert.Equal(2, await CountAsync(program, "wx_b", MetricRowKeys.PartitionKey(day)));
        var programEntity = (await program.GetEntityAsync<TableEntity>("wx_b", $"{MetricRowKeys.PartitionKey(day)}|gmv|miniProgram.currency|wx_b%2FCNY")).Value;
        Assert.Equal("wx_b/CNY", programEntity.GetString("DimensionValue"));

        Assert.Equal([currency, page], (await store.ReadDayAsync(day, None)).OrderBy(r => r.Metric));

        // Replacing with nothing empties the day everywhere.
        await store.ReplaceDayAsync(day, [], "run-empty", ComputedAt, None);
        Assert.Empty(await store.ReadDayAsync(day, None));
        Assert.Equal(0, await CountAsync(program, "wx_b", MetricRowKeys.PartitionKey(day)));
    }

    private static async Task<List<string>> KeysAsync(TableClient table, string partition)
    {
        var keys = new List<string>();
        await foreach (var e in table.QueryAsync<TableEntity>(e => e.PartitionKey == partition)) keys.Add(e.RowKey);
        return keys;
    }

    private static async Task<int> CountAsync(TableClient table, string partition, string? dayPrefix = null) =>
        (await KeysAsync(table, partition)).Count(k => dayPrefix is null || k.StartsWith(dayPrefix + "|", StringComparison.Ordinal));
}
