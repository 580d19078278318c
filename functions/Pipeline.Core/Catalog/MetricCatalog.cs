using System.Collections.Frozen;
using Pipeline.Core.Rollup;
using static Pipeline.Core.Catalog.Dimensions;

namespace Pipeline.Core.Catalog;

/// <summary>
/// Every metric of the catalog, version 2 (docs/metric-definitions.md), with its exact dimensions.
/// </summary>
/// <remarks>
/// Tiers: the spec names the North Star and calls the risk factors guardrails but does not say
/// which of the rest are core. Chosen here: per stakeholder, the headline numbers an ecosystem
/// review opens with are <c>core</c> (users: dau, wau, mau, new, retention d1/d7/d30;
/// developers: active mini-programs, load time p95, error rate; businesses: orders, gmv,
/// buyers; platform: revenue, time spent, arpu); every other metric, including all of
/// <c>pages.*</c>, is <c>supporting</c>; <c>risk.*</c> is <c>guardrail</c>.
/// The rollup engine computes every metric listed here (<see cref="RollupEngine.ComputedMetricIds"/>).
/// </remarks>
public static class MetricCatalog
{
    private const string NS = MetricTiers.NorthStar, Core = MetricTiers.Core, Sup = MetricTiers.Supporting, Guard = MetricTiers.Guardrail;

    private static readonly string[] T = [Total];
    private static readonly string[] TM = [Total, MiniProgram];
    private static readonly string[] Cur = [Currency];
    private static readonly string[] Page = [MiniProgramPage];

    private static MetricDefinition M(string id, string tier, string unit, MetricKind kind, string[] dims, string meaning) => new(id, tier, unit, kind, dims, meaning);

    /// <summary>The version of the metric catalog this build computes (served by <c>GET /api/v1/catalog</c>).</summary>
    public const int Version = 2;

    /// <summary>The daily retention grid (WeChat's): N of <c>users.retention_dN</c>.</summary>
    public static IReadOnlyList<int> RetentionDays { get; } = [1, 2, 3, 4, 5, 6, 7, 14, 30];

    /// <summary>N of the weekly retention rows <c>users.retention_wN</c> and <c>users.active_retention_wN</c> (written on Sundays).</summary>
    public static IReadOnlyList<int> RetentionWeeks { get; } = [1, 2, 3, 4];

    /// <summary>Every metric of the catalog, in the spec's order.</summary>
    public static IReadOnlyList<MetricDefinition> All { get; } = Build();

    private static readonly FrozenDictionary<string, MetricDefinition> ById = All.ToFrozenDictionary(m => m.Id, StringComparer.Ordinal);

    /// <summary>The definition of a metric id; throws when the id is not in the catalog.</summary>
    public static MetricDefinition Get(string id) =>
        ById.TryGetValue(id, out var m) ? m : throw new KeyNotFoundException($"'{id}' is not a metric of the catalog.");

    public static bool TryGet(string id, out MetricDefinition definition) => ById.TryGetValue(id, out definition!);

