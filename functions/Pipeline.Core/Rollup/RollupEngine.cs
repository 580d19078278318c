using System.Collections.Frozen;
using System.Globalization;
using System.Runtime.InteropServices;
using Pipeline.Core.Catalog;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Scenes;
using static Pipeline.Core.Rollup.ShardAggregator;

namespace Pipeline.Core.Rollup;

/// <summary>The rows of one rolled-up day and the window state as of the end of it.</summary>
/// <param name="Day">The day rolled up.</param>
/// <param name="Rows">Every row of the day, sorted by metric, dimension, dimension value (ordinal).</param>
/// <param name="State">The window state as of the end of <paramref name="Day"/>, for the day after.</param>
/// <param name="EventsRead">How many events the day's shards held.</param>
public sealed record DayResult(DateOnly Day, IReadOnlyList<MetricRow> Rows, WindowState State, long EventsRead);

/// <summary>
/// Rolls one reporting day's accepted events up into the metric catalog (metrics.md), given the
/// window state of the day before. Pure: no I/O, no clock; the same events and state always give
/// the same rows.
/// </summary>
/// <remarks>
/// <para>Each user shard is aggregated on its own into a mergeable <see cref="DayAggregate"/>
/// (distinct-user counts are additive because a user is in exactly one shard); the shards are then
/// merged and the rows finalised. Orders are keyed by (merchantId, orderId), not by user, so they
/// are resolved first across all shards by the earliest <c>order_paid</c> (time, then ordinal
/// event id), which is itself a mergeable minimum.</para>
/// <para>Percentiles are exact, nearest rank: the value at rank ceil(p/100 * n) in ascending order.</para>
/// <para>"All accepted history" is history up to and including the day rolled up: see
/// <see cref="WindowState"/>.</para>
/// </remarks>
public sealed class RollupEngine
{
    internal const string LoadSamples = "_load_ms";

