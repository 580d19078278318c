using Pipeline.Core.Catalog;

namespace Pipeline.Core.Tests.Catalog;

/// <summary>
/// Every metric of catalog version 2 with its exact dimensions, in order, as the spec's dictionary tables list them.
/// </summary>
/// <remarks>
/// The table below was transcribed once from the tables of docs/metrics.md (as reviewed for catalog version 2) and is
/// deliberately not read from the catalog nor from that file at test time: docs/metrics.md is regenerated from the
/// catalog, so a catalog change would carry it along; this table does not follow, and a change to any metric's
/// dimensions, their order, or the set or order of metrics must fail here and be made in this table on purpose.
/// </remarks>
public sealed class MetricCatalogDimensionTableTests
{
    /// <summary>Metric id and its dimensions (comma-separated, in the catalog's order), in the dictionary's order.</summary>
    internal static readonly (string Id, string Dimensions)[] Spec =
    [
        ("northstar.engaged_users", "total,miniProgram"),
        ("users.dau", "total,miniProgram,platform,channel"),
        ("users.wau", "total,miniProgram"),
        ("users.mau", "total,miniProgram"),
        ("users.stickiness", "total,miniProgram"),
        ("users.wtd_active", "total,miniProgram"),
        ("users.mtd_active", "total,miniProgram"),
        ("users.cumulative", "total,miniProgram"),
        ("users.returning_90d", "total"),
        ("users.churned_90d", "total"),
        ("users.new", "total,miniProgram,channel"),
        ("users.sessions", "total,miniProgram,channel,source,platform,miniProgram.channel,miniProgram.source,miniProgram.platform"),
        ("users.referred_sessions", "total,miniProgram.referrer"),
        ("users.sessions_per_user", "total,miniProgram"),
        ("users.page_views", "total,miniProgram"),
        ("users.visit_depth", "total,miniProgram"),
        ("users.avg_session_duration_s", "total,miniProgram"),
        ("users.time_per_user_s", "total,miniProgram"),
        ("users.mini_programs_per_user", "total"),
        ("users.channel_share", "channel"),
        ("users.retention_d1", "total,miniProgram,channel"),
        ("users.retention_d2", "total,miniProgram,channel"),
        ("users.retention_d3", "total,miniProgram,channel"),
        ("users.retention_d4", "total,miniProgram,channel"),
        ("users.retention_d5", "total,miniProgram,channel"),
        ("users.retention_d6", "total,miniProgram,channel"),
        ("users.retention_d7", "total,miniProgram,channel"),
        ("users.retention_d14", "total,miniProgram,channel"),
        ("users.retention_d30", "total,miniProgram,channel"),
        ("users.active_retention_d1", "total,miniProgram"),
        ("users.active_retention_d2", "total,miniProgram"),
        ("users.active_retention_d3", "total,miniProgram"),
        ("users.active_retention_d4", "total,miniProgram"),
        ("users.active_retention_d5", "total,miniProgram"),
        ("users.active_retention_d6", "total,miniProgram"),
        ("users.active_retention_d7", "total,miniProgram"),
        ("users.active_retention_d14", "total,miniProgram"),
        ("users.active_retention_d30", "total,miniProgram"),
        ("users.retention_w1", "total,miniProgram"),
        ("users.retention_w2", "total,miniProgram"),
        ("users.retention_w3", "total,miniProgram"),
        ("users.retention_w4", "total,miniProgram"),
        ("users.active_retention_w1", "total,miniProgram"),
        ("users.active_retention_w2", "total,miniProgram"),
        ("users.active_retention_w3", "total,miniProgram"),
        ("users.active_retention_w4", "total,miniProgram"),
        ("users.retention_m1", "total,miniProgram"),
        ("users.active_retention_m1", "total,miniProgram"),
        ("users.sharers", "total,miniProgram"),
        ("users.shares", "total,miniProgram"),
        ("users.share_rate", "total,miniProgram"),
        ("users.share_opens_per_share", "total,miniProgram"),
        ("users.viral_new_users", "total,miniProgram"),
        ("users.sessions_by_duration", "durationBucket,miniProgram.durationBucket"),
        ("users.sessions_by_depth", "depthBucket,miniProgram.depthBucket"),
        ("developers.active_mini_programs", "total"),
        ("developers.new_mini_programs", "total"),
        ("developers.releases", "total,miniProgram"),
        ("developers.active_developers", "total"),
        ("developers.mini_programs_with_100_dau", "total"),
        ("developers.load_time_p50_ms", "total,miniProgram"),
        ("developers.load_time_p95_ms", "total,miniProgram"),
        ("developers.error_rate", "total,miniProgram"),
        ("businesses.orders", "total,miniProgram"),
        ("businesses.gmv", "currency,miniProgram.currency"),
        ("businesses.aov", "currency"),
        ("businesses.buyers", "total,miniProgram"),
        ("businesses.conversion_rate", "total,miniProgram"),
        ("businesses.transacting_merchants", "total"),
        ("businesses.repeat_buyer_rate_30d", "total"),
        ("businesses.refunds", "currency"),
        ("businesses.refund_rate", "currency"),
        ("businesses.qr_orders_per_session", "total"),
        ("platform.time_spent_s", "total"),
        ("platform.ad_impressions", "total,miniProgram"),
        ("platform.ad_clicks", "total,miniProgram"),
        ("platform.ad_ctr", "total,miniProgram"),
        ("platform.ad_revenue", "currency"),
        ("platform.commission_revenue", "currency"),
        ("platform.revenue", "currency"),
        ("platform.arpu", "currency"),
        ("risk.crash_rate", "total,miniProgram"),
        ("risk.complaints_per_10k_sessions", "total,miniProgram"),
        ("risk.permission_denial_rate", "total"),
        ("risk.top10_session_share", "total"),
        ("risk.ad_load", "total"),
        ("risk.rejected_event_rate", "total"),
        ("pages.views", "miniProgram.page"),
        ("pages.visitors", "miniProgram.page"),
        ("pages.avg_stay_s", "miniProgram.page"),
        ("pages.entries", "miniProgram.page"),
        ("pages.exits", "miniProgram.page"),
        ("pages.shares", "miniProgram.page"),
        ("pages.sharers", "miniProgram.page"),
        ("custom.events", "total,event,miniProgram.event"),
        ("custom.users", "event,miniProgram.event"),
    ];

    public static IEnumerable<object[]> Rows => Spec.Select(r => new object[] { r.Id, r.Dimensions });

    [Theory]
    [MemberData(nameof(Rows))]
    public void Metric_has_exactly_the_dimensions_of_the_spec(string id, string dimensions) =>
        Assert.Equal(dimensions.Split(','), MetricCatalog.Get(id).Dimensions);

    [Fact]
    public void The_table_covers_the_whole_catalog_in_order()
    {
        Assert.Equal(96, Spec.Length);
        Assert.Equal(Spec.Length, Spec.Select(r => r.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(Spec.Select(r => r.Id), MetricCatalog.All.Select(m => m.Id));
    }
}
