using System.Runtime.InteropServices;
using Pipeline.Core.Catalog;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using static Pipeline.Core.Rollup.ShardDayRoller;

namespace Pipeline.Core.Rollup;

/// <summary>
/// The fan-in of one reporting day: merges the partials of every user shard, settles what is not
/// keyed by user (orders, the mini-program registry) against the ledger state of the day before,
/// and finalises the metric rows.
/// </summary>
/// <remarks>
/// <para>Counters add up across shards because every user is in exactly one shard. Orders are keyed
/// by (merchantId, orderId): each shard proposes its earliest <c>order_paid</c> per order, the
/// finaliser keeps the earliest of all (time, then ordinal event id) unless the ledger says the
/// order was paid on an earlier day of the order window. The winner's flags (qr session, buyer
/// already engaged) were computed in the buyer's own shard, so the finaliser never needs a user's
/// sessions.</para>
/// <para>Percentiles are exact, nearest rank, over the samples of every shard.</para>
/// </remarks>
internal sealed class DayFinaliser(double commissionRate)
{
    private readonly double _commissionRate = commissionRate;

    /// <summary>
    /// Finalises <paramref name="day"/> from the shards' partials over one whole ledger (the
    /// in-process rollup): the steps of <see cref="Begin"/> with a single partition.
    /// <paramref name="ledger"/> holds the orders, buyers and registry as of the day before and is
    /// advanced to the end of the day (the caller passes a copy it owns). Returns the day's rows, sorted.
    /// </summary>
    public IReadOnlyList<MetricRow> Finalise(DateOnly day, IReadOnlyList<ShardPartial> partials, WindowState ledger, IngestTotals? receipts)
    {
        var close = Begin(day, partitions: 1);
        foreach (var partial in partials) close.Fold(partial);
        close.SettleOrders(0, ledger);
        close.SettleBuyers(0, ledger);
        close.SettleRegistry(ledger);
        return close.Rows(receipts);
    }

    /// <summary>
    /// Starts finalising <paramref name="day"/>: the shards' partials are then folded in one at a time
    /// (<see cref="DayClose.Fold"/>: their counters merged, the earliest candidate of each order kept), and
    /// the ledger is settled part by part, so that no process holds more than one partition of it: orders
    /// partitioned by a hash of their key, buyers by their user shard (<paramref name="partitions"/> of
    /// each), the registry whole.
    /// </summary>
    public DayClose Begin(DateOnly day, int partitions) => new(this, day, partitions);

    /// <summary>The partition of an order's key in the ledger.</summary>
    public static int OrderPartition(OrderKey key, int partitions) =>
        partitions <= 1 ? 0 : UserShard.Of(key.MerchantId + "\u0000" + key.OrderId, partitions); // one partition: no key string to make

    /// <summary>The partition of a buyer in the ledger: the buyer's user shard.</summary>
    public static int BuyerPartition(string buyer, int partitions) => UserShard.Of(buyer, partitions);

    /// <summary>
    /// One day being finalised. Call <see cref="Fold"/> with every shard's partial, then
    /// <see cref="SettleOrders"/> for every order partition, then <see cref="SettleBuyers"/> for every
    /// buyer partition, then <see cref="SettleRegistry"/>, then <see cref="Rows"/>. Each settle step
    /// advances the part it is given (as of the day before) to the end of the day.
    /// </summary>
    /// <remarks>
    /// A partial is not kept once folded: what the day holds is the merged counters and samples, the
    /// earliest candidate of each order and the day's publishes, however many shards there are. The
    /// rows do not depend on the order of the folds (sums, an earliest per order, sorted samples, a
    /// registry of earliest and latest), except that of two candidates for one order at the same time
    /// and event id the first folded wins: fold in shard order for the one-process rollup's choice.
    /// </remarks>
    public sealed class DayClose
    {
        private readonly DayFinaliser _finaliser;
        private readonly DateOnly _day;
        private readonly int _d;
        private readonly DayAggregate _agg = new();
        private Dictionary<OrderKey, OrderCandidate>? _earliest = new();
        private readonly List<PublishEvent> _publishes = [];
        private readonly List<OrderCandidate>[] _candidates;
        private readonly List<OrderCandidate>[] _paidByBuyer;
        private readonly List<OrderCandidate> _paid = [];
        private readonly bool[] _ordersSettled, _buyersSettled;
        private long _events, _buyers30d, _repeatBuyers30d;
        private WindowState? _registry;

