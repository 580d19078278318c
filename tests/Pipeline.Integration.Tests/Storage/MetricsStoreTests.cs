using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Tables;

namespace Pipeline.Integration.Tests.Storage;

/// <summary>The packed metric tables (<see cref="TableMetricsStore"/>, <see cref="TableMetricsReader"/>) against Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class MetricsStoreTests(AzuriteFixture azurite)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset ComputedAt = new(2026, 11, 24, 16, 30, 0, TimeSpan.Zero);

    private static MetricRow Row(DateOnly day, string metric, string dimension, string value, double v, double? num = null, double? den = null) =>
        new(day, metric, "platform", "core", dimension, value, v, num, den, num is null ? "users" : "ratio");

    private TableClient Daily => azurite.Tables.GetTableClient(StorageNames.DailyMetricsTable);
    private TableClient Program => azurite.Tables.GetTableClient(StorageNames.ProgramDailyMetricsTable);

    [Fact]
    public async Task A_day_is_packed_by_metric_and_dimension_and_each_mini_programs_rows_in_its_own_partition()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var day = AzuriteFixture.UniqueDay();
        var dayKey = MetricRowKeys.PartitionKey(day);
        var rows = new List<MetricRow>
        {
            Row(day, "northstar.engaged_users", "total", "", 3),
            Row(day, "dau", "total", "", 10),
            Row(day, "dau", "platform", "ios", 6),
            Row(day, "dau", "miniProgram", "wx_a", 4),
            Row(day, "dau", "miniProgram", "wx_b", 2),
            Row(day, "gmv", "miniProgram.currency", "wx_a/CNY", 99.5),
            Row(day, "pv", "miniProgram.page", "wx_a/pages/a?x=1#h", 3),
        };

        await store.ReplaceDayAsync(day, rows, "run-1", ComputedAt, None);

        Assert.Equal(
            [$"{dayKey}|e dau|platform|0000", $"{dayKey}|e dau|total|0000", $"{dayKey}|e northstar.engaged_users|total|0000",
             $"{dayKey}|p dau|miniProgram|0000", $"{dayKey}|p gmv|miniProgram.currency|0000", $"{dayKey}|p pv|miniProgram.page|0000"],
            await KeysAsync(Daily, MetricTableKeys.DayFilter(day)));
        Assert.Equal([$"wx_a {dayKey}|0000"], await KeysAsync(Program, MetricTableKeys.ProgramDaysFilter("wx_a", day, day)));
        Assert.Equal([$"wx_b {dayKey}|0000"], await KeysAsync(Program, MetricTableKeys.ProgramDaysFilter("wx_b", day, day)));

        var reader = new TableMetricsReader(azurite.Tables);
        Assert.Equal(Sorted(rows), Sorted((await reader.ReadDayAsync(day, MetricRowSelection.All, None)).Select(r => r.Row)));
        Assert.Equal(3, (await reader.ReadDayAsync(day, new MetricRowSelection(true, false, null), None)).Count);
        Assert.Equal(["dau|miniProgram|wx_a", "gmv|miniProgram.currency|wx_a%2FCNY", "pv|miniProgram.page|wx_a%2Fpages%2Fa%3Fx=1%23h"],
            (await reader.ReadProgramAsync("wx_a", day, day, null, None)).Select(r => MetricRowKeys.DailyRowKey(r.Row)));
        Assert.Equal(["dau|total|", "dau|platform|ios", "dau|miniProgram|wx_a", "dau|miniProgram|wx_b"],
            (await reader.ReadDayAsync(day, new MetricRowSelection(true, true, "dau|"), None)).Select(r => MetricRowKeys.DailyRowKey(r.Row)).OrderBy(k => k.Length).ThenBy(k => k, StringComparer.Ordinal));
        Assert.Equal(["gmv"], (await reader.ReadProgramAsync("wx_a", day, day, "gm", None)).Select(r => r.Row.Metric));
        Assert.Empty(await reader.ReadProgramAsync("wx_a", day, day, "gm|", None));
        Assert.All(await reader.ReadDayAsync(day, MetricRowSelection.All, None), r => Assert.Equal(("run-1", ComputedAt, false), (r.RunId, r.ComputedAt, r.Restated)));
        Assert.Equal(new HashSet<DateOnly> { day }, await reader.RolledUpDaysAsync(day.AddDays(-1), day.AddDays(1), None));

        // What a person browsing the table sees beside the packed bytes.
        var pack = (await Daily.GetEntityAsync<TableEntity>($"{dayKey}|p", "dau|miniProgram|0000")).Value;
        Assert.Equal(2, pack.GetInt32("Count"));
    }

    [Fact]
    public async Task A_reroll_rewrites_only_the_packs_whose_rows_changed_and_unchanged_rows_keep_their_run()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var reader = new TableMetricsReader(azurite.Tables);
        var day = AzuriteFixture.UniqueDay();
        var dayKey = MetricRowKeys.PartitionKey(day);
        await store.ReplaceDayAsync(day, [Row(day, "dau", "total", "", 10), Row(day, "dau", "miniProgram", "wx_same", 4), Row(day, "dau", "miniProgram", "wx_moved", 6), Row(day, "wau", "total", "", 20)], "run-1", ComputedAt, None);
        var before = await EtagsAsync(day, "wx_same", "wx_moved");

        await store.ReplaceDayAsync(day, [Row(day, "dau", "total", "", 11), Row(day, "dau", "miniProgram", "wx_same", 4), Row(day, "dau", "miniProgram", "wx_moved", 7), Row(day, "wau", "total", "", 20)], "run-2", ComputedAt.AddHours(1), None);
        var after = await EtagsAsync(day, "wx_same", "wx_moved");

        // Not written again: the unchanged ecosystem pack and the unchanged mini-program's day.
        Assert.Equal(before[$"{dayKey}|e wau|total|0000"], after[$"{dayKey}|e wau|total|0000"]);
        Assert.Equal(before[$"wx_same {dayKey}|0000"], after[$"wx_same {dayKey}|0000"]);
        // Written again: the packs that hold a changed value.
        Assert.NotEqual(before[$"{dayKey}|e dau|total|0000"], after[$"{dayKey}|e dau|total|0000"]);
        Assert.NotEqual(before[$"{dayKey}|p dau|miniProgram|0000"], after[$"{dayKey}|p dau|miniProgram|0000"]);
        Assert.NotEqual(before[$"wx_moved {dayKey}|0000"], after[$"wx_moved {dayKey}|0000"]);

        var rows = (await reader.ReadDayAsync(day, MetricRowSelection.All, None)).ToDictionary(r => MetricRowKeys.DailyRowKey(r.Row));
        Assert.Equal(("run-1", ComputedAt, false, (double?)null), Marks(rows["dau|miniProgram|wx_same"]));
        Assert.Equal(("run-2", ComputedAt.AddHours(1), true, (double?)6), Marks(rows["dau|miniProgram|wx_moved"]));
        Assert.Equal(("run-2", ComputedAt.AddHours(1), true, (double?)10), Marks(rows["dau|total|"]));
        Assert.Equal(("run-1", ComputedAt, false, (double?)null), Marks(rows["wau|total|"]));
        Assert.Equal(Marks(rows["dau|miniProgram|wx_moved"]), Marks((await reader.ReadProgramAsync("wx_moved", day, day, null, None)).Single()));

        // A third roll with the same values keeps the marks the second gave (restated, and the value before it).
        await store.ReplaceDayAsync(day, [Row(day, "dau", "total", "", 11), Row(day, "dau", "miniProgram", "wx_same", 4), Row(day, "dau", "miniProgram", "wx_moved", 7), Row(day, "wau", "total", "", 20)], "run-3", ComputedAt.AddHours(2), None);
        Assert.Equal(after, await EtagsAsync(day, "wx_same", "wx_moved"));
        var third = (await reader.ReadDayAsync(day, MetricRowSelection.All, None)).ToDictionary(r => MetricRowKeys.DailyRowKey(r.Row));
        Assert.Equal(("run-2", ComputedAt.AddHours(1), true, (double?)6), Marks(third["dau|miniProgram|wx_moved"]));
    }

    [Fact]
    public async Task Replacing_a_day_leaves_no_stale_pack_and_keeps_the_next_days_rows()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var reader = new TableMetricsReader(azurite.Tables);
        var day = AzuriteFixture.UniqueDay();
        var next = day.AddDays(1);
        var dayKey = MetricRowKeys.PartitionKey(day);

        // 2,500 page rows of one mini-program: three packs of at most 1,000 rows in DailyMetrics, three in its partition.
        var first = new List<MetricRow>
        {
            Row(day, "dau", "total", "", 10),
            Row(day, "dau", "miniProgram", "wx_a", 4),
            Row(day, "dau", "miniProgram", "wx_old", 1),
            Row(day, "conversion", "total", "", 0.25, 1, 4),
        };
        first.AddRange(Enumerable.Range(0, 2500).Select(i => Row(day, "pv", "miniProgram.page", $"wx_a/pages/p{i:D4}", i)));
        await store.ReplaceDayAsync(day, first, "run-1", ComputedAt, None);
        await store.ReplaceDayAsync(next, [Row(next, "dau", "miniProgram", "wx_old", 2)], "run-n", ComputedAt, None);

        Assert.Equal(Sorted(first), Sorted((await reader.ReadDayAsync(day, MetricRowSelection.All, None)).Select(r => r.Row)));
        Assert.Equal([$"{dayKey}|p pv|miniProgram.page|0000", $"{dayKey}|p pv|miniProgram.page|0001", $"{dayKey}|p pv|miniProgram.page|0002"],
            (await KeysAsync(Daily, MetricTableKeys.DayFilter(day))).Where(k => k.Contains(" pv|", StringComparison.Ordinal)));
        Assert.Equal([$"wx_a {dayKey}|0000", $"wx_a {dayKey}|0001", $"wx_a {dayKey}|0002"], await KeysAsync(Program, MetricTableKeys.ProgramDaysFilter("wx_a", day, day)));
        Assert.Equal(2501, (await reader.ReadProgramAsync("wx_a", day, day, null, None)).Count);

        var second = new List<MetricRow>
        {
            Row(day, "dau", "total", "", 11),
            Row(day, "dau", "miniProgram", "wx_a", 5),
            Row(day, "dau", "miniProgram", "wx_new", 1),
            Row(day, "conversion", "total", "", 0.5, 2, 4),
        };
        await store.ReplaceDayAsync(day, second, "run-2", ComputedAt.AddHours(1), None);

        Assert.Equal(Sorted(second), Sorted(await store.ReadDayAsync(day, None)));
        Assert.Equal([$"{dayKey}|e conversion|total|0000", $"{dayKey}|e dau|total|0000", $"{dayKey}|p dau|miniProgram|0000"], await KeysAsync(Daily, MetricTableKeys.DayFilter(day)));
        Assert.Equal([$"wx_a {dayKey}|0000"], await KeysAsync(Program, MetricTableKeys.ProgramDaysFilter("wx_a", day, day)));
        Assert.Equal([$"wx_new {dayKey}|0000"], await KeysAsync(Program, MetricTableKeys.ProgramDaysFilter("wx_new", day, day)));
        Assert.Empty(await KeysAsync(Program, MetricTableKeys.ProgramDaysFilter("wx_old", day, day)));
        Assert.Equal([Row(next, "dau", "miniProgram", "wx_old", 2)], (await reader.ReadProgramAsync("wx_old", day, next, null, None)).Select(r => r.Row));

        // A ratio keeps its numerator and denominator; a count has neither.
        var stored = (await reader.ReadDayAsync(day, MetricRowSelection.All, None)).ToDictionary(r => MetricRowKeys.DailyRowKey(r.Row));
        Assert.Equal((0.5, (double?)2, (double?)4), (stored["conversion|total|"].Row.Value, stored["conversion|total|"].Row.Numerator, stored["conversion|total|"].Row.Denominator));
        Assert.Equal(((double?)null, (double?)null), (stored["dau|total|"].Row.Numerator, stored["dau|total|"].Row.Denominator));
        Assert.Equal(("run-2", true, (double?)0.25), (stored["conversion|total|"].RunId, stored["conversion|total|"].Restated, stored["conversion|total|"].PreviousValue));
        Assert.False(stored["dau|miniProgram|wx_new"].Restated);

        // Replacing with nothing empties the day everywhere.
        await store.ReplaceDayAsync(day, [], "run-empty", ComputedAt, None);
        Assert.Empty(await store.ReadDayAsync(day, None));
        Assert.Empty(await KeysAsync(Program, MetricTableKeys.ProgramDaysFilter("wx_a", day, day)));
        Assert.Empty(await reader.RolledUpDaysAsync(day, day, None));
    }

    [Fact]
    public async Task A_day_of_the_layout_before_packing_is_read_and_rewritten_packed_when_rolled_again()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var reader = new TableMetricsReader(azurite.Tables);
        var day = AzuriteFixture.UniqueDay();
        var dayKey = MetricRowKeys.PartitionKey(day);
        var earlier = ComputedAt.AddDays(-3);
        // One entity per row, as the earlier release wrote them: the ecosystem row in the day's partition, a mini-program's
        // row in a bucket partition, and its copy in the mini-program's partition.
        await Daily.UpsertEntityAsync(OneRow(dayKey, "northstar.engaged_users|total|", Row(day, "northstar.engaged_users", "total", "", 3), earlier));
        await Daily.UpsertEntityAsync(OneRow($"{dayKey}|07", "dau|miniProgram|wx_007", Row(day, "dau", "miniProgram", "wx_007", 7), earlier));
        await Program.UpsertEntityAsync(OneRow("wx_007", $"{dayKey}|dau|miniProgram|wx_007", Row(day, "dau", "miniProgram", "wx_007", 7), earlier));

        Assert.Equal(new HashSet<DateOnly> { day }, await reader.RolledUpDaysAsync(day, day, None));
        Assert.Single(await reader.ReadDayAsync(day, new MetricRowSelection(true, false, null), None));
        Assert.Equal(2, (await reader.ReadDayAsync(day, MetricRowSelection.All, None)).Count);
        Assert.Equal(("run-old", earlier), Single(await reader.ReadProgramAsync("wx_007", day, day, null, None)));

        await store.ReplaceDayAsync(day, [Row(day, "northstar.engaged_users", "total", "", 3), Row(day, "dau", "miniProgram", "wx_007", 7), Row(day, "dau", "miniProgram", "wx_008", 8)], "run-new", ComputedAt, None);

        Assert.Equal([$"{dayKey}|e northstar.engaged_users|total|0000", $"{dayKey}|p dau|miniProgram|0000"], await KeysAsync(Daily, MetricTableKeys.DayFilter(day)));
        Assert.Equal([$"wx_007 {dayKey}|0000"], await KeysAsync(Program, MetricTableKeys.ProgramDaysFilter("wx_007", day, day)));
        // Unchanged values keep when and by which run they were computed.
        Assert.Equal(("run-old", earlier), Single(await reader.ReadProgramAsync("wx_007", day, day, null, None)));
        Assert.Equal(new HashSet<DateOnly> { day }, await reader.RolledUpDaysAsync(day, day, None));
        Assert.Empty(await reader.RolledUpDaysAsync(day.AddDays(1), day.AddDays(1), None));
    }

    [Fact]
    public async Task A_row_left_twice_by_an_interrupted_replace_is_answered_once_with_the_newer_value()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var day = AzuriteFixture.UniqueDay();
        var rows = new[] { Row(day, "northstar.engaged_users", "total", "", 3), Row(day, "users.dau", "miniProgram", "wx_twice", 2) };
        await store.ReplaceDayAsync(day, rows, "run", ComputedAt, None);
        // As a replace stopped before deleting what it replaced leaves it: the row in the layout before packing.
        await Daily.UpsertEntityAsync(OneRow(MetricRowKeys.PartitionKey(day), "users.dau|miniProgram|wx_twice", Row(day, "users.dau", "miniProgram", "wx_twice", 1), ComputedAt.AddDays(1)));

        var read = await new TableMetricsReader(azurite.Tables).ReadDayAsync(day, MetricRowSelection.All, None);
        Assert.Equal(2.0, Assert.Single(read, r => r.Row.DimensionValue == "wx_twice").Row.Value);

        var query = new Pipeline.Core.Query.MetricQuery(day, day, ["users.dau"], null, null, null, null, null, 100, null);
        var (page, error) = await new Pipeline.Core.Query.MetricQueryService(new TableMetricsReader(azurite.Tables))
            .RunAsync(query, Pipeline.Core.Query.ReadAccess.Platform("test"), None);
        Assert.Null(error);
        Assert.Equal(2.0, Assert.Single(page!.Rows, r => r.Row.DimensionValue == "wx_twice").Row.Value);

        // The next replace removes the leftover.
        await store.ReplaceDayAsync(day, rows, "run-2", ComputedAt, None);
        Assert.DoesNotContain(await KeysAsync(Daily, MetricTableKeys.DayFilter(day)), k => k.StartsWith(MetricRowKeys.PartitionKey(day) + " ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_day_of_many_mini_programs_writes_one_entity_per_mini_program_and_a_few_packs()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var day = AzuriteFixture.UniqueDay();
        var rows = Enumerable.Range(0, 300).SelectMany(i => new[]
        {
            Row(day, "dau", "miniProgram", $"wx_{i:D3}", i),
            Row(day, "sessions", "miniProgram", $"wx_{i:D3}", 2 * i),
            Row(day, "pv", "miniProgram.page", $"wx_{i:D3}/pages/index", 3 * i),
        }).Append(Row(day, "northstar.engaged_users", "total", "", 300)).ToList();

        await store.ReplaceDayAsync(day, rows, "run", ComputedAt, None);

        Assert.Equal(4, (await KeysAsync(Daily, MetricTableKeys.DayFilter(day))).Count);
        Assert.Equal(300, await CountProgramEntitiesAsync(day));
        var reader = new TableMetricsReader(azurite.Tables);
        foreach (var i in new[] { 0, 150, 299 })
            Assert.Equal([("dau", (double)i), ("pv", 3.0 * i), ("sessions", 2.0 * i)],
                (await reader.ReadProgramAsync($"wx_{i:D3}", day, day, null, None)).Select(r => (r.Row.Metric, r.Row.Value)).OrderBy(r => r.Metric, StringComparer.Ordinal));
        Assert.Equal(Sorted(rows), Sorted(await store.ReadDayAsync(day, None)));
    }

    private static TableEntity OneRow(string partition, string rowKey, MetricRow row, DateTimeOffset computedAt) => new(partition, rowKey)
    {
        ["Metric"] = row.Metric, ["Stakeholder"] = row.Stakeholder, ["Tier"] = row.Tier, ["Dimension"] = row.Dimension, ["DimensionValue"] = row.DimensionValue,
        ["Value"] = row.Value, ["Unit"] = row.Unit, ["ComputedAt"] = computedAt, ["RunId"] = "run-old",
    };

    private static (string?, DateTimeOffset?) Single(IReadOnlyList<StoredMetricRow> rows) => (rows.Single().RunId, rows.Single().ComputedAt);

    private static (string?, DateTimeOffset?, bool, double?) Marks(StoredMetricRow row) => (row.RunId, row.ComputedAt, row.Restated, row.PreviousValue);

    private static List<MetricRow> Sorted(IEnumerable<MetricRow> rows) => rows.OrderBy(MetricRowKeys.DailyRowKey, StringComparer.Ordinal).ToList();

    private async Task<Dictionary<string, string>> EtagsAsync(DateOnly day, params string[] programs)
    {
        var etags = new Dictionary<string, string>();
        await foreach (var e in Daily.QueryAsync<TableEntity>(MetricTableKeys.DayFilter(day))) etags[$"{e.PartitionKey} {e.RowKey}"] = e.ETag.ToString();
        foreach (var program in programs)
            await foreach (var e in Program.QueryAsync<TableEntity>(MetricTableKeys.ProgramDaysFilter(program, day, day))) etags[$"{e.PartitionKey} {e.RowKey}"] = e.ETag.ToString();
        return etags;
    }

    private async Task<int> CountProgramEntitiesAsync(DateOnly day)
    {
        var key = MetricRowKeys.PartitionKey(day);
        var count = 0;
        await foreach (var _ in Program.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey ge {key + "|"} and RowKey lt {key + "}"}"), select: ["RowKey"])) count++;
        return count;
    }

    /// <summary>"PartitionKey RowKey" of every entity the filter selects, in key order.</summary>
    private static async Task<List<string>> KeysAsync(TableClient table, string filter)
    {
        var keys = new List<string>();
        await foreach (var e in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"])) keys.Add($"{e.PartitionKey} {e.RowKey}");
        return keys.Order(StringComparer.Ordinal).ToList();
    }
}
