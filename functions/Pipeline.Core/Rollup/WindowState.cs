namespace Pipeline.Core.Rollup;

/// <summary>A user in one mini-program: the key of per-mini-program first-seen and last-active state.</summary>
public readonly record struct UserProgramKey(string UserKey, string MiniProgramId);

/// <summary>A session: (<c>userId</c> pseudonym, <c>miniProgramId</c>, <c>sessionId</c>).</summary>
public readonly record struct SessionKey(string UserKey, string MiniProgramId, string SessionId);

/// <summary>An order: (<c>merchantId</c>, <c>orderId</c>).</summary>
public readonly record struct OrderKey(string MerchantId, string OrderId);

/// <summary>
/// First-seen and last-active days of a user (overall or in one mini-program), and which of the
/// 64 days ending with the last active day they were active on. Days are <see cref="DateOnly.DayNumber"/>s.
/// </summary>
/// <param name="FirstDay">Day of the user's earliest <c>session_start</c> (in that mini-program).</param>
/// <param name="FirstChannel">Entry channel of that earliest <c>session_start</c>: the acquisition channel (new users by channel, viral new users).</param>
/// <param name="LastActiveDay">Latest day with a session (in that mini-program), as of the state's day.</param>
/// <param name="ActiveDays">Bit k set: active on <c>LastActiveDay - k</c> (bit 0 is always set). Anchored at the
/// last active day, so the state never has to be aged day by day.</param>
/// <remarks>
/// Because the state as of D holds only history up to D, "active somewhere in [D-k, D]" is exactly
/// <c>LastActiveDay &gt;= D-k</c>. The bitmap answers the windows that do not end on D (active
/// retention: active on D-N; weekly and monthly retention: active in an earlier natural week or
/// month); 64 days cover the longest, the previous natural month seen from a month's last day
/// (at most 61 days back).
/// </remarks>
public readonly record struct UserWindow(int FirstDay, string FirstChannel, int LastActiveDay, ulong ActiveDays = 1)
{
    /// <summary>Days back from the last active day that <see cref="ActiveDays"/> remembers.</summary>
    public const int ActivityHistoryDays = 64;

    /// <summary>A user first seen on <paramref name="day"/> through <paramref name="channel"/>.</summary>
    public static UserWindow New(int day, string channel) => new(day, channel, day, 1);

    /// <summary>The same user, active again on <paramref name="day"/> (a later day than <see cref="LastActiveDay"/>).</summary>
    public UserWindow ActiveOn(int day)
    {
        var shift = day - LastActiveDay;
        if (shift <= 0) return this; // already known active on that day (a state is never rolled backwards)
        var kept = shift >= ActivityHistoryDays ? 0UL : ActiveDays << shift;
        return this with { LastActiveDay = day, ActiveDays = kept | 1UL };
    }

    /// <summary>Whether the user was active on at least one day of [<paramref name="from"/>, <paramref name="to"/>]
    /// (days older than <see cref="ActivityHistoryDays"/> before the last active day are not remembered).</summary>
    public bool WasActiveBetween(int from, int to)
    {
        if (to > LastActiveDay) to = LastActiveDay;
        if (from > to) return false;
        var kLow = LastActiveDay - to;                                     // most recent day of the range
        var kHigh = Math.Min(LastActiveDay - from, ActivityHistoryDays - 1); // oldest day remembered
        if (kLow > kHigh) return false;
        var width = kHigh - kLow + 1;
        var mask = width >= 64 ? ulong.MaxValue : ((1UL << width) - 1) << kLow;
        return (ActiveDays & mask) != 0;
    }

    public bool WasActiveOn(int day) => WasActiveBetween(day, day);
}

/// <summary>What is kept of a session: its day and the facts of its earliest <c>session_start</c>.</summary>
/// <param name="Day">Day of the earliest <c>session_start</c>: the day the session is on.</param>
/// <param name="Scene">Entry scene code of that start.</param>
/// <param name="Channel">Entry channel (scene table at the time it was rolled up).</param>
/// <param name="Platform">Platform dimension value of that start (<c>unknown</c> when not sent).</param>
/// <param name="StartTimeMs">Corrected time of that start (for "earliest" comparisons).</param>
/// <param name="StartEventId">Its event id (ties of "earliest" are broken by ordinal event id).</param>
public readonly record struct SessionInfo(int Day, int Scene, string Channel, string Platform, long StartTimeMs, string StartEventId);