        internal DayClose(DayFinaliser finaliser, DateOnly day, int partitions)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
            _finaliser = finaliser;
            _day = day;
            _d = day.DayNumber;
            _candidates = new List<OrderCandidate>[partitions];
            _paidByBuyer = new List<OrderCandidate>[partitions];
            for (var i = 0; i < partitions; i++) { _candidates[i] = []; _paidByBuyer[i] = []; }
            _ordersSettled = new bool[partitions];
            _buyersSettled = new bool[partitions];
        }

        public int Partitions => _candidates.Length;

        /// <summary>Events of the day, over every shard folded.</summary>
        public long Events => _events;

        /// <summary>
        /// Merges one shard's partial of the day into the day: adds its counters and samples, keeps the
        /// earlier of its candidate and the day's for each order, and takes its publishes. The partial is
        /// not referenced afterwards (the caller may drop it). Every partial is folded before the first settle step.
        /// </summary>
        public void Fold(ShardPartial partial)
        {
            ArgumentNullException.ThrowIfNull(partial);
            var earliest = _earliest ?? throw new InvalidOperationException("Fold every partial before the first settle step.");
            if (partial.Day != _d)
                throw new ArgumentException($"The partial is of {DateOnly.FromDayNumber(partial.Day):yyyy-MM-dd}, not of {_day:yyyy-MM-dd}.", nameof(partial));
            _agg.Merge(partial.Aggregate);
            foreach (var candidate in partial.Orders)
            {
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(earliest, candidate.Key, out var exists);
                if (!exists || candidate.IsEarlierThan(slot)) slot = candidate;
            }
            _publishes.AddRange(partial.Publishes);
            _events += partial.Events;
        }

        /// <summary>Ends the folding: hands each order's earliest candidate to its partition (once).</summary>
        private void EndFolding()
        {
            if (_earliest is null) return;
            // Sized once (with one partition, exactly): the lists of a day's orders are large, and growing them
            // by doubling made as much garbage again.
            foreach (var list in _candidates) list.EnsureCapacity(Partitions == 1 ? _earliest.Count : _earliest.Count / Partitions);
            foreach (var (key, candidate) in _earliest) _candidates[OrderPartition(key, Partitions)].Add(candidate);
            _earliest = null;
        }

        /// <summary>
        /// Settles the day's candidates of order partition <paramref name="partition"/> against its orders
        /// (<paramref name="part"/>'s <see cref="WindowState.Orders"/>, as of the day before): a candidate is
        /// paid on the day unless the order was paid on an earlier day of the order window. Records the paid
        /// orders in the part and drops those that left the window.
        /// </summary>
        public void SettleOrders(int partition, WindowState part)
        {
            ArgumentNullException.ThrowIfNull(part);
            if (_ordersSettled[partition]) throw new InvalidOperationException($"Order partition {partition} is already settled.");
            EndFolding();
            _ordersSettled[partition] = true;
            var orderRetentionStart = _d - WindowState.OrderRetentionDays + 1;
            var candidates = _candidates[partition];
            // Room for every candidate at once (see EndFolding): at most this many orders are paid on the day.
            _paid.EnsureCapacity(_paid.Count + candidates.Count);
            if (Partitions == 1) _paidByBuyer[0].EnsureCapacity(_paidByBuyer[0].Count + candidates.Count);
            part.Orders.EnsureCapacity(part.Orders.Count + candidates.Count);
            foreach (var candidate in candidates)
            {
                if (part.Orders.TryGetValue(candidate.Key, out var paidDay) && paidDay >= orderRetentionStart) continue; // a repeat of an order paid earlier
                _paid.Add(candidate);
                part.Orders[candidate.Key] = _d;
                _paidByBuyer[BuyerPartition(candidate.Buyer, Partitions)].Add(candidate);
            }
            List<OrderKey>? old = null;
            foreach (var (k, day) in part.Orders)
                if (day < orderRetentionStart) (old ??= []).Add(k);
            if (old is not null) foreach (var k in old) part.Orders.Remove(k);
            part.AsOfDay = _d;
        }

