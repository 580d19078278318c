using System.Globalization;
using Pipeline.Core.Catalog;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;

namespace Pipeline.Core.Tests.Differential;

/// <summary>
/// The metric catalog computed straight from spec/metrics.md, slowly and plainly: every day is computed from
/// the whole list of accepted (already de-duplicated) events, with LINQ and loops, without any carried state.
/// </summary>
/// <remarks>
/// <para>Written from the spec, not from the engine's code. Where the spec is ambiguous it follows the
/// product decisions documented in docs/metric-definitions.md ("Decisions"), and for the additions of catalog
/// version 2 the decisions listed last below:</para>
/// <list type="bullet">
/// <item>"All accepted history" is every event whose reporting day is on or before D.</item>
/// <item>A session (user, mini-program, sessionId) is remembered 31 days: a <c>session_start</c> on a day
/// at least 31 days after the day of the session's earliest start begins a new session (an
/// "instance" below); any other <c>session_start</c> of the key continues the session.</item>
/// <item>An order (merchantId, orderId) is remembered 90 days: an <c>order_paid</c> at least 90 days after
/// the day the order was paid is a new order.</item>
/// <item>Percentiles are exact nearest rank over every <c>session_start</c> on D carrying <c>loadMs</c>.</item>
/// <item>Averages are ratios: numerator in seconds (ms / 1000), denominator the count.
/// <c>risk.complaints_per_10k_sessions</c>: numerator the complaint count, value 10 000 * num / den.</item>
/// <item>Money: the currencies "of the day" are those with an order paid on D or an <c>ad_impression</c> on D
/// carrying revenue; for each, <c>aov</c> when it has orders, <c>refund_rate</c> when its gmv is not 0,
/// <c>arpu</c> when dau is not 0 (even when 0); money rows only when not 0.</item>
/// <item>qr orders: the order's session is the one of its key remembered on D (earliest start in D-30..D).</item>
/// <item><c>risk.rejected_event_rate</c> comes from ingest receipts by day of receipt, not from events: rejected /
/// received of the day's totals (no row when nothing was received).</item>
/// <item>The <c>channel</c> rows of <c>users.channel_share</c> exist for the channels that have sessions on D.</item>
/// <item>Catalog version 2. "Active on X" (every retention, window and period below) means a session instance (above)
/// begins on X: a <c>session_start</c> that continues a session remembered from an earlier day makes nobody active.
/// "Active in a period" is active on at least one of its days; "new in a period", a first <c>session_start</c>
/// (overall, or in the mini-program) on one of its days. Periods that reach back before the first event simply
/// have no activity there.</item>
/// <item>Acquisition channel (<c>users.new</c> and <c>users.retention_dN</c> by <c>channel</c>): the channel of
/// the scene of the user's earliest <c>session_start</c> in all history, so the channel split is of the ecosystem's
/// new users only (no per-mini-program channel). Retention by channel: the cohort is the users new on D-N with that
/// acquisition channel; the numerator, those of them active on D (in any mini-program, through any channel).</item>
/// <item><c>users.active_retention_dN</c>: active on D-N and on D / active on D-N; per mini-program, active in it on
/// both days.</item>
/// <item>Weekly rows (<c>users.retention_wN</c>, <c>users.active_retention_wN</c>, N = 1..4) only when D is a
/// Sunday: the cohort is new in (resp. active in) the natural week Monday..Sunday ending D-7N; the numerator, those
/// of them active in [D-6, D]. Monthly rows (<c>users.retention_m1</c>, <c>users.active_retention_m1</c>) only when
/// D is the last day of its month: the cohort is new in (resp. active in) the previous calendar month; the numerator,
/// those of them active from the first of D's month to D. Per mini-program: new in, active in, that mini-program
/// in both periods. As every ratio, no row when the cohort is empty.</item>
/// <item><c>users.referred_sessions</c>: the sessions on D whose instance's earliest <c>session_start</c> carries a
/// <c>referrerMiniProgramId</c>, whatever it names (even the session's own mini-program, or one that never sent an
/// event); total always written, <c>miniProgram.referrer</c> = <c>&lt;miniProgramId&gt;/&lt;referrer&gt;</c>.</item>
/// <item>Per-mini-program distributions (<c>miniProgram.channel</c>, <c>.source</c>, <c>.platform</c>,
/// <c>.durationBucket</c>, <c>.depthBucket</c>): the same counts as the ecosystem dimension, restricted to one
/// mini-program (a <c>session_end</c> by its own <c>miniProgramId</c>), value <c>&lt;miniProgramId&gt;/&lt;value&gt;</c>.</item>
/// <item><c>pages.sharers</c>: distinct users with a <c>share</c> on D carrying that page (value as for
/// <c>pages.shares</c>); a share without a page counts under no page.</item>
/// <item>Custom events: <c>custom.events</c> total counts every <c>custom.*</c> event on D, uncapped, and is written
/// every day. Per mini-program and day the names kept for <c>miniProgram.event</c> are the
/// <see cref="CustomNamesPerMiniProgram"/> ordinally smallest of that mini-program's custom names on D; for
/// <c>event</c>, the <see cref="CustomNamesEcosystem"/> ordinally smallest names of the whole day (every
/// mini-program). Every other name counts as <c>(other)</c>: its events summed, and for <c>custom.users</c> the
/// distinct users with at least one event of an overflow name (of that mini-program, for
/// <c>miniProgram.event</c>). <c>custom.users</c> has no total row.</item>
/// </list>
/// </remarks>
public sealed class ReferenceRollup
{
    public const int SessionMemoryDays = 31;
    public const int OrderMemoryDays = 90;