    private static MetricDefinition[] Build()
    {
        var retention = new List<MetricDefinition>();
        foreach (var n in RetentionDays)
        {
            var tier = n is 1 or 7 or 30 ? Core : Sup;
            retention.Add(M($"users.retention_d{n}", tier, "ratio", MetricKind.Ratio, [Total, MiniProgram, Channel], $"users new on D-{n} who are active on D / users new on D-{n} (channel: by acquisition channel)"));
        }
        foreach (var n in RetentionDays)
            retention.Add(M($"users.active_retention_d{n}", Sup, "ratio", MetricKind.Ratio, TM, $"users active on D-{n} who are active on D / users active on D-{n}"));
        foreach (var n in RetentionWeeks)
            retention.Add(M($"users.retention_w{n}", Sup, "ratio", MetricKind.Ratio, TM, $"Sundays: users new in the natural week ending D-{7 * n} who are active in the week ending D / users new in that week"));
        foreach (var n in RetentionWeeks)
            retention.Add(M($"users.active_retention_w{n}", Sup, "ratio", MetricKind.Ratio, TM, $"Sundays: users active in the natural week ending D-{7 * n} who are active in the week ending D / users active in that week"));
        retention.Add(M("users.retention_m1", Sup, "ratio", MetricKind.Ratio, TM, "a month's last day: users new in the previous natural month who are active in D's month / users new in the previous month"));
        retention.Add(M("users.active_retention_m1", Sup, "ratio", MetricKind.Ratio, TM, "a month's last day: users active in the previous natural month who are active in D's month / users active in the previous month"));

        return
        [
            M("northstar.engaged_users", NS, "users", MetricKind.Count, TM, "distinct users who on D paid an order, shared, or spent at least 60 000 ms in session_end durations"),

            M("users.dau", Core, "users", MetricKind.Count, [Total, MiniProgram, Platform, Channel], "distinct users with a session on D"),
            M("users.wau", Core, "users", MetricKind.Count, TM, "distinct users active in [D-6, D]"),
            M("users.mau", Core, "users", MetricKind.Count, TM, "distinct users active in [D-29, D]"),
            M("users.stickiness", Sup, "ratio", MetricKind.Ratio, TM, "dau / mau"),
            M("users.wtd_active", Sup, "users", MetricKind.Count, TM, "distinct users active from the Monday of D's week to D"),
            M("users.mtd_active", Sup, "users", MetricKind.Count, TM, "distinct users active from the first day of D's month to D"),
            M("users.cumulative", Sup, "users", MetricKind.Count, TM, "distinct users with a session on D or before"),
            M("users.returning_90d", Sup, "users", MetricKind.Count, T, "users active on D whose latest session before D is on D-91 or earlier"),
            M("users.churned_90d", Sup, "users", MetricKind.Count, T, "users whose latest session on or before D is on D-90"),
            M("users.new", Core, "users", MetricKind.Count, [Total, MiniProgram, Channel], "users whose earliest session_start is on D (channel: by acquisition channel)"),
            M("users.sessions", Sup, "sessions", MetricKind.Count, [Total, MiniProgram, Channel, Source, Platform, MiniProgramChannel, MiniProgramSource, MiniProgramPlatform], "sessions on D"),
            M("users.referred_sessions", Sup, "sessions", MetricKind.Count, [Total, MiniProgramReferrer], "sessions on D whose earliest session_start carries a referrerMiniProgramId"),
            M("users.sessions_per_user", Sup, "sessions_per_user", MetricKind.Ratio, TM, "sessions / dau"),
            M("users.page_views", Sup, "events", MetricKind.Count, TM, "page_view events on D"),
            M("users.visit_depth", Sup, "page_views_per_session", MetricKind.Ratio, TM, "page_views / sessions"),
            M("users.avg_session_duration_s", Sup, "s", MetricKind.Ratio, TM, "sum of session_end.durationMs / 1000 / count of session_end"),
            M("users.time_per_user_s", Sup, "s", MetricKind.Ratio, TM, "sum of session_end.durationMs / 1000 / dau"),
            M("users.mini_programs_per_user", Sup, "mini_programs_per_user", MetricKind.Ratio, T, "distinct (user, mini-program) pairs with a session on D / dau"),
            M("users.channel_share", Sup, "ratio", MetricKind.Ratio, [Channel], "sessions on D of the entry channel / all sessions on D"),
            .. retention,
            M("users.sharers", Sup, "users", MetricKind.Count, TM, "distinct users with a share on D"),
            M("users.shares", Sup, "events", MetricKind.Count, TM, "share events on D"),
            M("users.share_rate", Sup, "ratio", MetricKind.Ratio, TM, "sharers / dau"),
            M("users.share_opens_per_share", Sup, "sessions_per_share", MetricKind.Ratio, TM, "sessions on D with entry channel share / shares on D"),
            M("users.viral_new_users", Sup, "users", MetricKind.Count, TM, "users new on D whose earliest session_start came from a share"),
            M("users.sessions_by_duration", Sup, "sessions", MetricKind.Count, [DurationBucket, MiniProgramDurationBucket], "session_end events on D by stay-time bucket"),
            M("users.sessions_by_depth", Sup, "sessions", MetricKind.Count, [DepthBucket, MiniProgramDepthBucket], "sessions on D with page views, by visit-depth bucket"),

            M("developers.active_mini_programs", Core, "mini_programs", MetricKind.Count, T, "distinct mini-programs with a session on D"),
            M("developers.new_mini_programs", Sup, "mini_programs", MetricKind.Count, T, "mini-programs whose earliest mini_program_published is on D"),
            M("developers.releases", Sup, "events", MetricKind.Count, TM, "mini_program_published events on D"),
            M("developers.active_developers", Sup, "developers", MetricKind.Count, T, "distinct owners (latest publisher) of mini-programs active on D"),
            M("developers.mini_programs_with_100_dau", Sup, "mini_programs", MetricKind.Count, T, "mini-programs with users.dau of at least 100 on D"),
            M("developers.load_time_p50_ms", Sup, "ms", MetricKind.Percentile, TM, "median session_start.loadMs on D (exact, nearest rank)"),
            M("developers.load_time_p95_ms", Core, "ms", MetricKind.Percentile, TM, "95th percentile of session_start.loadMs on D (exact, nearest rank)"),
            M("developers.error_rate", Core, "ratio", MetricKind.Ratio, TM, "sessions on D with an error on D / sessions on D"),

            M("businesses.orders", Core, "orders", MetricKind.Count, TM, "orders paid on D"),
            M("businesses.gmv", Core, "minor_units", MetricKind.Money, [Currency, MiniProgramCurrency], "sum of the amounts of orders paid on D"),
            M("businesses.aov", Sup, "minor_units", MetricKind.Ratio, Cur, "gmv / orders paid on D in that currency"),
            M("businesses.buyers", Core, "users", MetricKind.Count, TM, "distinct users with an order paid on D"),
            M("businesses.conversion_rate", Sup, "ratio", MetricKind.Ratio, TM, "buyers / dau"),
            M("businesses.transacting_merchants", Sup, "merchants", MetricKind.Count, T, "distinct merchants with an order paid on D"),
            M("businesses.repeat_buyer_rate_30d", Sup, "ratio", MetricKind.Ratio, T, "users with two or more orders paid in [D-29, D] / users with at least one"),
            M("businesses.refunds", Sup, "minor_units", MetricKind.Money, Cur, "sum of order_refunded.amount on D"),
            M("businesses.refund_rate", Sup, "ratio", MetricKind.Ratio, Cur, "refunds / gmv"),
            M("businesses.qr_orders_per_session", Sup, "orders_per_session", MetricKind.Ratio, T, "orders paid on D attributed to a qr-entry session / sessions on D with entry channel qr"),

            M("platform.time_spent_s", Core, "s", MetricKind.Sum, T, "sum of session_end.durationMs on D / 1000"),
            M("platform.ad_impressions", Sup, "events", MetricKind.Count, TM, "ad_impression events on D"),
            M("platform.ad_clicks", Sup, "events", MetricKind.Count, TM, "ad_click events on D"),
            M("platform.ad_ctr", Sup, "ratio", MetricKind.Ratio, TM, "ad_clicks / ad_impressions"),
            M("platform.ad_revenue", Sup, "minor_units", MetricKind.Money, Cur, "sum of ad_impression.revenue on D"),
            M("platform.commission_revenue", Sup, "minor_units", MetricKind.Money, Cur, "gmv * commission rate, unrounded"),
            M("platform.revenue", Core, "minor_units", MetricKind.Money, Cur, "ad_revenue + commission_revenue"),
            M("platform.arpu", Core, "minor_units", MetricKind.Ratio, Cur, "revenue / users.dau (total)"),

            M("risk.crash_rate", Guard, "ratio", MetricKind.Ratio, TM, "sessions on D with a crash error on D / sessions on D"),
            M("risk.complaints_per_10k_sessions", Guard, "per_10k_sessions", MetricKind.Ratio, TM, "complaint events on D * 10 000 / sessions on D"),
            M("risk.permission_denial_rate", Guard, "events_per_session", MetricKind.Ratio, T, "permission_denied events on D / sessions on D"),
            M("risk.top10_session_share", Guard, "ratio", MetricKind.Ratio, T, "sessions on D in the 10 mini-programs with the most sessions / all sessions on D"),
            M("risk.ad_load", Guard, "impressions_per_session", MetricKind.Ratio, T, "ad_impressions / sessions"),
            M("risk.rejected_event_rate", Guard, "ratio", MetricKind.Ratio, T, "events rejected at ingest / events received, by day of receipt"),

            M("pages.views", Sup, "events", MetricKind.Count, Page, "page_view events on D"),
            M("pages.visitors", Sup, "users", MetricKind.Count, Page, "distinct users with a page_view of the page on D"),
            M("pages.avg_stay_s", Sup, "s", MetricKind.Ratio, Page, "mean durationMs / 1000 of the page's page_views on D that carry one"),
            M("pages.entries", Sup, "sessions", MetricKind.Count, Page, "sessions on D whose earliest page_view on D is of the page"),
            M("pages.exits", Sup, "sessions", MetricKind.Count, Page, "sessions on D whose latest page_view on D is of the page"),
            M("pages.shares", Sup, "events", MetricKind.Count, Page, "share events on D whose page is the page"),
            M("pages.sharers", Sup, "users", MetricKind.Count, Page, "distinct users with a share on D whose page is the page"),

            M("custom.events", Sup, "events", MetricKind.Count, [Total, Event, MiniProgramEvent], "custom.<name> events on D (total: all custom events; names past the cap as (other))"),
            M("custom.users", Sup, "users", MetricKind.Count, [Event, MiniProgramEvent], "distinct users with a custom.<name> event on D (names past the cap as (other))"),
        ];
    }

}