        /// <summary>
        /// Adds the paid orders of the buyers of partition <paramref name="partition"/> to their days
        /// (<paramref name="part"/>'s <see cref="WindowState.Buyers"/>), drops days outside [D-29, D], and
        /// counts the partition's buyers with at least one and at least two orders in the window.
        /// Every order partition must be settled first.
        /// </summary>
        public void SettleBuyers(int partition, WindowState part)
        {
            ArgumentNullException.ThrowIfNull(part);
            if (Array.IndexOf(_ordersSettled, false) >= 0) throw new InvalidOperationException("Settle every order partition before the buyers.");
            if (_buyersSettled[partition]) throw new InvalidOperationException($"Buyer partition {partition} is already settled.");
            _buyersSettled[partition] = true;
            foreach (var o in _paidByBuyer[partition])
            {
                ref var days = ref CollectionsMarshal.GetValueRefOrAddDefault(part.Buyers, o.Buyer, out _);
                (days ??= []).Add(_d);
            }
            var buyerStart = _d - WindowState.BuyerWindowDays + 1;
            List<string>? gone = null;
            foreach (var (b, days) in part.Buyers)
            {
                days.RemoveAll(x => x < buyerStart);
                if (days.Count == 0) (gone ??= []).Add(b);
                else
                {
                    _buyers30d++;
                    if (days.Count >= 2) _repeatBuyers30d++;
                }
            }
            if (gone is not null) foreach (var b in gone) part.Buyers.Remove(b);
            part.AsOfDay = _d;
        }

        /// <summary>Adds the day's publishes to the registry (<paramref name="part"/>'s <see cref="WindowState.Programs"/>).</summary>
        public void SettleRegistry(WindowState part)
        {
            ArgumentNullException.ThrowIfNull(part);
            if (_registry is not null) throw new InvalidOperationException("The registry is already settled.");
            EndFolding();
            AddPublishes(_agg, part, _publishes, _d);
            part.AsOfDay = _d;
            _registry = part;
        }