    /// <summary>The default cap of custom-event names per mini-program and day (<c>miniProgram.event</c>); names past it count as <see cref="OtherCustomName"/>.</summary>
    public const int CustomNamesPerMiniProgram = 100;

    /// <summary>The default cap of custom-event names per day over the whole ecosystem (<c>event</c>).</summary>
    public const int CustomNamesEcosystem = 1000;

    /// <summary>The name the custom events past a cap are counted under.</summary>
    public const string OtherCustomName = "(other)";

    /// <summary>Every metric the reference computes: the whole catalog (<c>risk.rejected_event_rate</c> from the receipts it is given).</summary>
    public static readonly IReadOnlySet<string> Computed = MetricCatalog.All.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);

    private readonly List<Ev> _all;
    private readonly SceneTable _scenes;
    private readonly double _commissionRate;
    private readonly IReadOnlyDictionary<DateOnly, IngestTotals> _receipts;
    private readonly int _perMiniProgramCap;
    private readonly int _ecosystemCap;

    private sealed record Ev(PipelineEvent E, int Day);

    private sealed record Session(string User, string Mp, string Id, int Day, PipelineEvent FirstStart, string Channel);

    private sealed record Order(string Merchant, string OrderId, int Day, PipelineEvent First);

    /// <param name="receipts">Ingest's received and rejected totals by reporting day of receipt; a day absent had none.</param>
    /// <param name="perMiniProgramCap">Custom-event names kept per mini-program and day (<c>miniProgram.event</c>).</param>
    /// <param name="ecosystemCap">Custom-event names kept per day (<c>event</c>).</param>
    public ReferenceRollup(IEnumerable<PipelineEvent> events, IReadOnlyDictionary<DateOnly, IngestTotals> receipts, SceneTable scenes, double commissionRate,
        int perMiniProgramCap = CustomNamesPerMiniProgram, int ecosystemCap = CustomNamesEcosystem)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perMiniProgramCap, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ecosystemCap, 1);
        _perMiniProgramCap = perMiniProgramCap;
        _ecosystemCap = ecosystemCap;
        _scenes = scenes;
        _commissionRate = commissionRate;
        _receipts = receipts;
        var list = events.Select(e => new Ev(e, ShanghaiTime.DayOf(e.TimeMs).DayNumber)).ToList(); // reporting days in Asia/Shanghai, computed on their own
        list.Sort((a, b) => Compare(a.E, b.E));
        _all = list;
    }

    /// <summary>"Earliest" order: corrected time, then event id (ordinal).</summary>
    public static int Compare(PipelineEvent a, PipelineEvent b) =>
        a.TimeMs != b.TimeMs ? a.TimeMs.CompareTo(b.TimeMs) : string.CompareOrdinal(a.EventId, b.EventId);

    public static string DurationBucket(long ms)
    {
        var s = ms / 1000; // floor for ms >= 0
        if (s <= 2) return "0-2s";
        if (s <= 5) return "3-5s";
        if (s <= 10) return "6-10s";
        if (s <= 20) return "11-20s";
        if (s <= 30) return "21-30s";
        if (s <= 50) return "31-50s";
        if (s <= 100) return "51-100s";
        return "100s+";
    }

    public static string DepthBucket(int pageViews) => pageViews switch
    {
        1 => "1", 2 => "2", 3 => "3", 4 => "4", 5 => "5",
        >= 6 and <= 10 => "6-10",
        _ => "10+",
    };

    public static long NearestRank(List<long> values, int p)
    {
        var sorted = values.OrderBy(v => v).ToList();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count);
        // exact integer form of ceil(p * n / 100), so no floating error picks the wrong rank
        var exact = (p * sorted.Count + 99) / 100;
        if (rank != exact) rank = exact;
        return sorted[Math.Max(rank, 1) - 1];
    }

    /// <summary>Session instances whose start day is on or before <paramref name="d"/>, from the starts up to D.</summary>
    private static List<Session> SessionsUpTo(List<Ev> history, SceneTable scenes)
    {
        var result = new List<Session>();
        foreach (var g in history.Where(x => x.E.Type == EventType.SessionStart)
                     .GroupBy(x => (User: x.E.UserKey!, Mp: x.E.MiniProgramId, Id: x.E.SessionId!)))
        {
            Session? current = null;
            foreach (var x in g) // history is sorted: earliest first
            {
                if (current is null || x.Day - current.Day >= SessionMemoryDays)
                {
                    current = new Session(g.Key.User, g.Key.Mp, g.Key.Id, x.Day, x.E, scenes.ChannelOf(x.E.Scene!.Value));
                    result.Add(current);
                }
            }
        }
        return result;
    }

    private static List<Order> OrdersUpTo(List<Ev> history)
    {
        var result = new List<Order>();
        foreach (var g in history.Where(x => x.E.Type == EventType.OrderPaid).GroupBy(x => (M: x.E.MerchantId!, O: x.E.OrderId!)))
        {
            Order? current = null;
            foreach (var x in g)
            {
                if (current is null || x.Day - current.Day >= OrderMemoryDays)
                {
                    current = new Order(g.Key.M, g.Key.O, x.Day, x.E);
                    result.Add(current);
                }
            }
        }
        return result;
    }

    public IReadOnlyList<MetricRow> RowsOf(DateOnly day)
    {
        var d = day.DayNumber;
        var rows = new Rows(day);
        var history = _all.Where(x => x.Day <= d).ToList();
        var today = history.Where(x => x.Day == d).Select(x => x.E).ToList();
        List<PipelineEvent> Today(EventType t) => today.Where(e => e.Type == t).ToList();

        var allSessions = SessionsUpTo(history, _scenes);
        var sessions = allSessions.Where(s => s.Day == d).ToList();
        var allOrders = OrdersUpTo(history);
        var paid = allOrders.Where(o => o.Day == d).ToList();

        var programs = history.Select(x => x.E.MiniProgramId).Distinct().OrderBy(x => x, StringComparer.Ordinal).ToList();

        // Events of a session's key on D ("a session with an X on D"), looked up by key; each list keeps the time order.
        var byKey = today.Where(e => e.SessionId is not null && e.UserKey is not null).ToLookup(e => (e.UserKey!, e.MiniProgramId, e.SessionId!));
        IEnumerable<PipelineEvent> OfSession(Session s, EventType t) => byKey[(s.User, s.Mp, s.Id)].Where(e => e.Type == t);

        // ---------- users active on D ----------
        var activeUsers = sessions.Select(s => s.User).Distinct().ToList();
        long Dau() => activeUsers.Count;
        long DauIn(string mp) => sessions.Where(s => s.Mp == mp).Select(s => s.User).Distinct().Count();

        // Active on X: a session (instance) begins on X. Looked up by day, so that long windows stay cheap.
        var sessionsByDay = allSessions.ToLookup(s => s.Day);
        HashSet<string> ActiveIn(int from, int to, string? mp)
        {
            var set = new HashSet<string>(StringComparer.Ordinal);
            for (var x = from; x <= to; x++)
                foreach (var s in sessionsByDay[x])
                    if (mp is null || s.Mp == mp) set.Add(s.User);
            return set;
        }

        var calendar = day;
        var monday = d - ((int)calendar.DayOfWeek + 6) % 7;
        var firstOfMonth = d - calendar.Day + 1;

        // New users: earliest session_start (overall / in a mini-program) and its day.
        var starts = history.Where(x => x.E.Type == EventType.SessionStart).ToList(); // sorted: First() is the earliest
        var firstStartOfUser = starts.GroupBy(x => x.E.UserKey!).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var firstStartOfUserIn = starts.GroupBy(x => (x.E.UserKey!, x.E.MiniProgramId)).ToDictionary(g => g.Key, g => g.First());
        IEnumerable<string> NewOn(int day0) => firstStartOfUser.Where(kv => kv.Value.Day == day0).Select(kv => kv.Key);
        IEnumerable<string> NewInOn(string mp, int day0) => firstStartOfUserIn.Where(kv => kv.Key.Item2 == mp && kv.Value.Day == day0).Select(kv => kv.Key.Item1);
        // New in a period [from, to]: overall (mp null) or in a mini-program.
        List<string> NewIn(int from, int to, string? mp) => mp is null
            ? firstStartOfUser.Where(kv => kv.Value.Day >= from && kv.Value.Day <= to).Select(kv => kv.Key).ToList()
            : firstStartOfUserIn.Where(kv => kv.Key.Item2 == mp && kv.Value.Day >= from && kv.Value.Day <= to).Select(kv => kv.Key.Item1).ToList();
        // Acquisition channel: the channel of the user's earliest session_start in all history.
        string AcquisitionChannel(string user) => _scenes.ChannelOf(firstStartOfUser[user].E.Scene!.Value);
        // A retention ratio: the cohort members found in `back` / the cohort (no row for an empty cohort).
        void Retention(string metric, string dim, string value, IReadOnlyCollection<string> cohort, HashSet<string> back) =>
            rows.Ratio(metric, dim, value, cohort.Count(back.Contains), cohort.Count);

        // ---------- North Star ----------
        {
            HashSet<string> Engaged(string? mp)
            {
                var set = new HashSet<string>(StringComparer.Ordinal);
                foreach (var o in paid) if (mp is null || o.First.MiniProgramId == mp) set.Add(o.First.UserKey!);
                foreach (var e in Today(EventType.Share)) if (mp is null || e.MiniProgramId == mp) set.Add(e.UserKey!);
                foreach (var g in Today(EventType.SessionEnd).Where(e => mp is null || e.MiniProgramId == mp).GroupBy(e => e.UserKey!))
                    if (g.Sum(e => e.DurationMs ?? 0) >= 60_000) set.Add(g.Key);
                return set;
            }
            rows.Count("northstar.engaged_users", "total", "", Engaged(null).Count);
            foreach (var mp in programs) rows.Count("northstar.engaged_users", "miniProgram", mp, Engaged(mp).Count);
        }

        // ---------- Users ----------
        rows.Count("users.dau", "total", "", Dau());
        foreach (var mp in programs) rows.Count("users.dau", "miniProgram", mp, DauIn(mp));
        foreach (var g in sessions.GroupBy(s => WireNames.PlatformName(s.FirstStart.Platform)))
            rows.Count("users.dau", "platform", g.Key, g.Select(s => s.User).Distinct().Count());
        foreach (var g in sessions.GroupBy(s => s.Channel))
            rows.Count("users.dau", "channel", g.Key, g.Select(s => s.User).Distinct().Count());

        void Window(string metric, int from)
        {
            rows.Count(metric, "total", "", ActiveIn(from, d, null).Count);
            foreach (var mp in programs) rows.Count(metric, "miniProgram", mp, ActiveIn(from, d, mp).Count);
        }
        Window("users.wau", d - 6);
        Window("users.mau", d - 29);
        Window("users.wtd_active", monday);
        Window("users.mtd_active", firstOfMonth);

        rows.Ratio("users.stickiness", "total", "", Dau(), ActiveIn(d - 29, d, null).Count);
        foreach (var mp in programs) rows.Ratio("users.stickiness", "miniProgram", mp, DauIn(mp), ActiveIn(d - 29, d, mp).Count);

        rows.Count("users.cumulative", "total", "", allSessions.Select(s => s.User).Distinct().Count());
        foreach (var mp in programs) rows.Count("users.cumulative", "miniProgram", mp, allSessions.Where(s => s.Mp == mp).Select(s => s.User).Distinct().Count());

        {
            long returning = 0, churned = 0;
            foreach (var g in allSessions.GroupBy(s => s.User))
            {
                var days = g.Select(s => s.Day).ToList();
                var before = days.Where(x => x < d).ToList();
                if (days.Contains(d) && before.Count > 0 && before.Max() <= d - 91) returning++;
                if (days.Max() == d - 90) churned++;
            }
            rows.Count("users.returning_90d", "total", "", returning);
            rows.Count("users.churned_90d", "total", "", churned);
        }

        rows.Count("users.new", "total", "", NewOn(d).Count());
        foreach (var mp in programs) rows.Count("users.new", "miniProgram", mp, NewInOn(mp, d).Count());
        foreach (var g in NewOn(d).GroupBy(AcquisitionChannel))
            rows.Count("users.new", "channel", g.Key, g.Count());

        rows.Count("users.sessions", "total", "", sessions.Count);
        foreach (var mp in programs) rows.Count("users.sessions", "miniProgram", mp, sessions.Count(s => s.Mp == mp));
        foreach (var g in sessions.GroupBy(s => s.Channel)) rows.Count("users.sessions", "channel", g.Key, g.Count());
        foreach (var g in sessions.GroupBy(s => _scenes.SourceOf(s.FirstStart.Scene!.Value).ToString(CultureInfo.InvariantCulture)))
            rows.Count("users.sessions", "source", g.Key, g.Count());
        foreach (var g in sessions.GroupBy(s => WireNames.PlatformName(s.FirstStart.Platform)))
            rows.Count("users.sessions", "platform", g.Key, g.Count());
        foreach (var g in sessions.GroupBy(s => s.Mp + "/" + s.Channel))
            rows.Count("users.sessions", "miniProgram.channel", g.Key, g.Count());
        foreach (var g in sessions.GroupBy(s => s.Mp + "/" + _scenes.SourceOf(s.FirstStart.Scene!.Value).ToString(CultureInfo.InvariantCulture)))
            rows.Count("users.sessions", "miniProgram.source", g.Key, g.Count());
        foreach (var g in sessions.GroupBy(s => s.Mp + "/" + WireNames.PlatformName(s.FirstStart.Platform)))
            rows.Count("users.sessions", "miniProgram.platform", g.Key, g.Count());

        {
            var referred = sessions.Where(s => s.FirstStart.ReferrerMiniProgramId is not null).ToList();
            rows.Count("users.referred_sessions", "total", "", referred.Count);
            foreach (var g in referred.GroupBy(s => s.Mp + "/" + s.FirstStart.ReferrerMiniProgramId))
                rows.Count("users.referred_sessions", "miniProgram.referrer", g.Key, g.Count());
        }

        rows.Ratio("users.sessions_per_user", "total", "", sessions.Count, Dau());
        foreach (var mp in programs) rows.Ratio("users.sessions_per_user", "miniProgram", mp, sessions.Count(s => s.Mp == mp), DauIn(mp));

        var pageViews = Today(EventType.PageView);
        rows.Count("users.page_views", "total", "", pageViews.Count);
        foreach (var mp in programs) rows.Count("users.page_views", "miniProgram", mp, pageViews.Count(e => e.MiniProgramId == mp));

        rows.Ratio("users.visit_depth", "total", "", pageViews.Count, sessions.Count);
        foreach (var mp in programs) rows.Ratio("users.visit_depth", "miniProgram", mp, pageViews.Count(e => e.MiniProgramId == mp), sessions.Count(s => s.Mp == mp));

        var ends = Today(EventType.SessionEnd);
        double Seconds(IEnumerable<PipelineEvent> es) => es.Sum(e => e.DurationMs ?? 0) / 1000.0;
        rows.Ratio("users.avg_session_duration_s", "total", "", Seconds(ends), ends.Count);
        foreach (var mp in programs) rows.Ratio("users.avg_session_duration_s", "miniProgram", mp, Seconds(ends.Where(e => e.MiniProgramId == mp)), ends.Count(e => e.MiniProgramId == mp));
        rows.Ratio("users.time_per_user_s", "total", "", Seconds(ends), Dau());
        foreach (var mp in programs) rows.Ratio("users.time_per_user_s", "miniProgram", mp, Seconds(ends.Where(e => e.MiniProgramId == mp)), DauIn(mp));

        rows.Ratio("users.mini_programs_per_user", "total", "", sessions.Select(s => (s.User, s.Mp)).Distinct().Count(), Dau());

        foreach (var g in sessions.GroupBy(s => s.Channel))
            rows.Ratio("users.channel_share", "channel", g.Key, g.Count(), sessions.Count);

        foreach (var n in MetricCatalog.RetentionDays)
        {
            var metric = $"users.retention_d{n}";
            var cohort = NewOn(d - n).ToList();
            var activeToday = activeUsers.ToHashSet(StringComparer.Ordinal);
            rows.Ratio(metric, "total", "", cohort.Count(activeToday.Contains), cohort.Count);
            foreach (var mp in programs)
            {
                var cohortIn = NewInOn(mp, d - n).ToList();
                var activeIn = sessions.Where(s => s.Mp == mp).Select(s => s.User).ToHashSet(StringComparer.Ordinal);
                rows.Ratio(metric, "miniProgram", mp, cohortIn.Count(activeIn.Contains), cohortIn.Count);
            }
            // By acquisition channel: the cohort's users of that channel; back = active on D, anywhere.
            foreach (var g in cohort.GroupBy(AcquisitionChannel))
                Retention(metric, "channel", g.Key, g.ToList(), activeToday);
        }

        // Active-user retention: active on D-N and on D / active on D-N (per mini-program: active in it on both days).
        foreach (var n in MetricCatalog.RetentionDays)
        {
            var metric = $"users.active_retention_d{n}";
            Retention(metric, "total", "", ActiveIn(d - n, d - n, null), ActiveIn(d, d, null));
            foreach (var mp in programs) Retention(metric, "miniProgram", mp, ActiveIn(d - n, d - n, mp), ActiveIn(d, d, mp));
        }

        // Weekly retention, only on a Sunday: cohorts of the natural week (Monday..Sunday) ending D-7N, back = active in [D-6, D].
        if (calendar.DayOfWeek == DayOfWeek.Sunday)
        {
            foreach (var n in MetricCatalog.RetentionWeeks)
            {
                var (from, to) = (d - 7 * n - 6, d - 7 * n);
                Retention($"users.retention_w{n}", "total", "", NewIn(from, to, null), ActiveIn(d - 6, d, null));
                foreach (var mp in programs) Retention($"users.retention_w{n}", "miniProgram", mp, NewIn(from, to, mp), ActiveIn(d - 6, d, mp));
                Retention($"users.active_retention_w{n}", "total", "", ActiveIn(from, to, null), ActiveIn(d - 6, d, null));
                foreach (var mp in programs) Retention($"users.active_retention_w{n}", "miniProgram", mp, ActiveIn(from, to, mp), ActiveIn(d - 6, d, mp));
            }
        }

        // Monthly retention, only on a month's last day: cohorts of the previous calendar month, back = active in D's month so far (all of it).
        if (calendar.AddDays(1).Day == 1)
        {
            var previousFirst = calendar.AddDays(1 - calendar.Day).AddMonths(-1).DayNumber;
            var previousLast = firstOfMonth - 1;
            Retention("users.retention_m1", "total", "", NewIn(previousFirst, previousLast, null), ActiveIn(firstOfMonth, d, null));
            foreach (var mp in programs) Retention("users.retention_m1", "miniProgram", mp, NewIn(previousFirst, previousLast, mp), ActiveIn(firstOfMonth, d, mp));
            Retention("users.active_retention_m1", "total", "", ActiveIn(previousFirst, previousLast, null), ActiveIn(firstOfMonth, d, null));
            foreach (var mp in programs) Retention("users.active_retention_m1", "miniProgram", mp, ActiveIn(previousFirst, previousLast, mp), ActiveIn(firstOfMonth, d, mp));
        }

        var shares = Today(EventType.Share);
        rows.Count("users.sharers", "total", "", shares.Select(e => e.UserKey).Distinct().Count());
        foreach (var mp in programs) rows.Count("users.sharers", "miniProgram", mp, shares.Where(e => e.MiniProgramId == mp).Select(e => e.UserKey).Distinct().Count());
        rows.Count("users.shares", "total", "", shares.Count);
        foreach (var mp in programs) rows.Count("users.shares", "miniProgram", mp, shares.Count(e => e.MiniProgramId == mp));
        rows.Ratio("users.share_rate", "total", "", shares.Select(e => e.UserKey).Distinct().Count(), Dau());
        foreach (var mp in programs) rows.Ratio("users.share_rate", "miniProgram", mp, shares.Where(e => e.MiniProgramId == mp).Select(e => e.UserKey).Distinct().Count(), DauIn(mp));
        rows.Ratio("users.share_opens_per_share", "total", "", sessions.Count(s => s.Channel == "share"), shares.Count);
        foreach (var mp in programs) rows.Ratio("users.share_opens_per_share", "miniProgram", mp, sessions.Count(s => s.Mp == mp && s.Channel == "share"), shares.Count(e => e.MiniProgramId == mp));

        rows.Count("users.viral_new_users", "total", "", NewOn(d).Count(u => _scenes.ChannelOf(firstStartOfUser[u].E.Scene!.Value) == "share"));
        foreach (var mp in programs)
            rows.Count("users.viral_new_users", "miniProgram", mp, NewInOn(mp, d).Count(u => _scenes.ChannelOf(firstStartOfUserIn[(u, mp)].E.Scene!.Value) == "share"));

        foreach (var g in ends.GroupBy(e => DurationBucket(e.DurationMs!.Value)))
            rows.Count("users.sessions_by_duration", "durationBucket", g.Key, g.Count());
        foreach (var g in ends.GroupBy(e => e.MiniProgramId + "/" + DurationBucket(e.DurationMs!.Value)))
            rows.Count("users.sessions_by_duration", "miniProgram.durationBucket", g.Key, g.Count());
        var depths = sessions.Select(s => (s.Mp, Views: OfSession(s, EventType.PageView).Count())).Where(x => x.Views > 0).ToList();
        foreach (var g in depths.GroupBy(x => DepthBucket(x.Views)))
            rows.Count("users.sessions_by_depth", "depthBucket", g.Key, g.Count());
        foreach (var g in depths.GroupBy(x => x.Mp + "/" + DepthBucket(x.Views)))
            rows.Count("users.sessions_by_depth", "miniProgram.depthBucket", g.Key, g.Count());

        // ---------- Developers ----------
        var activePrograms = sessions.Select(s => s.Mp).Distinct().ToList();
        rows.Count("developers.active_mini_programs", "total", "", activePrograms.Count);
        var publishes = history.Where(x => x.E.Type == EventType.MiniProgramPublished).ToList(); // sorted
        rows.Count("developers.new_mini_programs", "total", "", publishes.GroupBy(x => x.E.MiniProgramId).Count(g => g.First().Day == d));
        var publishedToday = Today(EventType.MiniProgramPublished);
        rows.Count("developers.releases", "total", "", publishedToday.Count);
        foreach (var mp in programs) rows.Count("developers.releases", "miniProgram", mp, publishedToday.Count(e => e.MiniProgramId == mp));
        {
            var owners = new HashSet<string>(StringComparer.Ordinal);
            foreach (var mp in activePrograms)
            {
                var latest = publishes.Where(x => x.E.MiniProgramId == mp).Select(x => x.E).LastOrDefault(); // sorted: last is latest (greatest event id on ties)
                if (latest is not null) owners.Add(latest.DeveloperId!);
            }
            rows.Count("developers.active_developers", "total", "", owners.Count);
        }
        rows.Count("developers.mini_programs_with_100_dau", "total", "", programs.Count(mp => DauIn(mp) >= 100));

        var loads = Today(EventType.SessionStart).Where(e => e.LoadMs is not null).ToList();
        void Percentiles(string dim, string value, List<long> values)
        {
            if (values.Count == 0) return;
            rows.Value("developers.load_time_p50_ms", dim, value, NearestRank(values, 50));
            rows.Value("developers.load_time_p95_ms", dim, value, NearestRank(values, 95));
        }
        Percentiles("total", "", loads.Select(e => e.LoadMs!.Value).ToList());
        foreach (var mp in programs) Percentiles("miniProgram", mp, loads.Where(e => e.MiniProgramId == mp).Select(e => e.LoadMs!.Value).ToList());

        bool HasError(Session s, bool crashOnly) => OfSession(s, EventType.Error).Any(e => !crashOnly || e.ErrorKind == ErrorKind.Crash);
        rows.Ratio("developers.error_rate", "total", "", sessions.Count(s => HasError(s, false)), sessions.Count);
        foreach (var mp in programs) rows.Ratio("developers.error_rate", "miniProgram", mp, sessions.Count(s => s.Mp == mp && HasError(s, false)), sessions.Count(s => s.Mp == mp));

        // ---------- Businesses ----------
        rows.Count("businesses.orders", "total", "", paid.Count);
        foreach (var mp in programs) rows.Count("businesses.orders", "miniProgram", mp, paid.Count(o => o.First.MiniProgramId == mp));
        var currencies = history.Select(x => x.E.Currency).Where(c => c is not null).Select(c => c!).Distinct().OrderBy(c => c, StringComparer.Ordinal).ToList();
        long Gmv(string cur) => paid.Where(o => o.First.Currency == cur).Sum(o => o.First.Amount!.Value);
        foreach (var cur in currencies) rows.Money("businesses.gmv", "currency", cur, Gmv(cur));
        foreach (var mp in programs)
            foreach (var cur in currencies)
                rows.Money("businesses.gmv", "miniProgram.currency", mp + "/" + cur, paid.Where(o => o.First.MiniProgramId == mp && o.First.Currency == cur).Sum(o => o.First.Amount!.Value));
        rows.Count("businesses.buyers", "total", "", paid.Select(o => o.First.UserKey).Distinct().Count());
        foreach (var mp in programs) rows.Count("businesses.buyers", "miniProgram", mp, paid.Where(o => o.First.MiniProgramId == mp).Select(o => o.First.UserKey).Distinct().Count());
        rows.Ratio("businesses.conversion_rate", "total", "", paid.Select(o => o.First.UserKey).Distinct().Count(), Dau());
        foreach (var mp in programs) rows.Ratio("businesses.conversion_rate", "miniProgram", mp, paid.Where(o => o.First.MiniProgramId == mp).Select(o => o.First.UserKey).Distinct().Count(), DauIn(mp));
        rows.Count("businesses.transacting_merchants", "total", "", paid.Select(o => o.Merchant).Distinct().Count());
        {
            var perBuyer = allOrders.Where(o => o.Day >= d - 29 && o.Day <= d).GroupBy(o => o.First.UserKey!).Select(g => g.Count()).ToList();
            rows.Ratio("businesses.repeat_buyer_rate_30d", "total", "", perBuyer.Count(n => n >= 2), perBuyer.Count(n => n >= 1));
        }
        var refunds = Today(EventType.OrderRefunded);
        long Refunds(string cur) => refunds.Where(e => e.Currency == cur).Sum(e => e.Amount!.Value);
        foreach (var cur in currencies) rows.Money("businesses.refunds", "currency", cur, Refunds(cur));
        {
            long qrOrders = 0;
            foreach (var o in paid)
            {
                if (o.First.SessionId is null) continue;
                var session = allSessions.SingleOrDefault(s => s.User == o.First.UserKey && s.Mp == o.First.MiniProgramId && s.Id == o.First.SessionId && s.Day >= d - (SessionMemoryDays - 1));
                var channel = session?.Channel ?? SceneTable.UnknownChannel;
                if (channel == "qr") qrOrders++;
            }
            rows.Ratio("businesses.qr_orders_per_session", "total", "", qrOrders, sessions.Count(s => s.Channel == "qr"));
        }

        // ---------- Platform ----------
        rows.Value("platform.time_spent_s", "total", "", Seconds(ends));
        var impressions = Today(EventType.AdImpression);
        var clicks = Today(EventType.AdClick);
        rows.Count("platform.ad_impressions", "total", "", impressions.Count);
        foreach (var mp in programs) rows.Count("platform.ad_impressions", "miniProgram", mp, impressions.Count(e => e.MiniProgramId == mp));
        rows.Count("platform.ad_clicks", "total", "", clicks.Count);
        foreach (var mp in programs) rows.Count("platform.ad_clicks", "miniProgram", mp, clicks.Count(e => e.MiniProgramId == mp));
        rows.Ratio("platform.ad_ctr", "total", "", clicks.Count, impressions.Count);
        foreach (var mp in programs) rows.Ratio("platform.ad_ctr", "miniProgram", mp, clicks.Count(e => e.MiniProgramId == mp), impressions.Count(e => e.MiniProgramId == mp));
        long AdRevenue(string cur) => impressions.Where(e => e.Revenue is not null && e.Currency == cur).Sum(e => e.Revenue!.Value);
        foreach (var cur in currencies) rows.Money("platform.ad_revenue", "currency", cur, AdRevenue(cur));

        // Currencies of the day (README): an order paid on D in it, or an ad_impression on D carrying revenue in it.
        var dayCurrencies = paid.Select(o => o.First.Currency!)
            .Concat(impressions.Where(e => e.Revenue is not null).Select(e => e.Currency!))
            .Distinct().ToList();
        foreach (var cur in dayCurrencies)
        {
            var gmv = Gmv(cur);
            rows.Ratio("businesses.aov", "currency", cur, gmv, paid.Count(o => o.First.Currency == cur));
            rows.Ratio("businesses.refund_rate", "currency", cur, Refunds(cur), gmv);
            var commission = gmv * _commissionRate;
            rows.Money("platform.commission_revenue", "currency", cur, commission);
            var revenue = AdRevenue(cur) + commission;
            rows.Money("platform.revenue", "currency", cur, revenue);
            rows.Ratio("platform.arpu", "currency", cur, revenue, Dau());
        }

        // ---------- Risk ----------
        rows.Ratio("risk.crash_rate", "total", "", sessions.Count(s => HasError(s, true)), sessions.Count);
        foreach (var mp in programs) rows.Ratio("risk.crash_rate", "miniProgram", mp, sessions.Count(s => s.Mp == mp && HasError(s, true)), sessions.Count(s => s.Mp == mp));
        var complaints = Today(EventType.Complaint);
        rows.Ratio("risk.complaints_per_10k_sessions", "total", "", complaints.Count, sessions.Count, 10_000);
        foreach (var mp in programs) rows.Ratio("risk.complaints_per_10k_sessions", "miniProgram", mp, complaints.Count(e => e.MiniProgramId == mp), sessions.Count(s => s.Mp == mp), 10_000);
        rows.Ratio("risk.permission_denial_rate", "total", "", Today(EventType.PermissionDenied).Count, sessions.Count);
        {
            var top = sessions.GroupBy(s => s.Mp).Select(g => (Mp: g.Key, N: g.Count()))
                .OrderByDescending(x => x.N).ThenBy(x => x.Mp, StringComparer.Ordinal).Take(10).Sum(x => x.N);
            rows.Ratio("risk.top10_session_share", "total", "", top, sessions.Count);
        }
        rows.Ratio("risk.ad_load", "total", "", impressions.Count, sessions.Count);
        {
            var receipts = _receipts.GetValueOrDefault(day);
            rows.Ratio("risk.rejected_event_rate", "total", "", receipts.Rejected, receipts.Received);
        }

        // ---------- Pages ----------
        foreach (var g in pageViews.GroupBy(e => e.MiniProgramId + e.Page))
        {
            rows.Count("pages.views", "miniProgram.page", g.Key, g.Count());
            rows.Count("pages.visitors", "miniProgram.page", g.Key, g.Select(e => e.UserKey).Distinct().Count());
            var timed = g.Where(e => e.DurationMs is not null).ToList();
            rows.Ratio("pages.avg_stay_s", "miniProgram.page", g.Key, Seconds(timed), timed.Count);
        }
        {
            var entries = new Dictionary<string, long>(StringComparer.Ordinal);
            var exits = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var s in sessions)
            {
                var views = OfSession(s, EventType.PageView).ToList(); // sorted: earliest first, ties by event id
                if (views.Count == 0) continue;
                var entry = views.First().MiniProgramId + views.First().Page;
                var exit = views.Last().MiniProgramId + views.Last().Page;
                entries[entry] = entries.GetValueOrDefault(entry) + 1;
                exits[exit] = exits.GetValueOrDefault(exit) + 1;
            }
            foreach (var (page, n) in entries) rows.Count("pages.entries", "miniProgram.page", page, n);
            foreach (var (page, n) in exits) rows.Count("pages.exits", "miniProgram.page", page, n);
        }
        foreach (var g in shares.Where(e => e.Page is not null).GroupBy(e => e.MiniProgramId + e.Page))
        {
            rows.Count("pages.shares", "miniProgram.page", g.Key, g.Count());
            rows.Count("pages.sharers", "miniProgram.page", g.Key, g.Select(e => e.UserKey).Distinct().Count());
        }

        // ---------- Custom events ----------
        {
            var custom = Today(EventType.Custom);
            rows.Count("custom.events", "total", "", custom.Count);
            void Capped(string dim, string prefix, List<PipelineEvent> events, int cap)
            {
                var kept = events.Select(e => e.CustomName!).Distinct().Order(StringComparer.Ordinal).Take(cap).ToHashSet(StringComparer.Ordinal);
                foreach (var g in events.GroupBy(e => kept.Contains(e.CustomName!) ? e.CustomName! : OtherCustomName))
                {
                    rows.Count("custom.events", dim, prefix + g.Key, g.Count());
                    rows.Count("custom.users", dim, prefix + g.Key, g.Select(e => e.UserKey).Distinct().Count());
                }
            }
            Capped("event", "", custom, _ecosystemCap);
            foreach (var g in custom.GroupBy(e => e.MiniProgramId))
                Capped("miniProgram.event", g.Key + "/", g.ToList(), _perMiniProgramCap);
        }

        return rows.All;
    }

    /// <summary>Writes rows by the spec's "Which rows exist" rules.</summary>
    private sealed class Rows(DateOnly day)
    {
        public List<MetricRow> All { get; } = [];

        private void Write(string metric, string dim, string value, double v, double? num, double? den)
        {
            var def = MetricCatalog.Get(metric);
            if (!def.HasDimension(dim)) throw new InvalidOperationException($"reference bug: {metric} has no dimension {dim}");
            var stakeholder = metric[..metric.IndexOf('.')];
            All.Add(new MetricRow(day, metric, stakeholder, def.Tier, dim, value, v, num, den, def.Unit));
        }

        /// <summary>A count or sum: the total row always, any other dimension value when not 0.</summary>
        public void Count(string metric, string dim, string value, long n)
        {
            if (dim == "total" || n != 0) Write(metric, dim, value, n, null, null);
        }

        /// <summary>A sum that is always written for the total (platform.time_spent_s) or a percentile value.</summary>
        public void Value(string metric, string dim, string value, double v) => Write(metric, dim, value, v, null, null);

        /// <summary>Money: one row per currency, only when not 0.</summary>
        public void Money(string metric, string dim, string value, double v)
        {
            if (v != 0) Write(metric, dim, value, v, null, null);
        }

        /// <summary>A ratio: written unless the denominator is 0, even when the value is 0.</summary>
        public void Ratio(string metric, string dim, string value, double num, double den, double scale = 1)
        {
            if (den != 0) Write(metric, dim, value, scale * num / den, num, den);
        }
    }
}
