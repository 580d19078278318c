using Pipeline.Core.Catalog;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Catalog;

public sealed class MetricCatalogTests
{
    private static readonly string[] DimensionNames =
        [
            "total", "miniProgram", "channel", "source", "platform", "currency", "miniProgram.currency", "miniProgram.page", "durationBucket", "depthBucket",
            "miniProgram.channel", "miniProgram.source", "miniProgram.platform", "miniProgram.durationBucket", "miniProgram.depthBucket",
            "event", "miniProgram.event", "miniProgram.referrer",
        ];

    [Fact]
    public void Lists_every_metric_of_metrics_md_once()
    {
        // Catalog version 2: 1 north star; 54 users (19, 9 new-user and 9 active-user daily retention, 4 + 4 weekly,
        // 2 monthly, 7); 8 developers, 10 businesses, 8 platform, 6 risk, 7 pages, 2 custom.
        Assert.Equal(2, MetricCatalog.Version);
        Assert.Equal(96, MetricCatalog.All.Count);
        Assert.Equal(MetricCatalog.All.Count, MetricCatalog.All.Select(m => m.Id).Distinct().Count());
        Assert.Equal(
            new Dictionary<string, int> { ["northstar"] = 1, ["users"] = 54, ["developers"] = 8, ["businesses"] = 10, ["platform"] = 8, ["risk"] = 6, ["pages"] = 7, ["custom"] = 2 },
            MetricCatalog.All.GroupBy(m => m.Stakeholder).ToDictionary(g => g.Key, g => g.Count()));
    }

    [Fact]
    public void Dimensions_tiers_and_units_are_from_the_spec_vocabulary()
    {
        foreach (var m in MetricCatalog.All)
        {
            Assert.NotEmpty(m.Dimensions);
            Assert.All(m.Dimensions, d => Assert.Contains(d, DimensionNames));
            Assert.Contains(m.Tier, new[] { "northstar", "core", "supporting", "guardrail" });
            Assert.False(string.IsNullOrWhiteSpace(m.Unit));
            Assert.False(string.IsNullOrWhiteSpace(m.Meaning));
            Assert.Equal(m.Id.StartsWith("risk.", StringComparison.Ordinal), m.Tier == "guardrail");
            Assert.Equal(m.Id.StartsWith("northstar.", StringComparison.Ordinal), m.Tier == "northstar");
        }
    }

    [Theory]
    [InlineData("users.dau", "total,miniProgram,platform,channel")]
    [InlineData("users.sessions", "total,miniProgram,channel,source,platform,miniProgram.channel,miniProgram.source,miniProgram.platform")]
    [InlineData("users.new", "total,miniProgram,channel")]
    [InlineData("users.referred_sessions", "total,miniProgram.referrer")]
    [InlineData("users.active_retention_d30", "total,miniProgram")]
    [InlineData("users.retention_w4", "total,miniProgram")]
    [InlineData("users.active_retention_m1", "total,miniProgram")]
    [InlineData("pages.sharers", "miniProgram.page")]
    [InlineData("custom.events", "total,event,miniProgram.event")]
    [InlineData("custom.users", "event,miniProgram.event")]
    [InlineData("users.channel_share", "channel")]
    [InlineData("businesses.gmv", "currency,miniProgram.currency")]
    [InlineData("users.returning_90d", "total")]
    [InlineData("users.sessions_by_duration", "durationBucket,miniProgram.durationBucket")]
    [InlineData("users.sessions_by_depth", "depthBucket,miniProgram.depthBucket")]
    [InlineData("pages.exits", "miniProgram.page")]
    [InlineData("platform.arpu", "currency")]
    [InlineData("users.retention_d14", "total,miniProgram,channel")]
    [InlineData("northstar.engaged_users", "total,miniProgram")]
    public void Exact_dimensions(string id, string dimensions) =>
        Assert.Equal(dimensions.Split(','), MetricCatalog.Get(id).Dimensions);

    [Theory]
    [InlineData("users.dau", "core", MetricKind.Count, "users")]
    [InlineData("businesses.gmv", "core", MetricKind.Money, "minor_units")]
    [InlineData("users.stickiness", "supporting", MetricKind.Ratio, "ratio")]
    [InlineData("developers.load_time_p95_ms", "core", MetricKind.Percentile, "ms")]
    [InlineData("risk.complaints_per_10k_sessions", "guardrail", MetricKind.Ratio, "per_10k_sessions")]
    [InlineData("platform.time_spent_s", "core", MetricKind.Sum, "s")]
    [InlineData("users.retention_d2", "supporting", MetricKind.Ratio, "ratio")]
    [InlineData("users.retention_w1", "supporting", MetricKind.Ratio, "ratio")]
    [InlineData("custom.users", "supporting", MetricKind.Count, "users")]
    public void Tier_kind_and_unit(string id, string tier, MetricKind kind, string unit)
    {
        var m = MetricCatalog.Get(id);
        Assert.Equal((tier, kind, unit), (m.Tier, m.Kind, m.Unit));
    }

    [Fact]
    public void The_engine_computes_the_whole_catalog()
    {
        Assert.Equal(96, MetricCatalog.All.Count);
        Assert.Equal(MetricCatalog.All.Select(m => m.Id).Order(StringComparer.Ordinal), RollupEngine.ComputedMetricIds.Order(StringComparer.Ordinal));
        Assert.All(RollupEngine.ReceiptMetricIds, id => Assert.True(MetricCatalog.TryGet(id, out _), id));
        Assert.Throws<KeyNotFoundException>(() => MetricCatalog.Get("users.nope"));
    }
}
