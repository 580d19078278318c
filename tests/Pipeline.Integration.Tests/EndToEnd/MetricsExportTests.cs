using System.Globalization;
using System.Net;
using DuckDB.NET.Data;
using Pipeline.Core.Export;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Local.Cli;
using Pipeline.Local.Hosting;

namespace Pipeline.Integration.Tests.EndToEnd;

/// <summary>
/// The daily exports after a real rollup on Azurite (this class's own instance, since the rollup's
/// cursor is per account): the Parquet file beside each CSV, read back by DuckDB (an engine that
/// shares no code with Parquet.Net, which wrote it), and <c>export --from/--to --format</c> writing the
/// Hive layout that the query of docs/exports.md reads.
/// </summary>
public sealed class MetricsExportTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IAsyncLifetime, IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _folder = Directory.CreateTempSubdirectory("pipeline-export-").FullName;
    private PipelineHost _host = null!;
    private Dataset _data = null!;

    /// <summary>The days the rollup wrote: the dataset's day before, its day, and yesterday (no events, still rolled).</summary>
    private DateOnly[] _rolled = [];

    public async Task InitializeAsync()
    {
        _host = await PipelineHost.StartAsync(azurite.ConnectionString);
        _data = new Dataset(TimeProvider.System);
        // Rolled once for the whole class (xunit makes one fixture per class; the first test rolls, the others find the days rolled).
        if (await _host.Get<IExportStore>().ReadDailyAsync(_data.Day, None) is null)
        {
            var key = await _host.CreateKeyAsync(AzuriteFixture.Unique("export-"));
            using var response = await _host.PostAsync(key, _data.Body());
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            await _host.WaitForProcessingAsync();
            await _host.Services.RunRollupDueAsync(None);
        }
        _rolled = [_data.Day.AddDays(-1), _data.Day, _data.Day.AddDays(1)];
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Each_rolled_day_has_a_parquet_export_that_duckdb_reads_as_the_csv_rows_in_the_csv_order()
    {
        var exports = _host.Get<IExportStore>();
        foreach (var day in _rolled)
        {
            var csv = DailyCsv.Read(await exports.ReadDailyAsync(day, None) ?? throw new Xunit.Sdk.XunitException($"no CSV for {day}"));
            var parquet = await exports.ReadDailyParquetAsync(day, None) ?? throw new Xunit.Sdk.XunitException($"no Parquet for {day}");
            Assert.NotEmpty(csv);
            var file = Path.Combine(_folder, $"{day:yyyy-MM-dd}.parquet");
            await File.WriteAllBytesAsync(file, parquet);

            var read = DuckDb.Rows($"SELECT * FROM read_parquet('{file}', file_row_number = true) ORDER BY file_row_number");
            Assert.Equal(csv, read);
            // And Parquet.Net's own reader agrees (the store's read path is what the CLI copies).
            using var stream = new MemoryStream(parquet);
            Assert.Equal(csv, await Pipeline.Storage.Blobs.MetricsParquet.ReadAsync(stream, None));
        }

        // The dataset's hand-checked numbers are in it, so equal-to-the-CSV is not equal-and-empty.
        var day0 = DuckDb.Rows($"SELECT * FROM read_parquet('{Path.Combine(_folder, $"{_data.Day:yyyy-MM-dd}.parquet")}')");
        Assert.Equal(Dataset.ExpectedDau, day0.Single(r => r.Metric == "users.dau" && r.Dimension == "total").Value);
        var share = day0.Single(r => r.Metric == "users.channel_share" && r.Dimension == "channel" && r.DimensionValue == "recent");
        Assert.Equal((1.0, 3.0), (share.Numerator, share.Denominator));

        // The column types analysts' engines see: DATE, DOUBLE, and nullable ratios.
        var types = DuckDb.Strings($"SELECT column_name || ' ' || column_type || ' ' || \"null\" FROM (DESCRIBE SELECT * FROM read_parquet('{Path.Combine(_folder, $"{_data.Day:yyyy-MM-dd}.parquet")}'))");
        Assert.Equal(
            ["date DATE YES", "stakeholder VARCHAR YES", "tier VARCHAR YES", "metric VARCHAR YES", "dimension VARCHAR YES", "dimension_value VARCHAR YES",
             "value DOUBLE YES", "numerator DOUBLE YES", "denominator DOUBLE YES", "unit VARCHAR YES"], types);
        Assert.Equal(DailyCsv.Header, string.Join(",", types.Select(t => t.Split(' ')[0])));
        Assert.True(day0.Any(r => r.Numerator is null) && day0.Any(r => r.Numerator is not null));
    }

    [Fact]
    public async Task A_re_roll_overwrites_the_days_parquet_export()
    {
        var exports = _host.Get<IExportStore>();
        var day = _data.Day;
        var before = await exports.ReadDailyParquetAsync(day, None);
        Assert.NotNull(before);
        // Something that is not the day's export: only a rewrite makes the assertions below pass.
        await exports.WriteDailyParquetAsync(day, [new MetricRow(day, "users.dau", "users", "core", "total", "", 999, null, null, "users")], None);

        await _host.Services.RunRollupRangeAsync(day, day, None);

        var after = await exports.ReadDailyParquetAsync(day, None) ?? throw new Xunit.Sdk.XunitException("no Parquet after the re-roll");
        var file = Path.Combine(_folder, "reroll.parquet");
        await File.WriteAllBytesAsync(file, after);
        var csv = DailyCsv.Read((await exports.ReadDailyAsync(day, None))!);
        Assert.Equal(csv, DuckDb.Rows($"SELECT * FROM read_parquet('{file}', file_row_number = true) ORDER BY file_row_number"));
        Assert.Equal(Dataset.ExpectedDau, csv.Single(r => r.Metric == "users.dau" && r.Dimension == "total").Value);
    }

    [Fact]
    public async Task Export_from_to_as_parquet_writes_the_hive_layout_that_the_documented_duckdb_query_reads()
    {
        var exports = _host.Get<IExportStore>();
        var today = _data.Day.AddDays(2); // not rolled up yet
        var output = new StringWriter();
        var errors = new StringWriter();
        var request = ExportCommand.ParseArguments("--from", Iso(_rolled[0]), "--to", Iso(today), "--format", "parquet", "--out", Path.Combine(_folder, "month"));

        var exit = await ExportCommand.RunAsync(_host.Services, request, output, errors, None);

        Assert.True(exit == ExportCommand.ExitSomeDaysMissing, output.ToString() + errors);
        Assert.Contains($"3 file(s) written, 1 day(s) missing (not rolled up: {Iso(today)})", output.ToString());
        Assert.Contains($"{Iso(today)}: not rolled up (no exports/parquet/date={Iso(today)}/metrics.parquet)", errors.ToString());
        foreach (var day in _rolled)
            Assert.Equal(await exports.ReadDailyParquetAsync(day, None), await File.ReadAllBytesAsync(Path.Combine(_folder, "month", $"date={Iso(day)}", "metrics.parquet")));
        Assert.False(Directory.Exists(Path.Combine(_folder, "month", $"date={Iso(today)}")));

        // What every day's CSV says, to check the query's answers against.
        var csv = new Dictionary<DateOnly, IReadOnlyList<MetricRow>>();
        foreach (var day in _rolled) csv[day] = DailyCsv.Read((await exports.ReadDailyAsync(day, None))!);

        // The query of docs/exports.md, over the folder (the exports container's parquet/ folder has the same layout).
        var glob = Path.Combine(_folder, "month", "date=*", "metrics.parquet");
        var perDay = DuckDb.Strings(
            $"""
            SELECT CAST(date AS VARCHAR) || ' ' || count(*) || ' ' || sum(value) FILTER (WHERE metric = 'users.dau' AND dimension = 'total')
            FROM read_parquet('{glob}', hive_partitioning = true)
            WHERE date BETWEEN DATE '{Iso(_rolled[0])}' AND DATE '{Iso(_rolled[^1])}'
            GROUP BY date ORDER BY date
            """);
        Assert.Equal(
            _rolled.Select(d => $"{Iso(d)} {csv[d].Count} {csv[d].Single(r => r.Metric == "users.dau" && r.Dimension == "total").Value.ToString("0.0", CultureInfo.InvariantCulture)}"),
            perDay);
        Assert.Equal($"{Iso(_data.Day)} 3.0", $"{perDay[1].Split(' ')[0]} {perDay[1].Split(' ')[2]}"); // the dataset's DAU, by hand

        // A narrower range prunes whole days, and the totals add up across the files.
        var narrowed = DuckDb.Strings(
            $"""
            SELECT count(*) || ' ' || count(DISTINCT date) || ' ' || sum(value) FILTER (WHERE metric = 'users.new' AND dimension = 'total')
            FROM read_parquet('{glob}', hive_partitioning = true)
            WHERE date BETWEEN DATE '{Iso(_rolled[0])}' AND DATE '{Iso(_data.Day)}'
            """);
        var newUsers = _rolled[..2].Sum(d => csv[d].Single(r => r.Metric == "users.new" && r.Dimension == "total").Value);
        Assert.Equal([$"{csv[_rolled[0]].Count + csv[_rolled[1]].Count} 2 {newUsers.ToString("0.0", CultureInfo.InvariantCulture)}"], narrowed);
        Assert.Equal(Dataset.ExpectedNewUsers + 1, newUsers); // u3 on the day before, u1 and u2 on the day
        Assert.Equal(["DATE"], DuckDb.Strings($"SELECT DISTINCT typeof(date) FROM read_parquet('{glob}', hive_partitioning = true)"));

        // The filter on date is applied to the folder names: a folder outside the range is never opened (this one, last in the glob's order, is not Parquet; DuckDB reads the first file for the schema).
        Directory.CreateDirectory(Path.Combine(_folder, "month", "date=2999-12-31"));
        await File.WriteAllTextAsync(Path.Combine(_folder, "month", "date=2999-12-31", "metrics.parquet"), "not parquet");
        Assert.Equal(narrowed, DuckDb.Strings(
            $"""
            SELECT count(*) || ' ' || count(DISTINCT date) || ' ' || sum(value) FILTER (WHERE metric = 'users.new' AND dimension = 'total')
            FROM read_parquet('{glob}', hive_partitioning = true)
            WHERE date BETWEEN DATE '{Iso(_rolled[0])}' AND DATE '{Iso(_data.Day)}'
            """));
        Assert.ThrowsAny<Exception>(() => DuckDb.Strings($"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)"));
    }

    [Fact]
    public async Task Export_from_to_as_csv_writes_each_days_csv_and_exits_0_when_every_day_is_there()
    {
        var exports = _host.Get<IExportStore>();
        var output = new StringWriter();
        var errors = new StringWriter();
        var request = ExportCommand.ParseArguments("--from", Iso(_rolled[0]), "--to", Iso(_rolled[^1]), "--out", Path.Combine(_folder, "csv"));
        Assert.Equal(ExportFormat.Csv, request.Format);

        Assert.Equal(0, await ExportCommand.RunAsync(_host.Services, request, output, errors, None));

        Assert.Contains("3 file(s) written, 0 day(s) missing", output.ToString());
        foreach (var day in _rolled)
            Assert.Equal(await exports.ReadDailyAsync(day, None), await File.ReadAllBytesAsync(Path.Combine(_folder, "csv", $"{Iso(day)}.csv")));
        Assert.Equal(_rolled.Select(d => $"{Iso(d)}.csv").Order(), Directory.GetFiles(Path.Combine(_folder, "csv")).Select(Path.GetFileName).Order()!);
    }

    [Fact]
    public async Task Export_of_one_day_keeps_working_and_a_missing_day_is_a_clear_error()
    {
        var file = Path.Combine(_folder, "one.parquet");
        Assert.Equal(0, await ExportCommand.RunAsync(_host.Services, ExportCommand.ParseArguments("--date", Iso(_data.Day), "--format", "parquet", "--out", file), TextWriter.Null, TextWriter.Null, None));
        Assert.Equal(await _host.Get<IExportStore>().ReadDailyParquetAsync(_data.Day, None), await File.ReadAllBytesAsync(file));

        var missing = await Assert.ThrowsAsync<CliException>(() => ExportCommand.RunAsync(_host.Services, ExportCommand.ParseArguments("--date", "2001-01-01"), TextWriter.Null, TextWriter.Null, None));
        Assert.Contains("has not been rolled up", missing.Message);
    }

    private static string Iso(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>The <c>export</c> verb's arguments, as its parser and validation see them (no storage needed).</summary>
public sealed class ExportCommandArgumentTests
{
    private static string Error(params string[] args) => Assert.Throws<CliException>(() => ExportCommand.ParseArguments(args)).Message;

    [Fact]
    public void A_range_is_from_and_to_in_order_and_at_most_366_days()
    {
        var year = ExportCommand.ParseArguments("--from", "2024-01-01", "--to", "2024-12-31", "--format", "parquet", "--out", "x");
        Assert.Equal((new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31), ExportFormat.Parquet, "x", false, 366), (year.From, year.To, year.Format, year.Out, year.SingleDay, year.Days));
        var oneDay = ExportCommand.ParseArguments("--from", "2026-11-23", "--to", "2026-11-23");
        Assert.Equal((1, ExportFormat.Csv, (string?)null), (oneDay.Days, oneDay.Format, oneDay.Out));

        Assert.Contains("--from 2026-11-24 is after --to 2026-11-23", Error("--from", "2026-11-24", "--to", "2026-11-23"));
        var tooLong = Error("--from", "2024-01-01", "--to", "2025-01-01");
        Assert.Contains("367 days", tooLong);
        Assert.Contains("at most 366", tooLong);
        Assert.Contains("--from needs --to", Error("--from", "2026-11-23"));
        Assert.Contains("--to needs --from", Error("--to", "2026-11-23"));
    }

    [Fact]
    public void Bad_dates_and_formats_are_errors_naming_the_option()
    {
        Assert.Contains("--from must be a date as YYYY-MM-DD; got '2026-13-01'", Error("--from", "2026-13-01", "--to", "2026-12-01"));
        Assert.Contains("--to must be a date as YYYY-MM-DD; got '23/11/2026'", Error("--from", "2026-11-01", "--to", "23/11/2026"));
        Assert.Contains("--format must be csv or parquet; got 'xlsx'", Error("--from", "2026-11-01", "--to", "2026-11-02", "--format", "xlsx"));
        Assert.Equal(ExportFormat.Parquet, ExportCommand.ParseArguments("--from", "2026-11-01", "--to", "2026-11-02", "--format", "PARQUET").Format);
    }

    [Fact]
    public void One_day_or_a_range_never_both_and_parquet_of_one_day_needs_a_file()
    {
        var day = ExportCommand.ParseArguments("--date", "2026-11-23");
        Assert.Equal((new DateOnly(2026, 11, 23), new DateOnly(2026, 11, 23), true, ExportFormat.Csv), (day.From, day.To, day.SingleDay, day.Format));
        Assert.Contains("one or the other", Error("--date", "2026-11-23", "--from", "2026-11-01", "--to", "2026-11-02"));
        Assert.Contains("give --date DATE for one day, or --from DATE --to DATE", Error());
        Assert.Contains("--format parquet with --date needs --out FILE", Error("--date", "2026-11-23", "--format", "parquet"));
    }

    [Fact]
    public void Files_go_where_the_hive_layout_and_the_csv_names_say()
    {
        Assert.Equal("2026-11-23.csv", ExportCommand.RelativePath(new DateOnly(2026, 11, 23), ExportFormat.Csv));
        Assert.Equal(Path.Combine("date=2026-11-23", "metrics.parquet"), ExportCommand.RelativePath(new DateOnly(2026, 11, 23), ExportFormat.Parquet));
    }
}

/// <summary>DuckDB in memory, as the second Parquet reader of the tests.</summary>
internal static class DuckDb
{
    /// <summary>The rows of a query over the export's columns (<c>SELECT *</c> of a metrics file, in its column order).</summary>
    public static List<MetricRow> Rows(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT CAST(date AS VARCHAR), stakeholder, tier, metric, dimension, dimension_value, value, numerator, denominator, unit FROM ({sql})";
        using var reader = command.ExecuteReader();
        var rows = new List<MetricRow>();
        while (reader.Read())
        {
            rows.Add(new MetricRow(
                DateOnly.ParseExact(reader.GetString(0), "yyyy-MM-dd", CultureInfo.InvariantCulture),
                reader.GetString(3), reader.GetString(1), reader.GetString(2), reader.GetString(4), reader.GetString(5),
                reader.GetDouble(6),
                reader.IsDBNull(7) ? null : reader.GetDouble(7),
                reader.IsDBNull(8) ? null : reader.GetDouble(8),
                reader.GetString(9)));
        }
        return rows;
    }

    /// <summary>The first column of every row, as strings.</summary>
    public static List<string> Strings(string sql)
    {
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read()) values.Add(Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!);
        return values;
    }
}

