using System.Globalization;
using System.Text.Json.Nodes;
using Pipeline.Core.Time;

namespace Pipeline.Local.Simulation;

/// <summary>
/// Generates a run: the ecosystem, its valid traffic over the period, and the send plan with the
/// injected faults (<see cref="SendPlanBuilder"/>). Deterministic: a function of the options only
/// (the end time included), never of the machine or the wall clock.
/// </summary>
public static class TrafficGenerator
{
    public static SimulationPlan Generate(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var calendar = new ReportingCalendar(options.ReportingTimeZone);
        var endRaw = options.EndTime ?? options.TimeProvider.GetUtcNow();
        // Whole milliseconds: the wire carries no finer time, so the ledger must not either.
        var end = DateTimeOffset.FromUnixTimeMilliseconds(endRaw.ToUnixTimeMilliseconds());
        var start = end - TimeSpan.FromDays(options.Days);
        var days = new List<DateOnly>();
        for (var day = calendar.DayOf(start); day <= calendar.DayOf(end); day = day.AddDays(1)) days.Add(day);

        var model = EcosystemModel.Create(options, days.Count);
        var traffic = new TrafficBuilder(options, calendar, model, start, end, days).Build();
        return new SendPlanBuilder(options, calendar, model, days, start, end).Build(traffic);
    }
}

/// <summary>The valid traffic of a run: sessions of users in mini-programs, releases, payments and refunds.</summary>
internal sealed class TrafficBuilder
{
    // Share of a day's sessions starting in each local hour: a night trough, lunch and evening peaks.
    private static readonly double[] HourWeights = [3, 1.5, 0.8, 0.5, 0.5, 0.8, 2, 4.5, 6, 5.5, 5.5, 6, 7.5, 6, 5, 5, 5, 5.5, 6.5, 7, 8, 8.5, 7, 5];

    /// <summary>Events stay this far from a local midnight, so that the pipeline's skew correction (which adds the network latency) cannot move one across a day boundary.</summary>
    internal static readonly TimeSpan MidnightGuard = TimeSpan.FromSeconds(2);

    private static readonly string[] ShareTargets = ["chat", "group", "moments"];
    private static readonly string[] PermissionScopes = ["scope.userLocation", "scope.camera", "scope.record", "scope.writePhotosAlbum", "scope.bluetooth", "scope.werun"];
    private static readonly string[] ComplaintReasons = ["fraud", "misleading_content", "poor_service", "privacy", "harassment", "refund_refused"];
    private static readonly string[] JsErrors =
    [
        "TypeError: Cannot read properties of undefined (reading 'price')",
        "ReferenceError: wx.getUserProfile is not defined",
        "Error: setData payload too large (1.2 MB)",
        "RangeError: Maximum call stack size exceeded",
    ];
    private static readonly string[] NetworkErrors = ["request:fail timeout", "request:fail ssl hand shake error", "uploadFile:fail net::ERR_CONNECTION_RESET", "request:fail -101"];
    private static readonly string[] CustomNames = ["add_to_cart", "coupon_claimed", "video_play", "form_submit"];

    /// <summary>
    /// Feature-flag probes that the second most popular mini-program's debug build sends on its first session
    /// of each day, one custom event per flag: more distinct names than the rollup keeps per mini-program and
    /// day (<c>CustomEventCaps.PerMiniProgram</c>), so the demo shows the <c>(other)</c> row.
    /// </summary>
    private const int FlagProbes = 120;
    private readonly HashSet<DateOnly> _probedDays = [];

    private readonly SimulationOptions _options;
    private readonly ReportingCalendar _calendar;
    private readonly EcosystemModel _model;
    private readonly DateTimeOffset _start;
    private readonly DateTimeOffset _lastEventTime;
    private readonly IReadOnlyList<DateOnly> _days;
    private readonly SimRandom _random;
    private readonly List<SimulatedEvent> _events = [];
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly HashSet<string> _orderIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _seenUsers = new(StringComparer.Ordinal);
    private int _sequence;

    public TrafficBuilder(SimulationOptions options, ReportingCalendar calendar, EcosystemModel model, DateTimeOffset start, DateTimeOffset end, IReadOnlyList<DateOnly> days)
    {
        _options = options;
        _calendar = calendar;
        _model = model;
        _start = start;
        _lastEventTime = end - TimeSpan.FromMinutes(1);
        _days = days;
        _random = new SimRandom(options.Seed, stream: 2);
    }

