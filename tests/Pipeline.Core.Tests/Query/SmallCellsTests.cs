using Pipeline.Core.Catalog;
using Pipeline.Core.Query;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Query;

/// <summary>The small-cell rule (docs/query.md, "Small cells") for every kind of row, at the boundary k - 1 / k.</summary>
public sealed class SmallCellsTests
{
    private const int K = 10;
    private static readonly DateOnly Day = new(2026, 11, 2);

    private static MetricRow Row(string metric, string dimension, string value, double v, double? den = null)
    {
        var m = MetricCatalog.Get(metric);
        return new(Day, metric, m.Stakeholder, m.Tier, dimension, value, v, den is null ? null : v * den, den, m.Unit);
    }

    private static Func<CellPopulation, double?> Populations(params (string Metric, string Dimension, string Value, double Users)[] rows) =>
        p => rows.Where(r => r.Metric == p.Metric && r.Dimension == p.Dimension && r.Value == p.DimensionValue).Select(r => (double?)r.Users).FirstOrDefault();

    private static readonly Func<CellPopulation, double?> NoPopulation = _ => throw new InvalidOperationException("an exact row needs no other row");

    [Theory]
    [InlineData("users.dau", "miniProgram", "wxA")]
    [InlineData("pages.visitors", "miniProgram.page", "wxA/pages/index")]
    [InlineData("custom.users", "miniProgram.event", "wxA/signup")]
    public void A_count_of_users_is_its_own_value(string metric, string dimension, string value)
    {
        Assert.True(SmallCells.IsWithheld(Row(metric, dimension, value, K - 1), K, NoPopulation));
        Assert.False(SmallCells.IsWithheld(Row(metric, dimension, value, K), K, NoPopulation));
    }

    [Theory]
    [InlineData("users.retention_d1")]
    [InlineData("users.active_retention_w2")]
    [InlineData("users.stickiness")]
    [InlineData("businesses.conversion_rate")]
    public void A_ratio_over_users_counts_its_denominator(string metric)
    {
        // The value is the same both times: only the denominator decides.
        Assert.True(SmallCells.IsWithheld(Row(metric, "miniProgram", "wxA", 0.5, den: K - 1), K, NoPopulation));
        Assert.False(SmallCells.IsWithheld(Row(metric, "miniProgram", "wxA", 0.5, den: K), K, NoPopulation));
    }

    [Theory]
    [InlineData("developers.error_rate", "miniProgram", "wxA", 0.01)]            // a ratio over sessions
    [InlineData("developers.load_time_p95_ms", "miniProgram", "wxA", 1800)]      // a percentile
    [InlineData("users.avg_session_duration_s", "miniProgram", "wxA", 95)]
    public void Any_other_row_of_a_mini_program_counts_its_daily_active_users(string metric, string dimension, string value, double v)
    {
        var row = Row(metric, dimension, value, v, den: metric.EndsWith("_rate") ? 1000 : null);
        Assert.Equal(new CellPopulation("users.dau", "miniProgram", "wxA"), SmallCells.PopulationOf(row));
        Assert.True(SmallCells.IsWithheld(row, K, Populations(("users.dau", "miniProgram", "wxA", K - 1))));
        Assert.False(SmallCells.IsWithheld(row, K, Populations(("users.dau", "miniProgram", "wxA", K))));
    }

    [Fact]
    public void A_page_row_counts_the_pages_visitors_and_a_custom_event_row_its_users()
    {
        var views = Row("pages.views", "miniProgram.page", "wxA/pages/index", 500);
        Assert.True(SmallCells.IsWithheld(views, K, Populations(("pages.visitors", "miniProgram.page", "wxA/pages/index", K - 1), ("users.dau", "miniProgram", "wxA", 1000))));
        Assert.False(SmallCells.IsWithheld(views, K, Populations(("pages.visitors", "miniProgram.page", "wxA/pages/index", K))));

        var events = Row("custom.events", "miniProgram.event", "wxA/signup", 500);
        Assert.True(SmallCells.IsWithheld(events, K, Populations(("custom.users", "miniProgram.event", "wxA/signup", K - 1))));
        Assert.False(SmallCells.IsWithheld(events, K, Populations(("custom.users", "miniProgram.event", "wxA/signup", K))));
    }