    /// <summary>Metrics computed from ingest receipts rather than from events: written only when the caller passes the day's <see cref="IngestTotals"/>.</summary>
    public static IReadOnlySet<string> ReceiptMetricIds { get; } = new[] { "risk.rejected_event_rate" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The metric ids the engine writes rows of: the whole catalog (those of <see cref="ReceiptMetricIds"/> only when given receipts).</summary>
    public static IReadOnlySet<string> ComputedMetricIds { get; } = MetricCatalog.All.Select(m => m.Id).ToFrozenSet(StringComparer.Ordinal);

    private readonly SceneTable _scenes;
    private readonly double _commissionRate;

    public RollupEngine(SceneTable scenes, double commissionRate)
    {
        ArgumentNullException.ThrowIfNull(scenes);
        if (!(commissionRate >= 0 && commissionRate <= 1)) throw new ArgumentOutOfRangeException(nameof(commissionRate), commissionRate, "The commission rate is a fraction between 0 and 1.");
        _scenes = scenes;
        _commissionRate = commissionRate;
    }

    public RollupEngine(SceneTable scenes, PipelineOptions options) : this(scenes, (options ?? throw new ArgumentNullException(nameof(options))).CommissionRate) { }

    public SceneTable Scenes => _scenes;

    public double CommissionRate => _commissionRate;

    /// <summary>
    /// Rolls up <paramref name="day"/>. <paramref name="shards"/> are the day's events split by user
    /// shard (every event of a user in one list; events without a user, such as
    /// <c>mini_program_published</c>, may be in any). <paramref name="previous"/> is the state as of
    /// the end of the day before (or an earlier day, or empty); it is not modified.
    /// <paramref name="receipts"/> are the events received and rejected at ingest on the day (by
    /// receipt time), for <c>risk.rejected_event_rate</c>; without them that metric is not written.
    /// </summary>
    public DayResult RollUp(DateOnly day, IReadOnlyList<IReadOnlyList<PipelineEvent>> shards, WindowState previous, IngestTotals? receipts = null)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(previous);
        var d = day.DayNumber;
        if (previous.AsOfDay is { } asOf && asOf >= d)
            throw new ArgumentException($"The window state is as of {DateOnly.FromDayNumber(asOf):yyyy-MM-dd}; rolling up {day:yyyy-MM-dd} needs the state of an earlier day.", nameof(previous));

        long eventsRead = 0;
        foreach (var s in shards) eventsRead += s.Count;

        // Phase 1: orders and publishes, resolved across shards (mergeable minimum).
        var shardOrders = new Dictionary<OrderKey, OrderCandidate>[shards.Count];
        var shardPublishes = new List<PipelineEvent>[shards.Count];
        Parallel.For(0, shards.Count, i =>
        {
            shardOrders[i] = new Dictionary<OrderKey, OrderCandidate>();
            shardPublishes[i] = [];
            CollectOrders(shards[i], i, shardOrders[i], shardPublishes[i]);
        });
        var orders = new Dictionary<OrderKey, OrderCandidate>();
        for (var i = 0; i < shards.Count; i++)
            foreach (var (key, candidate) in shardOrders[i])
            {
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(orders, key, out var exists);
                if (!exists || candidate.IsEarlierThan(slot)) slot = candidate;
            }
        var orderRetentionStart = d - WindowState.OrderRetentionDays + 1;
        var paidByShard = new List<OrderCandidate>[shards.Count];
        for (var i = 0; i < shards.Count; i++) paidByShard[i] = [];
        var paid = new List<OrderCandidate>();
        foreach (var (key, candidate) in orders)
        {
            if (previous.Orders.TryGetValue(key, out var paidDay) && paidDay >= orderRetentionStart) continue; // a repeat of an order paid earlier
            paid.Add(candidate);
            paidByShard[candidate.Shard].Add(candidate);
        }

        // Phase 2: everything else, per shard.
        var results = new (DayAggregate Aggregate, ShardDelta Delta)[shards.Count];
        Parallel.For(0, shards.Count, i => results[i] = Aggregate(shards[i], paidByShard[i], previous, _scenes, d));

        var agg = new DayAggregate();
        foreach (var r in results) agg.Merge(r.Aggregate);

        // The new state: previous + today's deltas, pruned.
        var state = previous.Clone();
        state.AsOfDay = d;
        foreach (var r in results)
        {
            foreach (var kv in r.Delta.Users) state.Users[kv.Key] = kv.Value;
            foreach (var kv in r.Delta.UserPrograms) state.UserPrograms[kv.Key] = kv.Value;
            foreach (var kv in r.Delta.Sessions) state.Sessions[kv.Key] = kv.Value;
        }
        AddOrders(agg, state, paid, d);
        AddPublishes(agg, state, shardPublishes, d);
        Prune(state, d);

        AddWindows(agg, state, day);
        AddRepeatBuyers(agg, state);

        var rows = new RowWriter(day);
        Finalise(agg, state, rows);
        // Rejected at ingest / received, by the reporting day of receipt (not of the events' time).
        if (receipts is { } ingest)
            rows.Ratio(MetricCatalog.Get("risk.rejected_event_rate"), Total, "", ingest.Rejected, ingest.Received);
        return new DayResult(day, rows.Sorted(), state, eventsRead);
    }