    /// <summary>Every valid event, ordered by time (ties in generation order).</summary>
    public List<SimulatedEvent> Build()
    {
        Releases();
        for (var dayIndex = 0; dayIndex < _days.Count; dayIndex++)
        {
            Day(dayIndex);
            if (dayIndex + 1 < _days.Count) AcrossMidnight(dayIndex);
        }
        var ordered = _events.Select((e, i) => (e, i)).OrderBy(p => p.e.Time.UtcTicks).ThenBy(p => p.i).Select(p => p.e).ToList();
        return ordered;
    }

    private void Day(int dayIndex)
    {
        var dayStart = _calendar.StartOf(_days[dayIndex]);
        var from = Max(dayStart, _start + MidnightGuard);
        var to = Min(_calendar.StartOf(_days[dayIndex].AddDays(1)), _lastEventTime - TimeSpan.FromMinutes(5));
        if (to <= from) return;
        var fraction = CurveShare(dayStart, from, to);

        foreach (var user in _model.Users)
        {
            if (dayIndex < user.JoinDay) continue;
            var age = dayIndex - user.JoinDay;
            // Everyone comes on the day they join; afterwards activity decays towards a plateau (a retention curve).
            var p = age == 0 ? 1.0 : user.Activity * (0.6 + 0.4 * Math.Exp(-age / 4.0));
            if (!_random.Chance(p * fraction)) continue;
            var sessions = 1 + _random.Poisson(user.Activity * 3.0);
            for (var s = 0; s < sessions; s++)
            {
                var first = _seenUsers.Add(user.UserId);
                Session(user, PickProgram(user), SampleTime(dayStart, from, to), first, crossing: false);
            }
        }
    }

    /// <summary>A few sessions that start shortly before a local midnight and end after it, and one event a few ms after it (a retry of it will land on the day before).</summary>
    private void AcrossMidnight(int dayIndex)
    {
        var midnight = _calendar.StartOf(_days[dayIndex + 1]);
        if (midnight - TimeSpan.FromMinutes(6) < _start || midnight + TimeSpan.FromMinutes(15) > _lastEventTime) return;
        var candidates = _model.Users.Where(u => u.JoinDay <= dayIndex).ToList();
        if (candidates.Count == 0) return;
        for (var i = 0; i < 3; i++)
        {
            var user = _random.Pick(candidates);
            var begin = midnight - TimeSpan.FromMilliseconds(_random.Next(30_000, 300_000));
            var program = PickProgram(user);
            var sessionId = Session(user, program, begin, _seenUsers.Add(user.UserId), crossing: true);
            if (i == 0)
            {
                var page = program.Pages[_random.Next(program.Pages.Count)];
                Add("page_view", midnight + TimeSpan.FromMilliseconds(_random.Next(1, 6)), user.UserId, program.MiniProgramId, sessionId, null,
                    new JsonObject { ["page"] = page, ["durationMs"] = _random.Next(1000, 20_000) }, nearMidnight: true);
            }
        }
    }

