using System.Globalization;
using System.Runtime.InteropServices;
using Pipeline.Core.Events;
using Pipeline.Core.Scenes;

namespace Pipeline.Core.Rollup;

/// <summary>
/// The earliest <c>order_paid</c> of one order within one user shard on one day, with the facts the
/// catalog takes from it. Mergeable across shards: of two candidates, the earlier (time, then
/// ordinal event id) wins, and the winner's flags were computed in its buyer's own shard, which is
/// the only place that knows the buyer's sessions and the rest of the buyer's day.
/// </summary>
/// <param name="QrSession">The order carries a <c>sessionId</c> and that session of the buyer (on D or remembered) has entry channel <c>qr</c>.</param>
/// <param name="BuyerEngaged">The buyer is engaged on D without this order (shared, or 60 s of sessions).</param>
/// <param name="BuyerProgramEngaged">The same, within the order's mini-program.</param>
public readonly record struct OrderCandidate(
    OrderKey Key, long TimeMs, string EventId, string Buyer, string MiniProgramId, string Currency, long Amount,
    bool QrSession, bool BuyerEngaged, bool BuyerProgramEngaged)
{
    public bool IsEarlierThan(in OrderCandidate other) => Earlier(TimeMs, EventId, other.TimeMs, other.EventId);

    public static bool Earlier(long t1, string id1, long t2, string id2) =>
        t1 < t2 || (t1 == t2 && string.CompareOrdinal(id1, id2) < 0);
}

/// <summary>A <c>mini_program_published</c> event, as far as the registry needs it.</summary>
public readonly record struct PublishEvent(string MiniProgramId, long TimeMs, string EventId, string DeveloperId);

/// <summary>What one shard contributes to the new window state.</summary>
internal sealed class ShardDelta(int sessions = 0)
{
    public List<KeyValuePair<string, UserWindow>> Users { get; } = new(sessions / 2);
    public List<KeyValuePair<UserProgramKey, UserWindow>> UserPrograms { get; } = new(sessions / 2);
    public List<KeyValuePair<SessionKey, SessionInfo>> Sessions { get; } = new(sessions);
}

/// <summary>
/// One user shard's day: aggregates the shard's events into a <see cref="ShardPartial"/> and the
/// shard's contribution to the window state. Reads the previous state, never writes it.
/// </summary>
/// <remarks>
/// Everything keyed by user is settled here, because all of a user's events are in their shard.
/// Orders are keyed by (merchantId, orderId), not by user, so the shard only proposes its
/// earliest <c>order_paid</c> per order (<see cref="OrderCandidate"/>), with what its buyer's shard
/// knows about the buyer; <see cref="DayFinaliser"/> picks the winners across shards.
/// </remarks>
internal static class ShardDayRoller
{
    /// <summary>Engaged by time: <c>session_end</c> durations on D adding up to at least this.</summary>
    public const long EngagedDurationMs = 60_000;

    internal const string Total = "total", MiniProgram = "miniProgram", Channel = "channel", Source = "source", Platform = "platform",
        Currency = "currency", MiniProgramCurrency = "miniProgram.currency", MiniProgramPage = "miniProgram.page",
        DurationBucket = "durationBucket", DepthBucket = "depthBucket",
        MiniProgramChannel = "miniProgram.channel", MiniProgramSource = "miniProgram.source", MiniProgramPlatform = "miniProgram.platform",
        MiniProgramDurationBucket = "miniProgram.durationBucket", MiniProgramDepthBucket = "miniProgram.depthBucket",
        MiniProgramReferrer = "miniProgram.referrer";

    // Internal quantities (not metrics) that ratios are finalised from.
    internal const string SessionEnds = "_session_ends", DurationMs = "_duration_ms", ProgramPairs = "_program_pairs",
        ShareSessions = "_share_sessions", QrSessions = "_qr_sessions", QrOrders = "_qr_orders", ErrorSessions = "_error_sessions",
        CrashSessions = "_crash_sessions", Complaints = "_complaints", PermissionDenials = "_permission_denials",
        StayMs = "_stay_ms", StayCount = "_stay_count", OrdersByCurrency = "_orders_by_currency", MoneyCurrency = "_money_currency";

