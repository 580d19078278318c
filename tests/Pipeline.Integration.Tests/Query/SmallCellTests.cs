using System.Net;
using System.Text.Json;
using Microsoft.OpenApi.Models;
using Microsoft.OpenApi.Readers;
using static Pipeline.Integration.Tests.Query.SmallCellFixture;

namespace Pipeline.Integration.Tests.Query;

/// <summary>
/// Small-cell suppression against Azurite through the local host: a developer's key is denied rows of fewer
/// than k users, in the metrics and in the restatements, and told how many; the platform's key sees them all.
/// Also who may list restatements at all.
/// </summary>
public sealed class SmallCellTests(SmallCellFixture f) : IClassFixture<SmallCellFixture>
{
    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> GetAsync(string path, string key)
    {
        var response = await f.Host.GetAsync(key, path);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    private static List<(string Date, string Metric, string Value)> Rows(JsonElement body) =>
        body.GetProperty("rows").EnumerateArray()
            .Select(r => (r.GetProperty("date").GetString()!, r.GetProperty("metric").GetString()!, r.GetProperty("dimensionValue").GetString()!))
            .ToList();

    private static string? Withheld(HttpResponseMessage response) => response.Headers.TryGetValues("X-Withheld-Rows", out var v) ? v.Single() : null;

    private string Since => Uri.EscapeDataString(f.Rerolled.AddMinutes(-1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_developer_gets_only_the_rows_of_at_least_k_users_and_the_number_withheld()
    {
        var (status, body, response) = await GetAsync("/api/v1/metrics?from=2026-11-20&to=2026-11-21", f.DeveloperA);

        Assert.Equal(HttpStatusCode.OK, status);
        // D1: dau 8, retention cohort 8, page visitors 9 (all < k; the page's views go with its visitors);
        // D2: dau 11, cohort 10, visitors 10 (>= k).
        Assert.Equal(
            [("2026-11-21", "pages.views", A + "/pages/index"), ("2026-11-21", "pages.visitors", A + "/pages/index"),
             ("2026-11-21", "users.dau", A), ("2026-11-21", "users.retention_d1", A)],
            Rows(body));
        Assert.Equal(4, body.GetProperty("withheld").GetInt32());
        Assert.Equal("4", Withheld(response));
    }

    [Fact]
    public async Task A_page_row_asked_for_alone_is_judged_by_its_visitors_read_beside_it()
    {
        var (_, body, _) = await GetAsync($"/api/v1/metrics?from=2026-11-20&to=2026-11-21&metric=pages.views&miniProgram={A}", f.DeveloperA);

        Assert.Equal([("2026-11-21", "pages.views", A + "/pages/index")], Rows(body));
        Assert.Equal(1, body.GetProperty("withheld").GetInt32());
    }

    [Fact]
    public async Task The_platform_key_sees_the_rows_withheld_from_the_developer()
    {
        var (status, body, response) = await GetAsync($"/api/v1/metrics?date=2026-11-20&miniProgram={A}", f.Analyst);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(
            [("2026-11-20", "pages.views", A + "/pages/index"), ("2026-11-20", "pages.visitors", A + "/pages/index"),
             ("2026-11-20", "users.dau", A), ("2026-11-20", "users.retention_d1", A)],
            Rows(body));
        Assert.Equal(0, body.GetProperty("withheld").GetInt32());
        Assert.Null(Withheld(response));
    }

    [Fact]
    public async Task A_developer_lists_only_its_mini_programs_restatements_of_at_least_k_users()
    {
        var (status, body, response) = await GetAsync($"/api/v1/restatements?since={Since}", f.DeveloperA);

        Assert.Equal(HttpStatusCode.OK, status);
        var listed = body.GetProperty("restatements").EnumerateArray()
            .Select(r => (r.GetProperty("day").GetString(), r.GetProperty("metric").GetString(), r.GetProperty("dimensionValue").GetString(), r.GetProperty("newValue").GetDouble()))
            .ToList();
        // A's dau on D2 (10 -> 11); not A's D1 (9 -> 8, < k), nor B's, nor the total.
        Assert.Equal([("2026-11-21", "users.dau", A, 11.0)], listed);
        Assert.Equal(1, body.GetProperty("withheld").GetInt32());
        Assert.Equal("1", Withheld(response));
    }

    [Fact]
    public async Task The_platform_lists_every_restatement()
    {
        var (status, body, _) = await GetAsync($"/api/v1/restatements?since={Since}", f.Analyst);

        Assert.Equal(HttpStatusCode.OK, status);
        // Each day: the total, A's and B's dau.
        var listed = body.GetProperty("restatements").EnumerateArray().Select(r => (r.GetProperty("day").GetString(), r.GetProperty("dimensionValue").GetString())).ToList();
        Assert.Equal(6, listed.Count);
        Assert.Contains(("2026-11-20", A), listed);
        Assert.Contains(("2026-11-20", B), listed);
        Assert.Equal(0, body.GetProperty("withheld").GetInt32());
    }

    [Fact]
    public async Task An_ingest_key_cannot_list_restatements()
    {
        var (status, body, _) = await GetAsync($"/api/v1/restatements?since={Since}", f.IngestKey);

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("ingest_key_cannot_read", body.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_answers_match_their_OpenAPI_schemas()
    {
        // The document is written by hand: this keeps it honest about the fields the endpoints write.
        await using var stream = await (await f.Host.Http.GetAsync("/api/v1/openapi.json")).Content.ReadAsStreamAsync();
        var schemas = new OpenApiStreamReader().Read(stream, out _).Components.Schemas;

        var (_, restatements, _) = await GetAsync($"/api/v1/restatements?since={Since}", f.Analyst);
        AssertMatches(schemas["RestatementPage"], restatements);
        foreach (var item in restatements.GetProperty("restatements").EnumerateArray()) AssertMatches(schemas["Restatement"], item);

        var (_, metrics, _) = await GetAsync("/api/v1/metrics?from=2026-11-20&to=2026-11-21", f.DeveloperA);
        AssertMatches(schemas["MetricPage"], metrics);
        foreach (var row in metrics.GetProperty("rows").EnumerateArray()) AssertMatches(schemas["MetricRow"], row);
    }

    // Every field written is declared, and every declared required field is written.
    private static void AssertMatches(OpenApiSchema schema, JsonElement json)
    {
        var written = json.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Subset(schema.Properties.Keys.ToHashSet(StringComparer.Ordinal), written);
        Assert.Subset(written, schema.Required.ToHashSet(StringComparer.Ordinal));
    }
}