    /// <summary>Generates one session; returns its id.</summary>
    private string Session(SimulatedUser user, SimulatedMiniProgram program, DateTimeOffset begin, bool firstVisit, bool crossing)
    {
        var sessionId = "s-" + _random.Hex(12);
        var platform = EcosystemModel.PlatformFor(user, _random);
        var start = Guard(begin);
        var cursor = start;
        var channelIndex = _random.PickWeighted(firstVisit ? SceneCatalog.FirstVisitWeights : SceneCatalog.ReturningWeights);
        var channel = SceneCatalog.Channels[channelIndex];
        var scene = _random.Pick(SceneCatalog.CodesByChannel[channel]);
        var uid = user.UserId;
        var mp = program.MiniProgramId;

        // An SDK occasionally loses the session_start (app killed while sending): such a session has channel "unknown".
        if (!_random.Chance(0.01))
        {
            var props = new JsonObject { ["scene"] = scene };
            if (_random.Chance(0.9)) props["loadMs"] = (int)Math.Clamp(_random.LogNormal(700, 0.6), 60, 20_000);
            if (channel == "mini_program" && _model.MiniPrograms.Count > 1)
            {
                var referrer = _model.MiniPrograms[_random.PickWeighted(_model.PopularityWeights)].MiniProgramId;
                if (referrer != mp) props["referrerMiniProgramId"] = referrer;
            }
            Add("session_start", cursor, uid, mp, sessionId, platform, props, forcePlatform: true);
        }
        if (_model.MiniPrograms.Count > 1 && mp == _model.MiniPrograms[1].MiniProgramId && _probedDays.Add(_calendar.DayOf(cursor)))
            for (var flag = 0; flag < FlagProbes; flag++)
                Add($"custom.flag_{flag:000}", Guard(cursor + Ms(flag + 1)), uid, mp, sessionId, platform, new JsonObject { ["on"] = flag % 3 == 0 });

        int pages;
        if (crossing) pages = _random.Next(5, 9);
        else if (_random.Chance(0.06)) pages = 0; // a bounce
        else pages = 1 + _random.PickWeighted([22, 18, 14, 10, 8, 6, 5, 4, 3, 3, 2, 2, 1, 1, 1, 1]);

        cursor = Guard(cursor + Ms(_random.Next(150, 1500)));
        bool shared = false, ordered = false, crashed = false;
        for (var i = 0; i < pages && !crashed; i++)
        {
            if (cursor > _lastEventTime) return sessionId;
            var page = i == 0 && _random.Chance(0.7) ? program.Pages[0] : program.Pages[_random.Next(program.Pages.Count)];
            var stay = crossing ? _random.Next(40_000, 100_000) : (int)Math.Clamp(_random.LogNormal(9_000, 1.0), 300, 900_000);
            var viewProps = new JsonObject { ["page"] = page };
            if (_random.Chance(0.85)) viewProps["durationMs"] = stay;
            Add("page_view", cursor, uid, mp, sessionId, platform, viewProps);

            // What happens while the page is open, in order.
            var at = cursor;
            DateTimeOffset During() => at = Guard(at + Ms(_random.Next(200, Math.Max(400, stay / 3))));

            if (!shared && _random.Chance(0.05))
            {
                shared = true;
                var props = new JsonObject { ["target"] = ShareTargets[_random.PickWeighted([60, 30, 10])] };
                if (_random.Chance(0.85)) props["page"] = page;
                Add("share", During(), uid, mp, sessionId, platform, props);
            }
            if (program.ShowsAds && _random.Chance(0.35))
            {
                var impressions = 1 + _random.Poisson(0.4);
                for (var k = 0; k < impressions; k++)
                {
                    var unit = _random.Pick(program.AdUnitIds);
                    var props = new JsonObject { ["adUnitId"] = unit };
                    if (_random.Chance(0.65))
                    {
                        props["revenue"] = (int)Math.Clamp(_random.LogNormal(6, 0.9), 0, 500);
                        props["currency"] = _random.Chance(0.95) ? "CNY" : "USD";
                    }
                    Add("ad_impression", During(), uid, mp, sessionId, platform, props);
                    if (_random.Chance(0.07)) Add("ad_click", During(), uid, mp, sessionId, platform, new JsonObject { ["adUnitId"] = unit });
                }
            }
            if (_random.Chance(0.012))
            {
                var kind = new[] { "js_error", "network", "other" }[_random.PickWeighted([55, 30, 15])];
                var props = new JsonObject { ["kind"] = kind };
                if (kind != "other" || _random.Chance(0.5)) props["message"] = kind == "network" ? _random.Pick(NetworkErrors) : _random.Pick(JsErrors);
                Add("error", During(), uid, mp, sessionId, platform, props);
            }
            if (_random.Chance(0.008))
            {
                Add("permission_denied", During(), uid, mp, _random.Chance(0.8) ? sessionId : null, platform,
                    new JsonObject { ["scope"] = _random.Pick(PermissionScopes) });
            }
            if (_random.Chance(0.0025))
            {
                Add("complaint", During(), uid, mp, _random.Chance(0.5) ? sessionId : null, platform,
                    new JsonObject { ["reason"] = _random.Pick(ComplaintReasons) });
            }
            if (_random.Chance(0.012)) Custom(During(), uid, mp, sessionId, platform);
            if (program.Sells && !ordered && i >= 1 && _random.Chance(0.09))
            {
                ordered = true;
                Order(program, uid, sessionId, During());
            }
            if (!crossing && _random.Chance(0.004))
            {
                crashed = true; // the session ends here: no session_end
                Add("error", During(), uid, mp, sessionId, platform, new JsonObject { ["kind"] = "crash", ["message"] = "renderer process gone (SIGABRT)" });
            }
            cursor = Guard(cursor + Ms(stay + _random.Next(150, 2000)));
        }
        if (crashed || cursor > _lastEventTime) return sessionId;
        if (pages == 0) cursor = Guard(cursor + Ms(_random.Next(300, 2500)));
        if (_random.Chance(0.93))
        {
            Add("session_end", cursor, uid, mp, sessionId, platform,
                new JsonObject { ["durationMs"] = (long)(cursor - start).TotalMilliseconds });
        }
        return sessionId;
    }