    private sealed class SessionStart(long timeMs, string eventId, int scene, Platform platform, string? referrer)
    {
        public long TimeMs = timeMs;
        public string EventId = eventId;
        public int Scene = scene;
        public Platform Platform = platform;
        public string? Referrer = referrer;
    }

    private sealed class SessionActivity
    {
        public int PageViews;
        public long FirstTime, LastTime;
        public string FirstId = "", LastId = "", FirstPage = "", LastPage = "";
        public bool HasError, HasCrash;
    }

    /// <summary>The user's (or user-in-program's) earliest session on D, for new and viral users.</summary>
    private struct FirstOfDay
    {
        public long TimeMs;
        public string EventId;
        public string Channel;
    }

    /// <summary>Aggregates one shard's events of <paramref name="day"/> in one pass.</summary>
    public static (ShardPartial Partial, ShardDelta Delta) Roll(
        IReadOnlyList<PipelineEvent> events, WindowState previous, SceneTable scenes, int day)
    {
        var partial = new ShardPartial { Day = day, Events = events.Count };
        var agg = partial.Aggregate;
        var delta = new ShardDelta();
        var orders = new Dictionary<OrderKey, (OrderCandidate Candidate, string? SessionId)>();
        var starts = new Dictionary<SessionKey, SessionStart>(SessionKeyComparer.Instance);
        var activity = new Dictionary<SessionKey, SessionActivity>(SessionKeyComparer.Instance);
        var durationByUser = new Dictionary<string, long>(StringComparer.Ordinal);
        var durationByUserProgram = new Dictionary<UserProgramKey, long>(UserProgramKeyComparer.Instance);
        var sharers = new HashSet<string>(StringComparer.Ordinal);
        var programSharers = new HashSet<UserProgramKey>();
        var pageVisitors = new HashSet<(string User, string Page)>();
        var pageSharers = new HashSet<(string User, string Page)>();
        var custom = new CustomEventTally();

        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var user = e.UserKey ?? "";
            var mp = e.MiniProgramId;
            switch (e.Type)
            {
                case EventType.SessionStart:
                {
                    var key = new SessionKey(user, mp, e.SessionId ?? "");
                    ref var s = ref CollectionsMarshal.GetValueRefOrAddDefault(starts, key, out var exists);
                    if (!exists) s = new SessionStart(e.TimeMs, e.EventId, e.Scene ?? 0, e.Platform, e.ReferrerMiniProgramId);
                    else if (OrderCandidate.Earlier(e.TimeMs, e.EventId, s!.TimeMs, s.EventId))
                    {
                        s.TimeMs = e.TimeMs; s.EventId = e.EventId; s.Scene = e.Scene ?? 0; s.Platform = e.Platform; s.Referrer = e.ReferrerMiniProgramId;
                    }
                    if (e.LoadMs is { } load)
                    {
                        agg.AddSample(RollupEngine.LoadSamples, Total, "", load);
                        agg.AddSample(RollupEngine.LoadSamples, MiniProgram, mp, load);
                    }
                    break;
                }
                case EventType.SessionEnd:
                {
                    var d = e.DurationMs ?? 0;
                    agg.AddTotal(SessionEnds, 1);
                    agg.Add(SessionEnds, MiniProgram, mp, 1);
                    agg.AddTotal(DurationMs, d);
                    agg.Add(DurationMs, MiniProgram, mp, d);
                    var bucket = WeChatBuckets.DurationBucket(d);
                    agg.Add("users.sessions_by_duration", DurationBucket, bucket, 1);
                    agg.Add("users.sessions_by_duration", MiniProgramDurationBucket, Per(mp, bucket), 1);
                    CollectionsMarshal.GetValueRefOrAddDefault(durationByUser, user, out _) += d;
                    CollectionsMarshal.GetValueRefOrAddDefault(durationByUserProgram, new UserProgramKey(user, mp), out _) += d;
                    break;
                }
                case EventType.PageView:
                {
                    var page = string.Concat(mp, e.Page);
                    agg.AddTotal("users.page_views", 1);
                    agg.Add("users.page_views", MiniProgram, mp, 1);
                    agg.Add("pages.views", MiniProgramPage, page, 1);
                    if (pageVisitors.Add((user, page))) agg.Add("pages.visitors", MiniProgramPage, page, 1);
                    if (e.DurationMs is { } stay)
                    {
                        agg.Add(StayMs, MiniProgramPage, page, stay);
                        agg.Add(StayCount, MiniProgramPage, page, 1);
                    }
                    var a = Activity(activity, new SessionKey(user, mp, e.SessionId ?? ""));
                    if (a.PageViews == 0 || OrderCandidate.Earlier(e.TimeMs, e.EventId, a.FirstTime, a.FirstId))
                    {
                        a.FirstTime = e.TimeMs; a.FirstId = e.EventId; a.FirstPage = page;
                    }
                    if (a.PageViews == 0 || OrderCandidate.Earlier(a.LastTime, a.LastId, e.TimeMs, e.EventId))
                    {
                        a.LastTime = e.TimeMs; a.LastId = e.EventId; a.LastPage = page;
                    }
                    a.PageViews++;
                    break;
                }
                case EventType.Share:
                    agg.AddTotal("users.shares", 1);
                    agg.Add("users.shares", MiniProgram, mp, 1);
                    sharers.Add(user);
                    programSharers.Add(new UserProgramKey(user, mp));
                    if (e.Page is not null)
                    {
                        var page = string.Concat(mp, e.Page);
                        agg.Add("pages.shares", MiniProgramPage, page, 1);
                        if (pageSharers.Add((user, page))) agg.Add("pages.sharers", MiniProgramPage, page, 1);
                    }
                    break;
                case EventType.OrderPaid:
                    if (e.MerchantId is null || e.OrderId is null || e.Currency is null || e.Amount is null) break;
                    {
                        var key = new OrderKey(e.MerchantId, e.OrderId);
                        var candidate = new OrderCandidate(key, e.TimeMs, e.EventId, user, mp, e.Currency, e.Amount.Value, false, false, false);
                        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(orders, key, out var exists);
                        if (!exists || candidate.IsEarlierThan(slot.Candidate)) slot = (candidate, e.SessionId);
                    }
                    break;
                case EventType.MiniProgramPublished:
                    partial.Publishes.Add(new PublishEvent(mp, e.TimeMs, e.EventId, e.DeveloperId ?? ""));
                    break;
                case EventType.OrderRefunded:
                    if (e.Currency is not null && e.Amount is { } refund) agg.Add("businesses.refunds", Currency, e.Currency, refund);
                    break;
                case EventType.AdImpression:
                    agg.AddTotal("platform.ad_impressions", 1);
                    agg.Add("platform.ad_impressions", MiniProgram, mp, 1);
                    if (e.Revenue is { } revenue && e.Currency is not null)
                    {
                        agg.Add("platform.ad_revenue", Currency, e.Currency, revenue);
                        agg.Add(MoneyCurrency, Currency, e.Currency, 1);
                    }
                    break;
                case EventType.AdClick:
                    agg.AddTotal("platform.ad_clicks", 1);
                    agg.Add("platform.ad_clicks", MiniProgram, mp, 1);
                    break;
                case EventType.Error:
                {
                    var a = Activity(activity, new SessionKey(user, mp, e.SessionId ?? ""));
                    a.HasError = true;
                    if (e.ErrorKind == ErrorKind.Crash) a.HasCrash = true;
                    break;
                }
                case EventType.Complaint:
                    agg.AddTotal(Complaints, 1);
                    agg.Add(Complaints, MiniProgram, mp, 1);
                    break;
                case EventType.PermissionDenied:
                    agg.AddTotal(PermissionDenials, 1);
                    break;
                case EventType.Custom:
                    custom.Add(user, mp, e.CustomName ?? "");
                    break;
            }
        }
        custom.WriteCounters(agg);