/// <summary>A mini-program's publishing history as far as the catalog needs it.</summary>
/// <param name="FirstPublishDay">Day of its earliest <c>mini_program_published</c>.</param>
/// <param name="LatestTimeMs">Time of its latest <c>mini_program_published</c> (ties: greatest event id).</param>
/// <param name="LatestEventId">Event id of that latest publish.</param>
/// <param name="DeveloperId">Owner: the <c>developerId</c> of that latest publish.</param>
public readonly record struct ProgramRegistration(int FirstPublishDay, long LatestTimeMs, string LatestEventId, string DeveloperId);

/// <summary>
/// Window state carried from one rolled-up day to the next: everything the whole metric catalog
/// needs from earlier days, so a day is rolled up from its own events plus this state.
/// </summary>
/// <remarks>
/// <para>"All accepted history" in the definitions is read as history up to and including the day being
/// rolled up: events on later days never change an earlier day's numbers (a user first seen on
/// D+3 by a late event is not retroactively "new" on D); instead, a late event re-rolls its own
/// day and every later day, each from the state of the day before it.</para>
/// <para>Retention: users, per-mini-program users and mini-program registrations are kept forever
/// (cumulative users and first-seen days need them). Sessions are kept
/// <see cref="SessionRetentionDays"/> days: a session key reused after that starts a new session.
/// Orders are kept <see cref="OrderRetentionDays"/> days: an <c>order_paid</c> for the same
/// (merchantId, orderId) arriving after that counts as a new order. Buyers keep the days of their
/// paid orders of the last <see cref="BuyerWindowDays"/> days.</para>
/// </remarks>
public sealed class WindowState
{
    /// <summary>Sessions whose day is older than this many days (counting D) are dropped.</summary>
    public const int SessionRetentionDays = 31;

    /// <summary>Orders paid longer ago than this many days (counting D) are dropped.</summary>
    public const int OrderRetentionDays = 90;

    /// <summary>The repeat-buyer window, [D-29, D].</summary>
    public const int BuyerWindowDays = 30;

    /// <summary>The last day folded into this state (its <see cref="DateOnly.DayNumber"/>); null for the empty state (nothing rolled up yet).</summary>
    public int? AsOfDay { get; set; }

    /// <summary>Per user (pseudonymous key): first session day and channel, last active day.</summary>
    public Dictionary<string, UserWindow> Users { get; } = new(StringComparer.Ordinal);

    /// <summary>Per (user, mini-program): the same, counting only that mini-program.</summary>
    public Dictionary<UserProgramKey, UserWindow> UserPrograms { get; } = new(UserProgramKeyComparer.Instance); // cheaper than the record's hash: see StateKeyHash

    /// <summary>Sessions of the last <see cref="SessionRetentionDays"/> days, by key.</summary>
    public Dictionary<SessionKey, SessionInfo> Sessions { get; } = new(SessionKeyComparer.Instance);

    /// <summary>Orders paid in the last <see cref="OrderRetentionDays"/> days: day of the earliest <c>order_paid</c>.</summary>
    public Dictionary<OrderKey, int> Orders { get; } = new();

    /// <summary>Per buyer: the day of each of their paid orders in the last <see cref="BuyerWindowDays"/> days (one entry per order, ascending).</summary>
    public Dictionary<string, List<int>> Buyers { get; } = new(StringComparer.Ordinal);

    /// <summary>Mini-programs ever published.</summary>
    public Dictionary<string, ProgramRegistration> Programs { get; } = new(StringComparer.Ordinal);

    /// <summary>The empty state: before the first day.</summary>
    public static WindowState Empty() => new();

    /// <summary>A deep copy (the engine never mutates the state it was given).</summary>
    public WindowState Clone()
    {
        var c = new WindowState { AsOfDay = AsOfDay };
        foreach (var kv in Users) c.Users.Add(kv.Key, kv.Value);
        foreach (var kv in UserPrograms) c.UserPrograms.Add(kv.Key, kv.Value);
        foreach (var kv in Sessions) c.Sessions.Add(kv.Key, kv.Value);
        foreach (var kv in Orders) c.Orders.Add(kv.Key, kv.Value);
        foreach (var kv in Buyers) c.Buyers.Add(kv.Key, [.. kv.Value]);
        foreach (var kv in Programs) c.Programs.Add(kv.Key, kv.Value);
        return c;
    }
}