    private void Order(SimulatedMiniProgram program, string userId, string sessionId, DateTimeOffset at)
    {
        string orderId;
        do orderId = "ord-" + _random.Hex(14); while (!_orderIds.Add(orderId));
        var merchant = _random.Pick(program.MerchantIds);
        var currency = _random.Chance(0.88) ? "CNY" : _random.Chance(0.6) ? "USD" : "HKD";
        var amount = currency == "CNY"
            ? (long)Math.Clamp(_random.LogNormal(4_500, 0.9), 100, 5_000_000)
            : (long)Math.Clamp(_random.LogNormal(2_500, 0.8), 100, 1_000_000);
        JsonObject Props(long value) => new() { ["orderId"] = orderId, ["amount"] = value, ["currency"] = currency, ["merchantId"] = merchant };

        // Paid in the session most of the time; a payment back end without session context otherwise.
        var session = _random.Chance(0.92) ? sessionId : null;
        Add("order_paid", at, userId, program.MiniProgramId, session, null, Props(amount));
        // Payment notifications are sometimes delivered twice, as distinct events: the order counts once.
        if (_random.Chance(0.02))
            Add("order_paid", Guard(at + Ms(_random.Next(1000, 8000))), userId, program.MiniProgramId, session, null, Props(amount));
        if (_random.Chance(0.06))
        {
            var refundAt = Guard(at + TimeSpan.FromMinutes(Math.Clamp(_random.LogNormal(360, 1.2), 10, 3 * 24 * 60)));
            if (refundAt <= _lastEventTime)
                Add("order_refunded", refundAt, userId, program.MiniProgramId, null, null, Props(_random.Chance(0.7) ? amount : Math.Max(1, amount / 2)));
        }
    }

    private void Custom(DateTimeOffset at, string userId, string miniProgramId, string sessionId, string platform)
    {
        var name = _random.Pick(CustomNames);
        var props = name switch
        {
            "add_to_cart" => new JsonObject { ["sku"] = "sku-" + _random.Next(1000, 99_999), ["qty"] = _random.Next(1, 5), ["price"] = _random.Next(100, 50_000), ["tags"] = new JsonArray("new", "sale") },
            "coupon_claimed" => new JsonObject { ["couponId"] = "cp-" + _random.Hex(6), ["value"] = _random.Next(100, 2000), ["stackable"] = _random.Chance(0.5) },
            "video_play" => new JsonObject
            {
                ["videoId"] = "v-" + _random.Hex(8), ["positionMs"] = _random.Next(0, 600_000), ["muted"] = _random.Chance(0.3), ["rate"] = 1.25,
                ["meta"] = new JsonObject { ["ab"] = new JsonObject { ["bucket"] = _random.Chance(0.5) ? "A" : "B" } },
            },
            _ => new JsonObject { ["form"] = "feedback", ["fields"] = _random.Next(1, 12), ["note"] = null },
        };
        Add("custom." + name, at, userId, miniProgramId, sessionId, platform, props);
    }

    /// <summary><c>mini_program_published</c>: every program on the first day, occasional releases later, and one change of owner.</summary>
    private void Releases()
    {
        // Within the first hour of the period; if the first reporting day is only a sliver of it, early on the next.
        var firstDayEnd = _calendar.StartOf(_days[0].AddDays(1));
        var from = _start + MidnightGuard;
        var room = Min(firstDayEnd - MidnightGuard, _lastEventTime) - from;
        if (room < TimeSpan.FromMinutes(1))
        {
            from = firstDayEnd + MidnightGuard;
            room = TimeSpan.FromMinutes(50);
        }
        for (var i = 0; i < _model.MiniPrograms.Count; i++)
        {
            var program = _model.MiniPrograms[i];
            var offset = TimeSpan.FromMilliseconds(_random.NextDouble() * Math.Min(room.TotalMilliseconds, 50 * 60_000));
            var version = $"1.{_random.Next(0, 5)}.{_random.Next(0, 10)}";
            Publish(program, program.DeveloperId, version, Guard(from + offset));
            var minor = 5;
            for (var d = 1; d < _days.Count; d++)
            {
                var transfer = i == 2 && d == _days.Count / 2;
                if (!transfer && !_random.Chance(0.12)) continue;
                var at = _calendar.StartOf(_days[d]) + TimeSpan.FromHours(10) + TimeSpan.FromMilliseconds(_random.Next(0, 8 * 3_600_000));
                if (at > _lastEventTime) continue;
                // A program sold to another developer: its owner is the developer of its latest release.
                var developer = transfer ? "dev-" + _random.Hex(8) : program.DeveloperId;
                Publish(program, developer, $"1.{minor++}.0", Guard(at));
            }
        }
    }

