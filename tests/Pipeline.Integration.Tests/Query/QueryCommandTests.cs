using System.Text.Json;
using Pipeline.Core.Query;
using Pipeline.Local.Cli;

namespace Pipeline.Integration.Tests.Query;

/// <summary>The CLI's <c>query</c> (its handler, in-process, as the CLI calls it) over the same seeded tables.</summary>
public sealed class QueryCommandTests(QueryFixture f) : IClassFixture<QueryFixture>
{
    private async Task<(int Exit, string Out, string Err)> RunAsync(string format, bool all, params (string, string)[] parameters)
    {
        var dict = parameters.ToDictionary(p => p.Item1, p => (IReadOnlyList<string>)[p.Item2], StringComparer.OrdinalIgnoreCase);
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var exit = await QueryCommand.RunAsync(f.Host.Services, dict, format, all, output, errors, CancellationToken.None);
        return (exit, output.ToString(), errors.ToString());
    }

    [Fact]
    public async Task All_pages_of_csv_concatenate_into_the_one_page_answer()
    {
        var (_, whole, _) = await RunAsync("csv", false, ("from", "2026-11-20"), ("to", "2026-11-23"), ("limit", "10000"));
        var (exit, paged, err) = await RunAsync("csv", true, ("from", "2026-11-20"), ("to", "2026-11-23"), ("limit", "5"));

        Assert.Equal(0, exit);
        Assert.Equal(whole, paged);
        Assert.StartsWith(QueryCsv.Header, paged);
        Assert.Equal(1 + 3 * QueryFixture.RowsOf(QueryFixture.D1).Count, paged.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("Not rolled up yet: 2026-11-23", err);
    }

    [Fact]
    public async Task The_table_shows_each_row_and_says_how_to_get_the_next_page()
    {
        var (_, table, err) = await RunAsync("table", false, ("date", "2026-11-21"), ("metric", "users.retention_d1"), ("limit", "1"));
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("DATE", lines[0]);
        Assert.Contains("users.retention_d1", lines[1]);
        Assert.Contains("miniProgram=" + QueryFixture.A, lines[1]); // "miniProgram" sorts before "total"
        Assert.Contains("3/6", lines[1]);
        Assert.Contains("--continuation ", err);
    }

    [Fact]
    public async Task A_refused_query_is_a_cli_error_with_the_apis_message()
    {
        var e = await Assert.ThrowsAsync<CliException>(() => RunAsync("table", false, ("date", "2026-11-21"), ("metric", "users.daux")));
        Assert.Contains("Did you mean users.dau", e.Message);
        Assert.Contains("unknown_metric", e.Message);
        await Assert.ThrowsAsync<CliException>(() => RunAsync("xml", false, ("date", "2026-11-21")));
    }

    [Fact]
    public async Task The_command_line_goes_through_the_verbs_parser_to_the_apis_parameters()
    {
        QueryCommand.Request? seen = null;
        using var output = new StringWriter();
        var command = QueryCommand.Create(async (request, ct) =>
        {
            seen = request;
            return await QueryCommand.RunAsync(f.Host.Services, request.Parameters, request.Format, request.AllPages, output, TextWriter.Null, ct);
        });

        var exit = await command.Parse(["--date", "2026-11-21", "--mini-program", QueryFixture.A, "--metric", "users.dau", "--metric", "northstar.engaged_users", "--format", "json"]).InvokeAsync();

        Assert.Equal(0, exit);
        Assert.NotNull(seen);
        Assert.Equal([QueryFixture.A], seen!.Parameters["miniProgram"]);
        Assert.Equal(["users.dau", "northstar.engaged_users"], seen.Parameters["metric"]);
        Assert.Equal("json", seen.Format);
        Assert.False(seen.AllPages);
        // The API's JSON: A's rows of the two metrics only, from A's partition.
        using var json = JsonDocument.Parse(output.ToString());
        var rows = json.RootElement.GetProperty("rows").EnumerateArray().Select(r => (r.GetProperty("metric").GetString(), r.GetProperty("dimensionValue").GetString())).ToList();
        Assert.Equal([("northstar.engaged_users", QueryFixture.A), ("users.dau", QueryFixture.A)], rows);
    }

    [Fact]
    public void The_stakeholder_help_names_every_stakeholder_of_the_catalog()
    {
        var option = QueryCommand.Create().Options.Single(o => o.Name == "--stakeholder");
        foreach (var stakeholder in Pipeline.Core.Catalog.MetricCatalog.All.Select(m => m.Stakeholder).Distinct())
            Assert.Contains(stakeholder, option.Description);
        Assert.Contains("custom", option.Description);
    }
}
