using Pipeline.Core.Catalog;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Query;

/// <summary>A stored row that bounds the users of another row: its metric, dimension and value, on the same day.</summary>
public sealed record CellPopulation(string Metric, string Dimension, string DimensionValue);

/// <summary>
/// The small-cell rule (docs/query.md, "Small cells"): how many users a per-mini-program row is computed
/// from, so that a developer's key can be denied rows that describe fewer than k people.
/// </summary>
/// <remarks>
/// The rows do not store their users, and the rule needs no new storage: a row's users are
/// <list type="number">
/// <item>its value, when it counts distinct users (unit <c>users</c>);</item>
/// <item>its denominator, when it is a ratio over a set of users (<see cref="UserDenominatorRatios"/>:
/// retention cohorts, dau, mau, buyers' base);</item>
/// <item>otherwise the smallest stored count known to hold all of them: the page's <c>pages.visitors</c>
/// (a <c>miniProgram.page</c> row), the event's <c>custom.users</c> (a <c>miniProgram.event</c> row), the
/// mini-program's <c>businesses.buyers</c> (money: only buyers pay), or else the mini-program's
/// <c>users.dau</c> (every event of a mini-program's day comes from a user active in it that day); and,
/// for a count of sessions, events or orders, never more than the count itself, since each of those
/// belongs to one user.</item>
/// </list>
/// A population row that does not exist counts 0 users (count rows are written only when not 0), so an
/// unknown population withholds the row rather than shows it. Exact users are never below the bound of
/// rule 3, so a row withheld by rule 1 or 2 or by the count itself describes fewer than k people for sure;
/// a row withheld only by its population may describe fewer.
/// </remarks>
public static class SmallCells
{
    /// <summary>Ratios whose denominator counts users; every other ratio's denominator counts sessions, events, orders or money.</summary>
    public static bool IsUserDenominatorRatio(string metric) =>
        metric.StartsWith("users.retention_", StringComparison.Ordinal)
        || metric.StartsWith("users.active_retention_", StringComparison.Ordinal)
        || UserDenominatorRatios.Contains(metric);

    /// <summary>The ratios over users besides the retention grid: dau, mau or an earlier set of users below the line.</summary>
    public static IReadOnlySet<string> UserDenominatorRatios { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "users.stickiness",             // dau / mau
        "users.sessions_per_user",      // sessions / dau
        "users.time_per_user_s",        // seconds / dau
        "users.mini_programs_per_user", // pairs / dau
        "users.share_rate",             // sharers / dau
        "businesses.conversion_rate",   // buyers / dau
        "businesses.repeat_buyer_rate_30d", // repeat buyers / buyers
        "platform.arpu",                // revenue / dau
    };

    /// <summary>Ratios over sessions, events, orders or money, named so that a new ratio of the catalog must be placed (a test checks it).</summary>
    public static IReadOnlySet<string> OtherDenominatorRatios { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "users.visit_depth", "users.avg_session_duration_s", "users.channel_share", "users.share_opens_per_share",
        "developers.error_rate", "businesses.aov", "businesses.refund_rate", "businesses.qr_orders_per_session",
        "platform.ad_ctr", "risk.crash_rate", "risk.complaints_per_10k_sessions", "risk.permission_denial_rate",
        "risk.top10_session_share", "risk.ad_load", "risk.rejected_event_rate", "pages.avg_stay_s",
    };

    // Units of counts whose every unit belongs to one user: a cell of 3 sessions has at most 3 users.
    private static readonly HashSet<string> PerUserUnits = new(StringComparer.Ordinal) { "sessions", "events", "orders" };

    /// <summary>Whether the row's users are its own value or denominator, so it needs no other row.</summary>
    public static bool IsExact(MetricRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return row.Unit == "users" || (KindOf(row) == MetricKind.Ratio && IsUserDenominatorRatio(row.Metric));
    }

    /// <summary>The row whose value bounds this row's users (rule 3), or null when the row is exact (rules 1 and 2).</summary>
    public static CellPopulation? PopulationOf(MetricRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (IsExact(row)) return null;
        if (row.Dimension == Dimensions.MiniProgramPage) return new("pages.visitors", row.Dimension, row.DimensionValue);
        if (row.Dimension == Dimensions.MiniProgramEvent) return new("custom.users", row.Dimension, row.DimensionValue);
        var program = MetricRowKeys.ProgramPartitionKey(row); // ids need no escaping: letters, digits, '_' and '-'
        return KindOf(row) == MetricKind.Money
            ? new("businesses.buyers", Dimensions.MiniProgram, program)
            : new("users.dau", Dimensions.MiniProgram, program);
    }

    /// <summary>The users the row is computed from, by the rule; <paramref name="population"/> finds a population row of the same day (null: none).</summary>
    public static double UsersOf(MetricRow row, Func<CellPopulation, double?> population)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(population);
        if (row.Unit == "users") return row.Value;
        if (KindOf(row) == MetricKind.Ratio && IsUserDenominatorRatio(row.Metric)) return row.Denominator ?? 0;
        var users = population(PopulationOf(row)!) ?? 0;
        return KindOf(row) is MetricKind.Count or MetricKind.Sum && PerUserUnits.Contains(row.Unit) ? Math.Min(users, row.Value) : users;
    }

    /// <summary>Whether a developer's key must not see the row: suppression is on (k &gt; 0) and the row has fewer than k users.</summary>
    public static bool IsWithheld(MetricRow row, int minimumUsers, Func<CellPopulation, double?> population) =>
        minimumUsers > 0 && UsersOf(row, population) < minimumUsers;

    // A metric no longer in the catalog (an old row) is read by its unit alone: neither a ratio nor money.
    private static MetricKind? KindOf(MetricRow row) => MetricCatalog.TryGet(row.Metric, out var m) ? m.Kind : null;
}