    private static void AddOrders(DayAggregate agg, WindowState state, List<OrderCandidate> paid, int d)
    {
        var merchants = new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in paid)
        {
            agg.AddTotal("businesses.orders", 1);
            agg.Add("businesses.orders", MiniProgram, o.MiniProgramId, 1);
            agg.Add("businesses.gmv", Currency, o.Currency, o.Amount);
            agg.Add("businesses.gmv", MiniProgramCurrency, o.MiniProgramId + "/" + o.Currency, o.Amount);
            agg.Add(OrdersByCurrency, Currency, o.Currency, 1);
            agg.Add(MoneyCurrency, Currency, o.Currency, 1);
            merchants.Add(o.Key.MerchantId);
            state.Orders[o.Key] = d;
            ref var days = ref CollectionsMarshal.GetValueRefOrAddDefault(state.Buyers, o.Buyer, out _);
            (days ??= []).Add(d);
        }
        agg.AddTotal("businesses.transacting_merchants", merchants.Count);
    }

    private static void AddPublishes(DayAggregate agg, WindowState state, List<PipelineEvent>[] shardPublishes, int d)
    {
        var newPrograms = 0;
        foreach (var publishes in shardPublishes)
            foreach (var e in publishes)
            {
                agg.AddTotal("developers.releases", 1);
                agg.Add("developers.releases", MiniProgram, e.MiniProgramId, 1);
                var developer = e.DeveloperId ?? "";
                ref var reg = ref CollectionsMarshal.GetValueRefOrAddDefault(state.Programs, e.MiniProgramId, out var exists);
                if (!exists)
                {
                    newPrograms++;
                    reg = new ProgramRegistration(d, e.TimeMs, e.EventId, developer);
                }
                else if (OrderCandidate.Earlier(reg.LatestTimeMs, reg.LatestEventId, e.TimeMs, e.EventId))
                    reg = reg with { LatestTimeMs = e.TimeMs, LatestEventId = e.EventId, DeveloperId = developer };
            }
        agg.AddTotal("developers.new_mini_programs", newPrograms);
    }

    private static void Prune(WindowState state, int d)
    {
        var sessionStart = d - WindowState.SessionRetentionDays + 1;
        List<SessionKey>? oldSessions = null;
        foreach (var (k, s) in state.Sessions)
            if (s.Day < sessionStart) (oldSessions ??= []).Add(k);
        if (oldSessions is not null) foreach (var k in oldSessions) state.Sessions.Remove(k);

        var orderStart = d - WindowState.OrderRetentionDays + 1;
        List<OrderKey>? oldOrders = null;
        foreach (var (k, day) in state.Orders)
            if (day < orderStart) (oldOrders ??= []).Add(k);
        if (oldOrders is not null) foreach (var k in oldOrders) state.Orders.Remove(k);

        var buyerStart = d - WindowState.BuyerWindowDays + 1;
        List<string>? goneBuyers = null;
        foreach (var (b, days) in state.Buyers)
        {
            days.RemoveAll(x => x < buyerStart);
            if (days.Count == 0) (goneBuyers ??= []).Add(b);
        }
        if (goneBuyers is not null) foreach (var b in goneBuyers) state.Buyers.Remove(b);
    }

    /// <summary>Window counts from last-active and first-seen days (the state as of D holds only history up to D).</summary>
    private static void AddWindows(DayAggregate agg, WindowState state, DateOnly day)
    {
        var d = day.DayNumber;
        var monday = d - ((int)day.DayOfWeek + 6) % 7;
        var firstOfMonth = d - day.Day + 1;
        var grid = MetricCatalog.RetentionDays;
        long wau = 0, mau = 0, wtd = 0, mtd = 0, churned = 0;
        var retNew = new long[grid.Count];
        var retActive = new long[grid.Count];
        foreach (var u in state.Users.Values)
        {
            var last = u.LastActiveDay;
            if (last >= d - 6) wau++;
            if (last >= d - 29) mau++;
            if (last >= monday) wtd++;
            if (last >= firstOfMonth) mtd++;
            if (last == d - 90) churned++;
            var age = d - u.FirstDay;
            for (var i = 0; i < grid.Count; i++)
                if (age == grid[i])
                {
                    retNew[i]++;
                    if (last == d) retActive[i]++;
                }
        }
        agg.AddTotal("users.wau", wau);
        agg.AddTotal("users.mau", mau);
        agg.AddTotal("users.wtd_active", wtd);
        agg.AddTotal("users.mtd_active", mtd);
        agg.AddTotal("users.cumulative", state.Users.Count);
        agg.AddTotal("users.churned_90d", churned);
        for (var i = 0; i < grid.Count; i++)
        {
            agg.AddTotal(RetentionNew(i), retNew[i]);
            agg.AddTotal(RetentionActive(i), retActive[i]);
        }

        foreach (var (k, u) in state.UserPrograms)
        {
            var mp = k.MiniProgramId;
            var last = u.LastActiveDay;
            agg.Add("users.cumulative", MiniProgram, mp, 1);
            if (last < firstOfMonth && last < d - 29 && d - u.FirstDay > 30) continue; // nothing else can count it
            if (last >= d - 6) agg.Add("users.wau", MiniProgram, mp, 1);
            if (last >= d - 29) agg.Add("users.mau", MiniProgram, mp, 1);
            if (last >= monday) agg.Add("users.wtd_active", MiniProgram, mp, 1);
            if (last >= firstOfMonth) agg.Add("users.mtd_active", MiniProgram, mp, 1);
            var age = d - u.FirstDay;
            for (var i = 0; i < grid.Count; i++)
                if (age == grid[i])
                {
                    agg.Add(RetentionNew(i), MiniProgram, mp, 1);
                    if (last == d) agg.Add(RetentionActive(i), MiniProgram, mp, 1);
                }
        }
    }

    private static readonly string[] RetentionNewNames = MetricCatalog.RetentionDays.Select(n => $"_retention_new_d{n}").ToArray();
    private static readonly string[] RetentionActiveNames = MetricCatalog.RetentionDays.Select(n => $"_retention_active_d{n}").ToArray();
    private static string RetentionNew(int i) => RetentionNewNames[i];
    private static string RetentionActive(int i) => RetentionActiveNames[i];

    private static void AddRepeatBuyers(DayAggregate agg, WindowState state)
    {
        // State.Buyers is already pruned to [D-29, D].
        long once = 0, twice = 0;
        foreach (var days in state.Buyers.Values)
        {
            if (days.Count >= 1) once++;
            if (days.Count >= 2) twice++;
        }
        agg.AddTotal("_buyers_30d", once);
        agg.AddTotal("_repeat_buyers_30d", twice);
    }

    private void Finalise(DayAggregate agg, WindowState state, RowWriter rows)
    {
        var index = new Dictionary<(string Metric, string Dimension), List<KeyValuePair<string, long>>>();
        foreach (var (key, value) in agg.Counters)
        {
            if (key.Dimension == Total) continue;
            ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(index, (key.Metric, key.Dimension), out _);
            (list ??= []).Add(new(key.Value, value));
        }
        IReadOnlyList<KeyValuePair<string, long>> Values(string metric, string dimension) =>
            index.TryGetValue((metric, dimension), out var l) ? l : [];

        // Mini-program-level developer metrics come from merged per-program counters (mini-programs are not sharded).
        long activePrograms = 0, programs100 = 0;
        var developers = new HashSet<string>(StringComparer.Ordinal);
        var programSessions = new List<KeyValuePair<string, long>>();
        foreach (var (mp, sessions) in Values("users.sessions", MiniProgram))
        {
            if (sessions <= 0) continue;
            activePrograms++;
            programSessions.Add(new(mp, sessions));
            if (state.Programs.TryGetValue(mp, out var reg)) developers.Add(reg.DeveloperId);
        }
        foreach (var (_, programDau) in Values("users.dau", MiniProgram))
            if (programDau >= 100) programs100++;
        agg.AddTotal("developers.active_mini_programs", activePrograms);
        agg.AddTotal("developers.mini_programs_with_100_dau", programs100);
        agg.AddTotal("developers.active_developers", developers.Count);

        // Counts, and money kept as integer minor units: every counter named after a catalog metric.
        foreach (var def in MetricCatalog.All)
        {
            if (def.Kind is not (MetricKind.Count or MetricKind.Money) || !ComputedMetricIds.Contains(def.Id)) continue;
            if (def.Id is "platform.commission_revenue" or "platform.revenue") continue;
            foreach (var dim in def.Dimensions)
            {
                if (dim == Total)
                {
                    rows.Add(def, Total, "", agg.GetTotal(def.Id));
                    continue;
                }
                foreach (var (value, n) in Values(def.Id, dim))
                    if (n != 0) rows.Add(def, dim, value, n);
            }
        }

        // Sums.
        rows.Add(MetricCatalog.Get("platform.time_spent_s"), Total, "", agg.GetTotal(DurationMs) / 1000.0);

        // Percentiles (exact, nearest rank).
        var p50 = MetricCatalog.Get("developers.load_time_p50_ms");
        var p95 = MetricCatalog.Get("developers.load_time_p95_ms");
        foreach (var (key, samples) in agg.Samples)
        {
            if (key.Metric != LoadSamples || samples.Count == 0) continue;
            var sorted = samples.ToArray();
            Array.Sort(sorted);
            rows.Add(p50, key.Dimension, key.Value, NearestRank(sorted, 50));
            rows.Add(p95, key.Dimension, key.Value, NearestRank(sorted, 95));
        }

        // Ratios over total and per mini-program.
        void TotalAndPrograms(string metric, string numerator, string denominator, double scale = 1)
        {
            var def = MetricCatalog.Get(metric);
            rows.Ratio(def, Total, "", agg.GetTotal(numerator) * scale, agg.GetTotal(denominator));
            if (!def.HasDimension(MiniProgram)) return;
            foreach (var (mp, den) in Values(denominator, MiniProgram))
                rows.Ratio(def, MiniProgram, mp, agg.Get(numerator, MiniProgram, mp) * scale, den);
        }
        TotalAndPrograms("users.stickiness", "users.dau", "users.mau");
        TotalAndPrograms("users.sessions_per_user", "users.sessions", "users.dau");
        TotalAndPrograms("users.visit_depth", "users.page_views", "users.sessions");
        TotalAndPrograms("users.avg_session_duration_s", DurationMs, SessionEnds, 1 / 1000.0);
        TotalAndPrograms("users.time_per_user_s", DurationMs, "users.dau", 1 / 1000.0);
        TotalAndPrograms("users.mini_programs_per_user", ProgramPairs, "users.dau");
        for (var i = 0; i < MetricCatalog.RetentionDays.Count; i++)
            TotalAndPrograms($"users.retention_d{MetricCatalog.RetentionDays[i]}", RetentionActive(i), RetentionNew(i));
        TotalAndPrograms("users.share_rate", "users.sharers", "users.dau");
        TotalAndPrograms("users.share_opens_per_share", ShareSessions, "users.shares");
        TotalAndPrograms("developers.error_rate", ErrorSessions, "users.sessions");
        TotalAndPrograms("businesses.conversion_rate", "businesses.buyers", "users.dau");
        TotalAndPrograms("businesses.repeat_buyer_rate_30d", "_repeat_buyers_30d", "_buyers_30d");
        TotalAndPrograms("businesses.qr_orders_per_session", QrOrders, QrSessions);
        TotalAndPrograms("platform.ad_ctr", "platform.ad_clicks", "platform.ad_impressions");
        TotalAndPrograms("risk.crash_rate", CrashSessions, "users.sessions");
        TotalAndPrograms("risk.permission_denial_rate", PermissionDenials, "users.sessions");
        TotalAndPrograms("risk.ad_load", "platform.ad_impressions", "users.sessions");

        // Complaints per 10 000 sessions: numerator is the complaint count, value is 10 000 * complaints / sessions.
        var complaints = MetricCatalog.Get("risk.complaints_per_10k_sessions");
        rows.Ratio(complaints, Total, "", agg.GetTotal(Complaints), agg.GetTotal("users.sessions"), 10_000);
        foreach (var (mp, den) in Values("users.sessions", MiniProgram))
            rows.Ratio(complaints, MiniProgram, mp, agg.Get(Complaints, MiniProgram, mp), den, 10_000);

        var allSessions = agg.GetTotal("users.sessions");
        var channelShare = MetricCatalog.Get("users.channel_share");
        foreach (var (channel, n) in Values("users.sessions", Channel))
            if (n != 0) rows.Ratio(channelShare, Channel, channel, n, allSessions);

        // Top-10 concentration: most sessions first, ties by mini-program id (ordinal).
        programSessions.Sort((a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        long top10 = 0;
        for (var i = 0; i < programSessions.Count && i < 10; i++) top10 += programSessions[i].Value;
        rows.Ratio(MetricCatalog.Get("risk.top10_session_share"), Total, "", top10, allSessions);

        // Pages: mean stay.
        var avgStay = MetricCatalog.Get("pages.avg_stay_s");
        foreach (var (page, count) in Values(StayCount, MiniProgramPage))
            rows.Ratio(avgStay, MiniProgramPage, page, agg.Get(StayMs, MiniProgramPage, page) / 1000.0, count);

        // Money per currency, never mixed.
        var aov = MetricCatalog.Get("businesses.aov");
        var refundRate = MetricCatalog.Get("businesses.refund_rate");
        var commission = MetricCatalog.Get("platform.commission_revenue");
        var revenue = MetricCatalog.Get("platform.revenue");
        var arpu = MetricCatalog.Get("platform.arpu");
        var dau = agg.GetTotal("users.dau");
        foreach (var (currency, _) in Values(MoneyCurrency, Currency))
        {
            var gmv = agg.Get("businesses.gmv", Currency, currency);
            var orderCount = agg.Get(OrdersByCurrency, Currency, currency);
            rows.Ratio(aov, Currency, currency, gmv, orderCount);
            rows.Ratio(refundRate, Currency, currency, agg.Get("businesses.refunds", Currency, currency), gmv);
            var commissionRevenue = gmv * _commissionRate;
            if (commissionRevenue != 0) rows.Add(commission, Currency, currency, commissionRevenue);
            var total = agg.Get("platform.ad_revenue", Currency, currency) + commissionRevenue;
            if (total != 0) rows.Add(revenue, Currency, currency, total);
            rows.Ratio(arpu, Currency, currency, total, dau);
        }
    }

    /// <summary>Exact nearest rank: the value at rank ceil(p/100 * n) of the ascending values.</summary>
    internal static long NearestRank(long[] sortedAscending, int percentile)
    {
        var n = sortedAscending.Length;
        var rank = (int)(((long)percentile * n + 99) / 100);
        if (rank < 1) rank = 1;
        return sortedAscending[rank - 1];
    }

    private sealed class RowWriter(DateOnly day)
    {
        private readonly List<MetricRow> _rows = [];

        public void Add(MetricDefinition def, string dimension, string value, double v) =>
            _rows.Add(new MetricRow(day, def.Id, def.Stakeholder, def.Tier, dimension, value, v, null, null, def.Unit));

        /// <summary>A ratio row, unless its denominator is 0.</summary>
        public void Ratio(MetricDefinition def, string dimension, string value, double numerator, double denominator, double scale = 1)
        {
            if (denominator == 0) return;
            _rows.Add(new MetricRow(day, def.Id, def.Stakeholder, def.Tier, dimension, value, scale * numerator / denominator, numerator, denominator, def.Unit));
        }

        public IReadOnlyList<MetricRow> Sorted()
        {
            _rows.Sort(static (a, b) =>
            {
                var c = string.CompareOrdinal(a.Metric, b.Metric);
                if (c != 0) return c;
                c = string.CompareOrdinal(a.Dimension, b.Dimension);
                return c != 0 ? c : string.CompareOrdinal(a.DimensionValue, b.DimensionValue);
            });
            return _rows;
        }
    }
}
