using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Catalog;
using Pipeline.Core.Export;
using Pipeline.Core.Query;
using static Pipeline.Integration.Tests.Query.QueryFixture;

namespace Pipeline.Integration.Tests.Query;

/// <summary>
/// <c>GET /api/v1/metrics</c> against Azurite through the local host (the Functions app calls the same
/// endpoint class): every parameter, every error, paging, read-key scopes, caching and compression.
/// </summary>
public sealed class QueryApiTests(QueryFixture f) : IClassFixture<QueryFixture>
{
    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> GetAsync(string path, string? key = null)
    {
        var response = await f.Host.GetAsync(key ?? f.Analyst, path);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body, response);
    }

    private static List<(string Date, string Metric, string Dimension, string Value, double Number)> RowsOf(JsonElement body) =>
        body.GetProperty("rows").EnumerateArray()
            .Select(r => (r.GetProperty("date").GetString()!, r.GetProperty("metric").GetString()!, r.GetProperty("dimension").GetString()!,
                r.GetProperty("dimensionValue").GetString()!, r.GetProperty("value").GetDouble()))
            .ToList();

    private async Task AssertErrorAsync(string path, HttpStatusCode status, string code, string? parameter = null, string? messageContains = null, string? key = null)
    {
        var (got, body, _) = await GetAsync(path, key);
        Assert.True(got == status, $"{path}: {(int)got} {body}");
        var error = body.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        if (parameter is not null) Assert.Equal(parameter, error.GetProperty("parameter").GetString());
        if (messageContains is not null) Assert.Contains(messageContains, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_range_returns_every_row_of_every_day_in_a_stable_order_with_run_and_time()
    {
        var (status, body, _) = await GetAsync($"/api/v1/metrics?from=2026-11-20&to=2026-11-22&limit=10000");

        Assert.Equal(HttpStatusCode.OK, status);
        var expected = f.Rows.Values.SelectMany(r => r)
            .OrderBy(r => r.Date).ThenBy(r => r.Metric, StringComparer.Ordinal).ThenBy(r => r.Dimension, StringComparer.Ordinal).ThenBy(r => r.DimensionValue, StringComparer.Ordinal)
            .Select(r => (r.Date.ToString("yyyy-MM-dd"), r.Metric, r.Dimension, r.DimensionValue, r.Value))
            .ToList();
        Assert.Equal(expected, RowsOf(body));
        Assert.Equal(expected.Count, body.GetProperty("count").GetInt32());
        Assert.Equal(0, body.GetProperty("missingDays").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("continuation").ValueKind);
        var first = body.GetProperty("rows")[0];
        Assert.Equal("run-20", first.GetProperty("runId").GetString());
        Assert.Equal("2026-11-23T00:30:00.000Z", first.GetProperty("computedAt").GetString());
        Assert.False(first.GetProperty("restated").GetBoolean());
    }

    [Fact]
    public async Task A_single_date_still_works_and_ratios_carry_numerator_and_denominator()
    {
        var (status, body, _) = await GetAsync("/api/v1/metrics?date=2026-11-21&metric=users.retention_d1&dimension=total");
        Assert.Equal(HttpStatusCode.OK, status);
        var row = Assert.Single(body.GetProperty("rows").EnumerateArray());
        Assert.Equal(0.25, row.GetProperty("value").GetDouble());
        Assert.Equal(5, row.GetProperty("numerator").GetDouble());
        Assert.Equal(20, row.GetProperty("denominator").GetDouble());
    }

    [Theory]
    [InlineData("metric=users.dau", 5)]                              // one id: all its rows of the day
    [InlineData("metric=users.dau,users.new", 6)]                    // a list
    [InlineData("metric=users.dau&metric=users.new", 6)]             // repeated
    [InlineData("metric=users.*", 8)]                                // a prefix
    [InlineData("metric=users.retention_d1", 2)]                     // an exact id is not a prefix of retention_d14
    [InlineData("stakeholder=businesses", 3)]
    [InlineData("tier=supporting", 2)]
    [InlineData("tier=northstar", 3)]
    [InlineData("dimension=channel", 2)]
    [InlineData("dimension=channel&value=search", 1)]
    [InlineData("dimension=miniProgram.currency", 2)]
    [InlineData("metric=users.dau&dimension=miniProgram&value=" + A, 1)]
    [InlineData("miniProgram=" + A, 5)]                              // its own partition: miniProgram, .currency and .page rows
    [InlineData("miniProgram=" + A + "&metric=users.dau", 1)]
    [InlineData("miniProgram=" + B + "&dimension=miniProgram.page", 1)]
    public async Task Each_filter_narrows_the_rows_of_a_day(string filter, int expected)
    {
        var (status, body, _) = await GetAsync($"/api/v1/metrics?date=2026-11-21&{filter}");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal(expected, body.GetProperty("rows").GetArrayLength());
    }

    [Fact]
    public async Task A_mini_programs_series_comes_from_its_partition_over_the_range()
    {
        var (_, body, _) = await GetAsync($"/api/v1/metrics?from=2026-11-20&to=2026-11-22&miniProgram={A}&metric=users.dau");
        Assert.Equal(
            [("2026-11-20", 80.0), ("2026-11-21", 81.0), ("2026-11-22", 82.0)],
            RowsOf(body).Select(r => (r.Date, r.Number)).ToList());
    }

    [Fact]
    public async Task Pages_follow_the_continuation_token_and_return_every_row_once_in_order()
    {
        var all = RowsOf((await GetAsync("/api/v1/metrics?from=2026-11-20&to=2026-11-22&limit=10000")).Body);
        var paged = new List<(string, string, string, string, double)>();
        string? token = null;
        var pages = 0;
        do
        {
            var path = "/api/v1/metrics?from=2026-11-20&to=2026-11-22&limit=7" + (token is null ? "" : "&continuation=" + Uri.EscapeDataString(token));
            var (status, body, response) = await GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, status);
            var rows = RowsOf(body);
            Assert.True(rows.Count <= 7);
            paged.AddRange(rows);
            token = body.GetProperty("continuation").GetString();
            Assert.Equal(token, response.Headers.TryGetValues("X-Continuation", out var h) ? h.Single() : null);
            pages++;
        }
        while (token is not null && pages < 100);

        Assert.Equal(all, paged);
        Assert.Equal((int)Math.Ceiling(all.Count / 7.0), pages);
    }

    [Fact]
    public async Task A_developers_pages_return_every_row_of_its_mini_programs_once_in_order()
    {
        var all = RowsOf((await GetAsync("/api/v1/metrics?from=2026-11-20&to=2026-11-23&limit=10000", f.DeveloperA)).Body);
        var paged = new List<(string, string, string, string, double)>();
        string? token = null;
        do
        {
            var (status, body, _) = await GetAsync("/api/v1/metrics?from=2026-11-20&to=2026-11-23&limit=2" + (token is null ? "" : "&continuation=" + Uri.EscapeDataString(token)), f.DeveloperA);
            Assert.Equal(HttpStatusCode.OK, status);
            paged.AddRange(RowsOf(body));
            token = body.GetProperty("continuation").GetString();
        }
        while (token is not null && paged.Count < 1000);

        Assert.Equal(15, all.Count);
        Assert.Equal(all, paged);
    }

    [Fact]
    public async Task A_token_from_another_query_is_refused()
    {
        var (_, body, _) = await GetAsync("/api/v1/metrics?date=2026-11-21&limit=2");
        var token = body.GetProperty("continuation").GetString()!;
        await AssertErrorAsync($"/api/v1/metrics?date=2026-11-21&limit=2&metric=users.dau&continuation={Uri.EscapeDataString(token)}",
            HttpStatusCode.BadRequest, "invalid_continuation", "continuation");
        await AssertErrorAsync("/api/v1/metrics?date=2026-11-21&continuation=not-a-token", HttpStatusCode.BadRequest, "invalid_continuation", "continuation");
    }

    [Fact]
    public async Task Days_not_rolled_up_are_reported_not_zeroed()
    {
        var (status, body, response) = await GetAsync("/api/v1/metrics?from=2026-11-22&to=2026-11-23&metric=users.dau&dimension=total");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(new[] { "2026-11-23" }, body.GetProperty("missingDays").EnumerateArray().Select(d => d.GetString()!).ToArray());
        Assert.Equal("2026-11-23", response.Headers.GetValues("X-Missing-Days").Single());
        Assert.Single(body.GetProperty("rows").EnumerateArray());

        await AssertErrorAsync("/api/v1/metrics?date=2026-11-23", HttpStatusCode.NotFound, "not_rolled_up");
    }

    [Theory]
    [InlineData("", "missing_date", "date")]
    [InlineData("date=2026-13-01", "invalid_date", "date")]
    [InlineData("from=yesterday", "invalid_date", "from")]
    [InlineData("from=2026-11-21&to=2026-11-20", "invalid_range", "to")]
    [InlineData("to=2026-11-20", "missing_date", "from")]
    [InlineData("date=2026-11-21&from=2026-11-20", "conflicting_dates", "date")]
    [InlineData("from=2026-01-01&to=2026-12-31", "range_too_long", "to")]
    [InlineData("date=2026-11-21&metric=users.daux", "unknown_metric", "metric")]
    [InlineData("date=2026-11-21&metric=nothing.*", "unknown_metric", "metric")]
    [InlineData("date=2026-11-21&stakeholder=user", "unknown_stakeholder", "stakeholder")]
    [InlineData("date=2026-11-21&tier=gold", "unknown_tier", "tier")]
    [InlineData("date=2026-11-21&dimension=chanel", "unknown_dimension", "dimension")]
    [InlineData("date=2026-11-21&metric=users.wau&dimension=channel", "dimension_not_in_metric", "dimension")]
    [InlineData("date=2026-11-21&value=search", "value_without_dimension", "value")]
    [InlineData("date=2026-11-21&miniProgram=bad/id", "invalid_mini_program", "miniProgram")]
    [InlineData("date=2026-11-21&miniProgram=" + A + "&dimension=channel", "dimension_not_per_mini_program", "dimension")]
    [InlineData("date=2026-11-21&format=xml", "invalid_format", "format")]
    [InlineData("date=2026-11-21&limit=0", "invalid_limit", "limit")]
    [InlineData("date=2026-11-21&limit=10001", "invalid_limit", "limit")]
    [InlineData("date=2026-11-21&metrics=users.dau", "unknown_parameter", "metrics")]
    [InlineData("date=2026-11-21&tier=core&tier=guardrail", "repeated_parameter", "tier")]
    [InlineData("date=2026-11-21&dimension=", "empty_parameter", "dimension")]
    public async Task Bad_input_is_a_400_that_names_the_parameter(string query, string code, string parameter) =>
        await AssertErrorAsync("/api/v1/metrics?" + query, HttpStatusCode.BadRequest, code, parameter);

    [Theory]
    [InlineData("metric=users.daux", "users.dau")]
    [InlineData("metric=dau", "users.dau")]
    [InlineData("dimension=chanel", "channel")]
    [InlineData("stakeholder=user", "users")]
    [InlineData("metrics=x", "metric")]
    public async Task An_unknown_name_is_answered_with_the_nearest_valid_ones(string query, string suggestion) =>
        await AssertErrorAsync("/api/v1/metrics?date=2026-11-21&" + query, HttpStatusCode.BadRequest,
            (await GetAsync("/api/v1/metrics?date=2026-11-21&" + query)).Body.GetProperty("error").GetProperty("code").GetString()!,
            messageContains: "Did you mean " + suggestion);

    [Fact]
    public async Task Csv_has_the_exports_columns_then_run_and_time()
    {
        var response = await f.Host.GetAsync(f.Analyst, "/api/v1/metrics?date=2026-11-21&metric=users.dau&format=csv");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/csv", response.Content.Headers.ContentType!.ToString());
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(QueryCsv.Header, lines[0]);
        Assert.Equal(DailyCsv.Header + ",computed_at,run_id,restated", lines[0]);
        Assert.Equal(6, lines.Length);
        Assert.Contains("2026-11-21,users,core,users.dau,total,,121,,,users,2026-11-23T00:30:00.000Z,run-21,false", lines);
    }

    [Fact]
    public async Task Etag_answers_304_when_unchanged_and_gzip_when_asked()
    {
        var first = await f.Host.GetAsync(f.Analyst, "/api/v1/metrics?from=2026-11-20&to=2026-11-22");
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        var plain = await first.Content.ReadAsByteArrayAsync();

        using (var conditional = new HttpRequestMessage(HttpMethod.Get, "/api/v1/metrics?from=2026-11-20&to=2026-11-22"))
        {
            conditional.Headers.Add("X-Api-Key", f.Analyst);
            conditional.Headers.IfNoneMatch.Add(etag);
            var notModified = await f.Host.Http.SendAsync(conditional);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        }

        using (var other = new HttpRequestMessage(HttpMethod.Get, "/api/v1/metrics?from=2026-11-20&to=2026-11-21"))
        {
            other.Headers.Add("X-Api-Key", f.Analyst);
            other.Headers.IfNoneMatch.Add(etag);
            Assert.Equal(HttpStatusCode.OK, (await f.Host.Http.SendAsync(other)).StatusCode); // other rows, other tag
        }

        // A page's 304 repeats its paging headers (they are part of the tag).
        var paged = await f.Host.GetAsync(f.Analyst, "/api/v1/metrics?from=2026-11-20&to=2026-11-23&limit=5&format=csv");
        using (var again = new HttpRequestMessage(HttpMethod.Get, "/api/v1/metrics?from=2026-11-20&to=2026-11-23&limit=5&format=csv"))
        {
            again.Headers.Add("X-Api-Key", f.Analyst);
            again.Headers.IfNoneMatch.Add(paged.Headers.ETag!);
            var notModified = await f.Host.Http.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            Assert.Equal(paged.Headers.GetValues("X-Continuation").Single(), notModified.Headers.GetValues("X-Continuation").Single());
            Assert.Equal("2026-11-23", notModified.Headers.GetValues("X-Missing-Days").Single());
        }

        using var gzipped = new HttpRequestMessage(HttpMethod.Get, "/api/v1/metrics?from=2026-11-20&to=2026-11-22");
        gzipped.Headers.Add("X-Api-Key", f.Analyst);
        gzipped.Headers.AcceptEncoding.ParseAdd("gzip");
        var compressed = await f.Host.Http.SendAsync(gzipped);
        Assert.Equal("gzip", Assert.Single(compressed.Content.Headers.ContentEncoding));
        var bytes = await compressed.Content.ReadAsByteArrayAsync();
        Assert.True(bytes.Length < plain.Length, $"gzip {bytes.Length} B, plain {plain.Length} B");
        using var inflate = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var copy = new MemoryStream();
        await inflate.CopyToAsync(copy);
        Assert.Equal(plain, copy.ToArray());
        Assert.Equal(etag, compressed.Headers.ETag);
    }

    [Fact]
    public async Task A_developer_key_sees_only_its_mini_programs_rows_and_never_the_totals()
    {
        var (status, body, _) = await GetAsync("/api/v1/metrics?from=2026-11-20&to=2026-11-22&limit=10000", f.DeveloperA);
        Assert.Equal(HttpStatusCode.OK, status);
        var rows = RowsOf(body);
        var expected = f.Rows.Values.SelectMany(r => r).Count(r => r.Dimension.StartsWith("miniProgram", StringComparison.Ordinal) && r.DimensionValue.StartsWith(A, StringComparison.Ordinal));
        Assert.Equal(expected, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.StartsWith("miniProgram", r.Dimension);
            Assert.StartsWith(A, r.Value);
        });

        await AssertErrorAsync($"/api/v1/metrics?date=2026-11-21&miniProgram={B}", HttpStatusCode.Forbidden, "forbidden_mini_program", "miniProgram", key: f.DeveloperA);
        await AssertErrorAsync("/api/v1/metrics?date=2026-11-21&dimension=total", HttpStatusCode.Forbidden, "forbidden_dimension", "dimension", key: f.DeveloperA);
        // A value filter on another developer's mini-program finds nothing rather than leaking it.
        var (_, other, _) = await GetAsync($"/api/v1/metrics?date=2026-11-21&dimension=miniProgram&value={B}", f.DeveloperA);
        Assert.Equal(0, other.GetProperty("rows").GetArrayLength());
    }

    [Fact]
    public async Task A_developer_key_over_more_mini_programs_than_are_read_together_must_name_one()
    {
        // One more than the documented limit; its own mini-program A among them, so naming it works.
        var programs = Enumerable.Range(0, MetricQueryLimits.MaxProgramsWithoutFilter).Select(i => $"wxmany{i:D10}").Append(A).ToArray();
        var many = await f.Host.CreateReadKeyAsync("query-dev-many", programs);

        await AssertErrorAsync("/api/v1/metrics?date=2026-11-21", HttpStatusCode.BadRequest, "mini_program_required", "miniProgram",
            messageContains: $"covers {MetricQueryLimits.MaxProgramsWithoutFilter + 1} mini-programs", key: many);
        var (status, body, _) = await GetAsync($"/api/v1/metrics?date=2026-11-21&miniProgram={A}&metric=users.dau", many);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Single(body.GetProperty("rows").EnumerateArray());
        // With suppression off (this host's default) nothing is withheld, and the page says so.
        Assert.Equal(0, body.GetProperty("withheld").GetInt32());
    }

    [Fact]
    public async Task Keys_of_the_wrong_kind_missing_or_unknown_are_refused()
    {
        await AssertErrorAsync("/api/v1/metrics?date=2026-11-21", HttpStatusCode.Forbidden, "ingest_key_cannot_read", key: f.IngestKey);
        await AssertErrorAsync("/api/v1/metrics?date=2026-11-21", HttpStatusCode.Unauthorized, "unauthorized", key: "mrk_000000000000_" + new string('A', 43));
        await AssertErrorAsync("/api/v1/metrics?date=2026-11-21", HttpStatusCode.Unauthorized, "unauthorized", key: "nonsense");

        var anonymous = await f.Host.Http.GetAsync("/api/v1/metrics?date=2026-11-21");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        // And a read key cannot write.
        var write = await f.Host.PostAsync(f.Analyst, """{"events":[]}""");
        Assert.Equal(HttpStatusCode.Unauthorized, write.StatusCode);
        Assert.Contains("read key", await write.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_catalog_lists_every_metric_with_its_dimensions_and_definition()
    {
        var response = await f.Host.Http.GetAsync("/api/v1/catalog");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(MetricCatalog.Version, json.RootElement.GetProperty("version").GetInt32());
        var metrics = json.RootElement.GetProperty("metrics").EnumerateArray().ToList();
        Assert.Equal(MetricCatalog.All.Select(m => m.Id), metrics.Select(m => m.GetProperty("id").GetString()));
        var dau = metrics.Single(m => m.GetProperty("id").GetString() == "users.dau");
        Assert.Equal("users", dau.GetProperty("stakeholder").GetString());
        Assert.Equal("core", dau.GetProperty("tier").GetString());
        Assert.Equal("users", dau.GetProperty("unit").GetString());
        Assert.Equal("count", dau.GetProperty("kind").GetString());
        // Every metric's unit is the catalog's: dashboards label axes with it.
        Assert.Equal(MetricCatalog.All.Select(m => m.Unit), metrics.Select(m => m.GetProperty("unit").GetString()));
        Assert.Equal("minor_units", metrics.Single(m => m.GetProperty("id").GetString() == "businesses.gmv").GetProperty("unit").GetString());
        Assert.Equal(new[] { "total", "miniProgram", "platform", "channel" }, dau.GetProperty("dimensions").EnumerateArray().Select(d => d.GetString()!).ToArray());
        Assert.False(string.IsNullOrWhiteSpace(dau.GetProperty("definition").GetString()));
    }
}