        // Sessions on D: those whose earliest session_start in history (up to D) is on D.
        var sessionRetentionStart = day - WindowState.SessionRetentionDays + 1;
        var activeUsers = new Dictionary<string, FirstOfDay>(StringComparer.Ordinal);
        var activePrograms = new Dictionary<UserProgramKey, FirstOfDay>(UserProgramKeyComparer.Instance);
        var userChannels = new HashSet<(string User, string Channel)>();
        var userPlatforms = new HashSet<(string User, string Platform)>();
        var sessionsToday = new Dictionary<SessionKey, string>(SessionKeyComparer.Instance); // key -> entry channel, for qr orders
        foreach (var (key, s) in starts)
        {
            if (previous.Sessions.TryGetValue(key, out var earlier) && earlier.Day >= sessionRetentionStart) continue;
            var channel = scenes.ChannelOf(s.Scene);
            var source = scenes.SourceOf(s.Scene).ToString(CultureInfo.InvariantCulture);
            var platform = WireNames.PlatformName(s.Platform);
            delta.Sessions.Add(new(key, new SessionInfo(day, s.Scene, channel, platform, s.TimeMs, s.EventId)));
            sessionsToday[key] = channel;

            agg.AddTotal("users.sessions", 1);
            agg.Add("users.sessions", MiniProgram, key.MiniProgramId, 1);
            agg.Add("users.sessions", Channel, channel, 1);
            agg.Add("users.sessions", Source, source, 1);
            agg.Add("users.sessions", Platform, platform, 1);
            agg.Add("users.sessions", MiniProgramChannel, Per(key.MiniProgramId, channel), 1);
            agg.Add("users.sessions", MiniProgramSource, Per(key.MiniProgramId, source), 1);
            agg.Add("users.sessions", MiniProgramPlatform, Per(key.MiniProgramId, platform), 1);
            if (s.Referrer is { } referrer)
            {
                agg.AddTotal("users.referred_sessions", 1);
                agg.Add("users.referred_sessions", MiniProgramReferrer, Per(key.MiniProgramId, referrer), 1);
            }
            if (channel == "share")
            {
                agg.AddTotal(ShareSessions, 1);
                agg.Add(ShareSessions, MiniProgram, key.MiniProgramId, 1);
            }
            else if (channel == "qr") agg.AddTotal(QrSessions, 1);

            Earliest(activeUsers, key.UserKey, s, channel);
            Earliest(activePrograms, new UserProgramKey(key.UserKey, key.MiniProgramId), s, channel);
            if (userChannels.Add((key.UserKey, channel))) agg.Add("users.dau", Channel, channel, 1);
            if (userPlatforms.Add((key.UserKey, platform))) agg.Add("users.dau", Platform, platform, 1);

            if (activity.TryGetValue(key, out var a))
            {
                if (a.PageViews > 0)
                {
                    var depth = WeChatBuckets.DepthBucket(a.PageViews);
                    agg.Add("users.sessions_by_depth", DepthBucket, depth, 1);
                    agg.Add("users.sessions_by_depth", MiniProgramDepthBucket, Per(key.MiniProgramId, depth), 1);
                    agg.Add("pages.entries", MiniProgramPage, a.FirstPage, 1);
                    agg.Add("pages.exits", MiniProgramPage, a.LastPage, 1);
                }
                if (a.HasError)
                {
                    agg.AddTotal(ErrorSessions, 1);
                    agg.Add(ErrorSessions, MiniProgram, key.MiniProgramId, 1);
                }
                if (a.HasCrash)
                {
                    agg.AddTotal(CrashSessions, 1);
                    agg.Add(CrashSessions, MiniProgram, key.MiniProgramId, 1);
                }
            }
        }