/// <summary><see cref="Pipeline.Storage.Blobs.BlobExportStore"/>'s Parquet export on the shared Azurite, with values a CSV must quote.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class MetricsParquetExportStoreTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _folder = Directory.CreateTempSubdirectory("pipeline-parquet-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task The_store_writes_overwrites_and_reads_a_days_parquet_export_at_its_hive_path()
    {
        var store = new Pipeline.Storage.Blobs.BlobExportStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        Assert.Null(await store.ReadDailyParquetAsync(day, None));
        Assert.Equal($"exports/parquet/date={day:yyyy-MM-dd}/metrics.parquet", store.DescribeDailyParquet(day));

        // Out of order, with commas, quotes, a line break, non-ASCII text, empty values, a ratio and tiny and huge numbers.
        MetricRow[] rows =
        [
            new(day, "users.dau", "users", "core", "total", "", 3, null, null, "users"),
            new(day, "businesses.gmv", "businesses", "core", "miniProgram.currency", "wx,1/CNY", 1e-5, null, null, "minor units"),
            new(day, "users.channel_share", "users", "supporting", "channel", "say \"hi\"\r\nthere", 1.0 / 3, 1, 3, "ratio"),
            new(day, "users.dau", "users", "core", "miniProgram.page", "小程序/页面", 1.7976931348623157e308, 0, 0, ""),
        ];
        await store.WriteDailyParquetAsync(day, rows[..1], None);
        await store.WriteDailyParquetAsync(day, rows, None); // a re-roll replaces the file whole

        var bytes = await store.ReadDailyParquetAsync(day, None) ?? throw new Xunit.Sdk.XunitException("not written");
        var file = Path.Combine(_folder, "metrics.parquet");
        await File.WriteAllBytesAsync(file, bytes);
        var expected = DailyCsv.Read(DailyCsv.Write(day, rows)); // what the CSV of these rows reads back as, in its order
        Assert.Equal(DailyCsv.InExportOrder(rows), expected);
        Assert.Equal(expected, DuckDb.Rows($"SELECT * FROM read_parquet('{file}', file_row_number = true) ORDER BY file_row_number"));

        // The physical schema: DATE on int32, doubles, only the ratio columns optional; the schema version in the footer.
        Assert.Equal(
            ["date INT32 DATE REQUIRED", "stakeholder BYTE_ARRAY UTF8 REQUIRED", "tier BYTE_ARRAY UTF8 REQUIRED", "metric BYTE_ARRAY UTF8 REQUIRED",
             "dimension BYTE_ARRAY UTF8 REQUIRED", "dimension_value BYTE_ARRAY UTF8 REQUIRED", "value DOUBLE  REQUIRED",
             "numerator DOUBLE  OPTIONAL", "denominator DOUBLE  OPTIONAL", "unit BYTE_ARRAY UTF8 REQUIRED"],
            DuckDb.Strings($"SELECT name || ' ' || type || ' ' || coalesce(converted_type, '') || ' ' || repetition_type FROM parquet_schema('{file}') WHERE type IS NOT NULL"));
        Assert.Equal([$"metrics/1 {day:yyyy-MM-dd}"], DuckDb.Strings(
            $"SELECT decode(max(value) FILTER (WHERE decode(key) = 'pipeline.schema')) || ' ' || decode(max(value) FILTER (WHERE decode(key) = 'pipeline.date')) FROM parquet_kv_metadata('{file}')"));

        var properties = (await azurite.Blobs.GetBlobContainerClient("exports").GetBlobClient($"parquet/date={day:yyyy-MM-dd}/metrics.parquet").GetPropertiesAsync()).Value;
        Assert.Equal("application/vnd.apache.parquet", properties.ContentType);
        await Assert.ThrowsAsync<ArgumentException>(() => store.WriteDailyParquetAsync(day, [rows[0] with { Date = day.AddDays(1) }], None));
    }
}