        /// <summary>The day's rows, sorted, once every part is settled.</summary>
        public IReadOnlyList<MetricRow> Rows(IngestTotals? receipts)
        {
            if (Array.IndexOf(_buyersSettled, false) >= 0 || _registry is null)
                throw new InvalidOperationException("Settle every order and buyer partition and the registry before the rows.");
            AddOrders(_agg, _paid);
            _agg.AddTotal("_buyers_30d", _buyers30d);
            _agg.AddTotal("_repeat_buyers_30d", _repeatBuyers30d);
            var rows = new RowWriter(_day);
            _finaliser.WriteRows(_agg, _registry, rows);
            // Rejected at ingest / received, by the reporting day of receipt (not of the events' time).
            if (receipts is { } ingest)
                rows.Ratio(MetricCatalog.Get("risk.rejected_event_rate"), Total, "", ingest.Rejected, ingest.Received);
            return rows.Sorted();
        }
    }

    /// <summary>The day's paid orders: counts, money, merchants, buyers (and the engaged and qr orders they add).</summary>
    private static void AddOrders(DayAggregate agg, List<OrderCandidate> paid)
    {
        var merchants = new HashSet<string>(StringComparer.Ordinal);
        var buyers = new HashSet<string>(StringComparer.Ordinal);
        var programBuyers = new HashSet<UserProgramKey>();
        foreach (var o in paid)
        {
            agg.AddTotal("businesses.orders", 1);
            agg.Add("businesses.orders", MiniProgram, o.MiniProgramId, 1);
            agg.Add("businesses.gmv", Currency, o.Currency, o.Amount);
            agg.Add("businesses.gmv", MiniProgramCurrency, o.MiniProgramId + "/" + o.Currency, o.Amount);
            agg.Add(OrdersByCurrency, Currency, o.Currency, 1);
            agg.Add(MoneyCurrency, Currency, o.Currency, 1);
            if (o.QrSession) agg.AddTotal(QrOrders, 1);
            merchants.Add(o.Key.MerchantId);

            // Distinct buyers; a buyer the shard did not already count as engaged becomes engaged by paying.
            if (buyers.Add(o.Buyer) && !o.BuyerEngaged) agg.AddTotal("northstar.engaged_users", 1);
            if (programBuyers.Add(new UserProgramKey(o.Buyer, o.MiniProgramId)))
            {
                agg.Add("businesses.buyers", MiniProgram, o.MiniProgramId, 1);
                if (!o.BuyerProgramEngaged) agg.Add("northstar.engaged_users", MiniProgram, o.MiniProgramId, 1);
            }
        }
        agg.AddTotal("businesses.buyers", buyers.Count);
        agg.AddTotal("businesses.transacting_merchants", merchants.Count);
    }

    private static void AddPublishes(DayAggregate agg, WindowState state, List<PublishEvent> publishes, int d)
    {
        var newPrograms = 0;
        foreach (var e in publishes)
        {
            agg.AddTotal("developers.releases", 1);
            agg.Add("developers.releases", MiniProgram, e.MiniProgramId, 1);
            var developer = e.DeveloperId;
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

    private void WriteRows(DayAggregate agg, WindowState state, RowWriter rows)
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
            if (def.Kind is not (MetricKind.Count or MetricKind.Money)) continue;
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
            if (key.Metric != RollupEngine.LoadSamples || samples.Count == 0) continue;
            // Two ranks selected, not the whole list sorted. The p95 rank is at or after the p50 rank, and
            // selecting p50 leaves no smaller value after it, so p95 is selected among the values from there on.
            var values = samples.ToArray();
            var r50 = RankSelection.Rank(values.Length, 50) - 1;
            var r95 = RankSelection.Rank(values.Length, 95) - 1;
            rows.Add(p50, key.Dimension, key.Value, RankSelection.Select(values, r50));
            rows.Add(p95, key.Dimension, key.Value, RankSelection.Select(values.AsSpan(r50), r95 - r50));
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
        {
            var n = MetricCatalog.RetentionDays[i];
            var retention = $"users.retention_d{n}";
            TotalAndPrograms(retention, WindowCounts.RetentionActive(i), WindowCounts.RetentionNew(i));
            foreach (var (channel, cohort) in Values(WindowCounts.RetentionNew(i), Channel))
                rows.Ratio(MetricCatalog.Get(retention), Channel, channel, agg.Get(WindowCounts.RetentionActive(i), Channel, channel), cohort);
            TotalAndPrograms($"users.active_retention_d{n}", WindowCounts.ActiveRetentionKept(i), WindowCounts.ActiveRetentionBase(i));
        }
        // Weekly and monthly: their counters are 0 (no row) except on Sundays and on a month's last day.
        for (var i = 0; i < MetricCatalog.RetentionWeeks.Count; i++)
        {
            var n = MetricCatalog.RetentionWeeks[i];
            TotalAndPrograms($"users.retention_w{n}", WindowCounts.WeeklyKept(i), WindowCounts.WeeklyNew(i));
            TotalAndPrograms($"users.active_retention_w{n}", WindowCounts.WeeklyActiveKept(i), WindowCounts.WeeklyActiveBase(i));
        }
        TotalAndPrograms("users.retention_m1", WindowCounts.MonthlyKept, WindowCounts.MonthlyNew);
        TotalAndPrograms("users.active_retention_m1", WindowCounts.MonthlyActiveKept, WindowCounts.MonthlyActiveBase);
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

        CustomEventTally.WriteRows(Values, rows.Add);

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