        foreach (var (user, first) in activeUsers)
        {
            agg.AddTotal("users.dau", 1);
            if (previous.Users.TryGetValue(user, out var known))
            {
                if (known.LastActiveDay <= day - 91) agg.AddTotal("users.returning_90d", 1);
                delta.Users.Add(new(user, known.ActiveOn(day)));
            }
            else
            {
                agg.AddTotal("users.new", 1);
                agg.Add("users.new", Channel, first.Channel, 1);
                if (first.Channel == "share") agg.AddTotal("users.viral_new_users", 1);
                delta.Users.Add(new(user, UserWindow.New(day, first.Channel)));
            }
        }
        foreach (var (up, first) in activePrograms)
        {
            agg.AddTotal(ProgramPairs, 1);
            agg.Add("users.dau", MiniProgram, up.MiniProgramId, 1);
            if (previous.UserPrograms.TryGetValue(up, out var known))
                delta.UserPrograms.Add(new(up, known.ActiveOn(day)));
            else
            {
                agg.Add("users.new", MiniProgram, up.MiniProgramId, 1);
                if (first.Channel == "share") agg.Add("users.viral_new_users", MiniProgram, up.MiniProgramId, 1);
                delta.UserPrograms.Add(new(up, UserWindow.New(day, first.Channel)));
            }
        }

