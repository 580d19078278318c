using Pipeline.Core.Query;

namespace Pipeline.Core.Tests.Query;

public sealed class MetricQueryParserTests
{
    private static ParsedMetricQuery Parse(params (string Name, string Value)[] parameters) =>
        MetricQueryParser.Parse(parameters.GroupBy(p => p.Name, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(p => p.Value).ToList(), StringComparer.OrdinalIgnoreCase));

    [Fact]
    public void A_range_with_every_filter_is_read_into_the_query()
    {
        var parsed = Parse(("from", "2026-11-01"), ("to", "2026-11-30"), ("metric", "users.dau,users.*"), ("metric", "users.new"),
            ("tier", "core"), ("stakeholder", "users"), ("dimension", "miniProgram"), ("value", "wx1"), ("miniProgram", "wx1"),
            ("format", "CSV"), ("limit", "50"));

        Assert.Null(parsed.Error);
        var q = parsed.Query!;
        Assert.Equal((new DateOnly(2026, 11, 1), new DateOnly(2026, 11, 30)), (q.From, q.To));
        Assert.Equal(["users.*", "users.dau", "users.new"], q.Metrics);
        Assert.Equal(("core", "users", "miniProgram", "wx1", "wx1", 50), (q.Tier, q.Stakeholder, q.Dimension, q.Value, q.MiniProgram, q.Limit));
        Assert.Equal(QueryFormat.Csv, parsed.Format);
        Assert.Equal(30, q.Days().Count());
    }

    [Fact]
    public void A_star_makes_a_prefix_even_of_a_whole_id_and_a_whole_id_is_only_itself()
    {
        var prefix = Parse(("date", "2026-11-02"), ("metric", "users.retention_d1*")).Query!;
        var ids = MetricQueryParser.MetricsIn(prefix.Metrics, null, null).Select(m => m.Id).ToList();
        Assert.Contains("users.retention_d1", ids);
        Assert.Contains("users.retention_d14", ids);
        Assert.Equal("users.retention_d1", MetricQueryService.MetricPrefix(prefix));

        var exact = Parse(("date", "2026-11-02"), ("metric", "users.retention_d1")).Query!;
        Assert.Equal(["users.retention_d1"], MetricQueryParser.MetricsIn(exact.Metrics, null, null).Select(m => m.Id));
        Assert.Equal("users.retention_d1|", MetricQueryService.MetricPrefix(exact));
    }

    [Fact]
    public void The_range_may_be_92_days_and_not_93()
    {
        Assert.Null(Parse(("from", "2026-01-01"), ("to", "2026-04-02")).Error);
        Assert.Equal("range_too_long", Parse(("from", "2026-01-01"), ("to", "2026-04-03")).Error?.Code);
    }

    [Fact]
    public void Names_are_matched_ignoring_case_and_defaults_apply()
    {
        var parsed = Parse(("DATE", "2026-11-02"));
        Assert.Null(parsed.Error);
        Assert.Equal(MetricQueryLimits.DefaultLimit, parsed.Query!.Limit);
        Assert.Equal(QueryFormat.Json, parsed.Format);
        Assert.Null(parsed.Query.Metrics);
    }

    [Theory]
    [InlineData("users.dau", "users.dau")]
    [InlineData("users.daux", "users.dau")]
    [InlineData("dau", "users.dau")]
    [InlineData("gmv", "businesses.gmv")]
    public void Unknown_metrics_suggest_the_nearest(string given, string expected)
    {
        var near = NameSuggestions.Nearest(given, Pipeline.Core.Catalog.MetricCatalog.All.Select(m => m.Id));
        Assert.Equal(expected, near[0]);
    }

    [Fact]
    public void Nothing_near_suggests_nothing()
    {
        Assert.Empty(NameSuggestions.Nearest("zzzzzzzzzzzz", Pipeline.Core.Catalog.MetricCatalog.All.Select(m => m.Id)));
        Assert.Equal("", NameSuggestions.DidYouMean("zzzzzzzzzzzz", ["users.dau"]));
    }

    [Fact]
    public void A_continuation_token_is_bound_to_its_query_and_range()
    {
        var q = Parse(("from", "2026-11-01"), ("to", "2026-11-03"), ("metric", "users.dau")).Query!;
        var token = ContinuationToken.Write(q, new RowPosition(new DateOnly(2026, 11, 2), "users.dau", "channel", "search"));

        Assert.True(ContinuationToken.TryRead(token, q, out var after));
        Assert.Equal(new RowPosition(new DateOnly(2026, 11, 2), "users.dau", "channel", "search"), after);
        Assert.False(ContinuationToken.TryRead(token, q with { Metrics = ["users.new"] }, out _));
        Assert.False(ContinuationToken.TryRead(token, q with { To = new DateOnly(2026, 11, 4) }, out _));
        Assert.False(ContinuationToken.TryRead(token[..^2], q, out _));
        Assert.False(ContinuationToken.TryRead("%%%", q, out _));
        // Paging is not part of the identity: a token stays valid with another page size.
        Assert.True(ContinuationToken.TryRead(token, q with { Limit = 7 }, out _));
    }

    [Fact]
    public void Rows_are_ordered_by_date_metric_dimension_and_value_ordinally()
    {
        var d = new DateOnly(2026, 11, 2);
        var positions = new[]
        {
            new RowPosition(d.AddDays(1), "a", "a", "a"),
            new RowPosition(d, "users.dau", "total", ""),
            new RowPosition(d, "users.dau", "channel", "share"),
            new RowPosition(d, "users.dau", "channel", "Search"),
            new RowPosition(d, "businesses.gmv", "currency", "CNY"),
        };
        var sorted = positions.Order().ToList();
        Assert.Equal([positions[4], positions[3], positions[2], positions[1], positions[0]], sorted);
    }
}