    [Fact]
    public void Money_counts_the_mini_programs_buyers()
    {
        var gmv = Row("businesses.gmv", "miniProgram.currency", "wxA/CNY", 120_000);
        Assert.True(SmallCells.IsWithheld(gmv, K, Populations(("businesses.buyers", "miniProgram", "wxA", K - 1), ("users.dau", "miniProgram", "wxA", 1000))));
        Assert.False(SmallCells.IsWithheld(gmv, K, Populations(("businesses.buyers", "miniProgram", "wxA", K))));
    }

    [Fact]
    public void A_count_of_sessions_events_or_orders_has_no_more_users_than_its_count()
    {
        var dau = Populations(("users.dau", "miniProgram", "wxA", 1000));
        Assert.True(SmallCells.IsWithheld(Row("users.sessions", "miniProgram.channel", "wxA/search", K - 1), K, dau));
        Assert.False(SmallCells.IsWithheld(Row("users.sessions", "miniProgram.channel", "wxA/search", K), K, dau));
        Assert.True(SmallCells.IsWithheld(Row("businesses.orders", "miniProgram", "wxA", K - 1), K, dau));
        // ...and no more than the mini-program's users however many sessions they had.
        Assert.True(SmallCells.IsWithheld(Row("users.sessions", "miniProgram", "wxA", 5000), K, Populations(("users.dau", "miniProgram", "wxA", K - 1))));
    }

    [Fact]
    public void A_missing_population_row_means_no_users_so_the_row_is_withheld()
    {
        Assert.True(SmallCells.IsWithheld(Row("pages.views", "miniProgram.page", "wxA/pages/index", 500), 1, Populations()));
    }

    [Fact]
    public void Zero_turns_suppression_off()
    {
        Assert.False(SmallCells.IsWithheld(Row("users.dau", "miniProgram", "wxA", 1), 0, NoPopulation));
    }

    [Fact]
    public void Every_ratio_of_the_catalog_is_placed_as_over_users_or_over_something_else()
    {
        // A new ratio must be placed by someone who read its definition: guessing would show small cells.
        foreach (var m in MetricCatalog.All.Where(m => m.Kind == MetricKind.Ratio))
            Assert.True(SmallCells.IsUserDenominatorRatio(m.Id) ^ SmallCells.OtherDenominatorRatios.Contains(m.Id), $"{m.Id}: place it in exactly one of the two lists ({m.Meaning})");
        foreach (var id in SmallCells.UserDenominatorRatios.Concat(SmallCells.OtherDenominatorRatios))
            Assert.True(MetricCatalog.TryGet(id, out var m) && m.Kind == MetricKind.Ratio, $"{id} is not a ratio of the catalog");
    }
}

/// <summary><c>Pipeline:Query:MinimumCellUsers</c> as the hosts validate it at start-up.</summary>
public sealed class QueryOptionsValidationTests
{
    private static List<string> Validate(int minimumCellUsers)
    {
        var options = new PipelineOptions { PseudonymisationKey = new string('k', 32) };
        options.Query.MinimumCellUsers = minimumCellUsers;
        var result = new PipelineOptionsValidator().Validate(null, options);
        return result.Failed ? result.Failures!.ToList() : [];
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    public void Zero_and_a_positive_k_are_accepted(int k) => Assert.Empty(Validate(k));

    [Fact]
    public void A_negative_k_stops_the_start_with_a_message_naming_the_setting()
    {
        var problem = Assert.Single(Validate(-1));
        Assert.Contains("MinimumCellUsers", problem);
    }
}