        // Sharers, buyers and the North Star's engaged users.
        agg.AddTotal("users.sharers", sharers.Count);
        foreach (var up in programSharers) agg.Add("users.sharers", MiniProgram, up.MiniProgramId, 1);

        // Engaged without paying; the finaliser adds the buyers of the winning orders who are not already here.
        var engaged = new HashSet<string>(sharers, StringComparer.Ordinal);
        foreach (var (user, ms) in durationByUser)
            if (ms >= EngagedDurationMs) engaged.Add(user);
        agg.AddTotal("northstar.engaged_users", engaged.Count);
        var engagedPrograms = new HashSet<UserProgramKey>(programSharers);
        foreach (var (up, ms) in durationByUserProgram)
            if (ms >= EngagedDurationMs) engagedPrograms.Add(up);
        foreach (var up in engagedPrograms) agg.Add("northstar.engaged_users", MiniProgram, up.MiniProgramId, 1);

        foreach (var (_, (o, sessionId)) in orders)
        {
            var qr = false;
            if (sessionId is not null)
            {
                var sk = new SessionKey(o.Buyer, o.MiniProgramId, sessionId);
                var channel = sessionsToday.TryGetValue(sk, out var c) ? c
                    : previous.Sessions.TryGetValue(sk, out var known) && known.Day >= sessionRetentionStart ? known.Channel
                    : SceneTable.UnknownChannel;
                qr = channel == "qr";
            }
            partial.Orders.Add(o with
            {
                QrSession = qr,
                BuyerEngaged = engaged.Contains(o.Buyer),
                BuyerProgramEngaged = engagedPrograms.Contains(new UserProgramKey(o.Buyer, o.MiniProgramId)),
            });
        }

        return (partial, delta);
    }

    /// <summary>A value of a <c>miniProgram.*</c> dimension: <c>&lt;miniProgramId&gt;/&lt;value&gt;</c>.</summary>
    internal static string Per(string miniProgramId, string value) => string.Concat(miniProgramId, "/", value);

    internal static void PruneSessions(WindowState state, int d)
    {
        var sessionStart = d - WindowState.SessionRetentionDays + 1;
        List<SessionKey>? oldSessions = null;
        foreach (var (k, s) in state.Sessions)
            if (s.Day < sessionStart) (oldSessions ??= []).Add(k);
        if (oldSessions is not null) foreach (var k in oldSessions) state.Sessions.Remove(k);

    }

    private static SessionActivity Activity(Dictionary<SessionKey, SessionActivity> activity, SessionKey key)
    {
        ref var a = ref CollectionsMarshal.GetValueRefOrAddDefault(activity, key, out _);
        return a ??= new SessionActivity();
    }

    private static void Earliest<TKey>(Dictionary<TKey, FirstOfDay> map, TKey key, SessionStart s, string channel) where TKey : notnull
    {
        ref var f = ref CollectionsMarshal.GetValueRefOrAddDefault(map, key, out var exists);
        if (!exists || OrderCandidate.Earlier(s.TimeMs, s.EventId, f.TimeMs, f.EventId))
            f = new FirstOfDay { TimeMs = s.TimeMs, EventId = s.EventId, Channel = channel };
    }
}