    private void Publish(SimulatedMiniProgram program, string developerId, string version, DateTimeOffset at)
    {
        var props = new JsonObject { ["developerId"] = developerId, ["version"] = version };
        if (_random.Chance(0.85)) props["category"] = program.Category;
        Add("mini_program_published", at, null, program.MiniProgramId, null, null, props);
    }

    private SimulatedMiniProgram PickProgram(SimulatedUser user)
    {
        if (user.Favourites.Count > 0 && _random.Chance(0.8))
        {
            var weights = user.Favourites.Select(f => _model.PopularityWeights[f]).ToArray();
            return _model.MiniPrograms[user.Favourites[_random.PickWeighted(weights)]];
        }
        return _model.MiniPrograms[_random.PickWeighted(_model.PopularityWeights)];
    }

    private void Add(string type, DateTimeOffset at, string? userId, string miniProgramId, string? sessionId, string? platform, JsonObject props,
        bool forcePlatform = false, bool nearMidnight = false)
    {
        if (at > _lastEventTime || at < _start) return;
        var style = (TimestampStyle)_random.PickWeighted([60, 15, 25]);
        var time = style == TimestampStyle.IsoOffset ? at.ToOffset(_calendar.TimeZone.GetUtcOffset(at)) : at.ToUniversalTime();
        _events.Add(new SimulatedEvent
        {
            EventId = NewEventId(),
            Type = type,
            Time = time,
            Style = style,
            UserId = userId,
            MiniProgramId = miniProgramId,
            SessionId = sessionId,
            Platform = forcePlatform || _random.Chance(0.2) ? platform : null,
            Props = props,
            NearMidnight = nearMidnight,
        });
    }

    private string NewEventId()
    {
        string id;
        do id = _random.Chance(0.5) ? _random.Guid() : string.Create(CultureInfo.InvariantCulture, $"e-{_options.Seed}-{_sequence++}");
        while (!_ids.Add(id));
        return id;
    }

    /// <summary>Moves an instant that falls within <see cref="MidnightGuard"/> of a local midnight forward, past the guard (forward only, so a session's order holds).</summary>
    private DateTimeOffset Guard(DateTimeOffset at)
    {
        var dayStart = _calendar.StartOf(_calendar.DayOf(at));
        var sinceMidnight = at - dayStart;
        if (sinceMidnight < MidnightGuard) return dayStart + MidnightGuard + sinceMidnight;
        var nextMidnight = _calendar.StartOf(_calendar.DayOf(at).AddDays(1));
        if (nextMidnight - at < MidnightGuard) return nextMidnight + MidnightGuard + (MidnightGuard - (nextMidnight - at));
        return at;
    }

    /// <summary>A session start drawn from the hourly curve, inside [from, to).</summary>
    private DateTimeOffset SampleTime(DateTimeOffset dayStart, DateTimeOffset from, DateTimeOffset to)
    {
        for (var tries = 0; tries < 100; tries++)
        {
            var hour = _random.PickWeighted(HourWeights);
            var at = dayStart + TimeSpan.FromHours(hour) + Ms(_random.Next(0, 3_600_000));
            if (at >= from && at < to) return at;
        }
        return from + Ms((int)(_random.NextDouble() * (to - from).TotalMilliseconds));
    }

    /// <summary>The share of a whole day's curve that falls inside [from, to).</summary>
    private static double CurveShare(DateTimeOffset dayStart, DateTimeOffset from, DateTimeOffset to)
    {
        double total = 0, inside = 0;
        for (var h = 0; h < 24; h++)
        {
            var hourStart = dayStart + TimeSpan.FromHours(h);
            var overlap = (Min(hourStart + TimeSpan.FromHours(1), to) - Max(hourStart, from)).TotalHours;
            total += HourWeights[h];
            if (overlap > 0) inside += HourWeights[h] * overlap;
        }
        return inside / total;
    }

    private static TimeSpan Ms(long milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
