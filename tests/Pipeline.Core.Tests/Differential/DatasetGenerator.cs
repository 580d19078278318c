using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Time;

namespace Pipeline.Core.Tests.Differential;

/// <summary>A generated list of accepted, de-duplicated events (distinct event ids) and when each arrived.</summary>
/// <param name="Seed">The seed it was generated from: <see cref="DatasetGenerator.Generate"/> of it gives the same dataset.</param>
/// <param name="FirstDay">The first reporting day to roll up (the first day with an event).</param>
/// <param name="LastDay">The last reporting day to roll up (at or after the last day with an event or an arrival).</param>
/// <param name="Events">Every accepted event.</param>
/// <param name="ArrivalDay">The reporting day each event (by id) reached the event store; later than its own day for late events.</param>
/// <param name="CommissionRate">The commission rate to roll up with.</param>
/// <param name="Shape">One line saying what kind of dataset this is, for failure messages.</param>
/// <param name="Duplicates">
/// Copies of accepted events sent again under the same event id (a client retrying a batch it thought lost), each
/// with the day it arrives, never before the first copy. The pipeline drops them; only the pipeline simulation
/// (<see cref="PipelineSimulationTests"/>) sends them, through the processing step.
/// </param>
/// <param name="Receipts">
/// Ingest's received and rejected totals per reporting day of receipt: received counts every copy delivered that day
/// (duplicates included) plus the rejected ones. A day that is absent had no receipt (0/0).
/// </param>
/// <param name="RetryOf">The event id of each client retry (an accepted event re-sent under a new id), to the id it repeats.</param>
public sealed record GeneratedDataset(
    int Seed,
    DateOnly FirstDay,
    DateOnly LastDay,
    IReadOnlyList<PipelineEvent> Events,
    IReadOnlyDictionary<string, DateOnly> ArrivalDay,
    double CommissionRate,
    string Shape,
    IReadOnlyList<(DateOnly Arrival, PipelineEvent Copy)> Duplicates,
    IReadOnlyDictionary<DateOnly, IngestTotals> Receipts,
    IReadOnlyDictionary<string, string> RetryOf)
{
    /// <summary>The receipt totals of a day, 0/0 when it had none (as the receipt ledger answers).</summary>
    public IngestTotals ReceiptsOf(DateOnly day) => Receipts.GetValueOrDefault(day);
}

/// <summary>
/// Seeded, reproducible random datasets of accepted events, with the awkward cases the spec names: order-level
/// duplicates, client retries, late events, several currencies, missing optional props, sessions without a start,
/// session keys restarted on later days (including exactly 30 and 31 days later), events exactly at local midnight
/// (Asia/Shanghai), empty and one-user days, publishes and re-publishes by different developers, time ties broken
/// by event id (mixed case, so ordinal and cultural order differ), every channel and unlisted scene codes.
/// For catalog version 2: about a third of the datasets span five to nine weeks across a whole month (starting in a
/// month and running through the next month's last day), half the users join on a later day (new users in every
/// week and month) and come back across weeks and months; sessions referred by another mini-program of the dataset,
/// by one outside it, or rarely by their own; several custom event names per mini-program (shared between
/// mini-programs, with '_' and digits that sort before letters), and in a few datasets one mini-program with more
/// than 100 names on one day, or a day with more than 1000 names (the caps' <c>(other)</c>).
/// </summary>
/// <remarks>
/// Client retries: the pipeline de-duplicates by (source, eventId) before the rollup, so a retry that reaches the
/// rollup is one re-sent under a new event id and re-stamped a few ms later; those are generated here and count as
/// separate events (a retried <c>order_paid</c> is an order-level duplicate and counts once as an order).
/// Same-event-id duplicates (<see cref="GeneratedDataset.Duplicates"/>) are generated beside the accepted events:
/// some re-stamped a little differently (possibly across midnight) or with other props, arriving the same day or up to
/// three days later. They never reach the engine directly; the pipeline simulation sends them through processing,
/// which must drop them.
/// </remarks>
public static class DatasetGenerator
{
    /// <summary>The pipeline's reporting calendar, for the code under test; the generator itself works in <see cref="ShanghaiTime"/>.</summary>
    public static readonly ReportingCalendar Calendar = new("Asia/Shanghai");

    private static readonly string[] Currencies = ["CNY", "USD", "HKD", "JPY", "EUR"];

    /// <summary>Scene codes per channel (a few of each, from scenes.md) and codes the table does not list.</summary>
    private static readonly int[][] ScenesByChannel =
    [
        [1024, 1026, 1079, 1135, 1373], // explore
        [1005, 1054, 1106, 1301], // search
        [1007, 1008, 1036, 1044, 1154, 1158, 1313], // share
        [1011, 1012, 1013, 1047, 1150, 1153], // qr
        [1001, 1003, 1089, 1104, 1131], // recent
        [1020, 1035, 1043, 1058, 1157], // official_account
        [1045, 1068, 1084, 1387], // ads
        [1019, 1028, 1034, 1100, 1151], // payment
        [1037, 1038, 1199, 1362], // mini_program
        [1000, 1014, 1021, 1999, 2001, 1, 99999], // not listed as a channel: other (some are listed as sources)
    ];

    private static readonly long[] DurationEdges = [0, 999, 2999, 3000, 5999, 6000, 10999, 11000, 20999, 21000, 30999, 31000, 50999, 51000, 100999, 101000, 59_999, 60_000, 250_000];

    public static GeneratedDataset Generate(int seed) => new Builder(seed).Build();

    private sealed class Builder
    {
        private readonly int _seed;
        private readonly Random _r;
        private readonly List<PipelineEvent> _events = [];
        private readonly Dictionary<string, DateOnly> _arrival = new(StringComparer.Ordinal);
        private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _retryOf = new(StringComparer.Ordinal);
        private readonly DateOnly _first;
        private readonly int _days;
        private readonly bool _longSpan;
        private readonly double _lateRate;
        private readonly string[] _programs;
        private readonly Dictionary<string, string[]> _pages = new(StringComparer.Ordinal);
        private readonly string[] _merchants;
        private readonly string[] _developers;
        private readonly List<(string Merchant, string Order, string User, string Mp, string Currency, long Amount)> _orders = [];
        private readonly List<(string User, string Mp, string Session, int Day)> _sessionKeys = [];

        public Builder(int seed)
        {
            _seed = seed;
            _r = new Random(seed);
            _first = new DateOnly(2025, 1, 1).AddDays(_r.Next(0, 800));
            _longSpan = _r.NextDouble() < 0.1;
            _days = _longSpan ? _r.Next(95, 126) : Pick((0.15, () => _r.Next(1, 4)), (0.5, () => _r.Next(4, 36)), (0.35, () => _r.Next(36, 61)));
            if (!_longSpan && _days >= 36)
            {
                // Five weeks or more, across a whole month: the span starts in a month M (ending on M's last day at the
                // latest) and runs through the last day of M+1, so that day has monthly rows with a previous month of data.
                var month = new DateOnly(2025, 1, 1).AddMonths(_r.Next(0, 27));
                var monthEnd = month.AddMonths(1).AddDays(-1);
                var nextEnd = month.AddMonths(2).AddDays(-1);
                var slack = _days - 1 - (nextEnd.DayNumber - monthEnd.DayNumber); // at least 4
                _first = monthEnd.AddDays(-_r.Next(0, Math.Min(slack, monthEnd.Day)));
            }
            _lateRate = _r.NextDouble() < 0.3 ? 0 : _r.NextDouble() * 0.12;
            var programCount = Pick((0.1, () => 1), (0.6, () => _r.Next(2, 7)), (0.3, () => _r.Next(7, 15)));
            _programs = Enumerable.Range(0, programCount).Select(i => (i % 3 == 0 ? "wx" : i % 3 == 1 ? "Wx_" : "wx-") + Token(6)).Distinct().ToArray();
            foreach (var mp in _programs)
                _pages[mp] = Enumerable.Range(0, _r.Next(1, 7)).Select(i => i switch
                {
                    0 => "/pages/index/index",
                    1 => "/pages/item?id=" + _r.Next(1, 4),
                    2 => "pages/no-slash",
                    3 => "/页面/首页",
                    4 => "/p|a#t%h",
                    _ => "/pages/" + Token(4),
                }).Distinct().ToArray();
            _merchants = Enumerable.Range(0, _r.Next(1, 6)).Select(_ => "m" + Token(5)).Distinct().ToArray();
            _developers = Enumerable.Range(0, _r.Next(1, 5)).Select(_ => "dev" + Token(4)).Distinct().ToArray();
            // Custom event names: a few per mini-program, shared between mini-programs, in an order where '_' and digits
            // sort before letters (ordinal), so the names kept under a cap are not simply the alphabetical ones.
            foreach (var mp in _programs)
                _customNames[mp] = Enumerable.Range(0, _r.Next(1, 7)).Select(_ => OneOf(CustomNamePool)).Distinct().ToArray();
            _externalReferrers = ["wxPartner01", "wx_ext-" + Token(4)];
        }

        private static readonly string[] CustomNamePool =
        [
            "add_to_cart", "level_up", "checkout", "search", "coupon_claim", "video_play", "a", "z9", "sign_in",
            "tab_1", "tab_10", "tab_2", "_start", "0_zero", "add_to_cart_v2",
        ];

        private readonly Dictionary<string, string[]> _customNames = new(StringComparer.Ordinal);

        /// <summary>Mini-programs outside the dataset (they never send an event) that refer users to it.</summary>
        private readonly string[] _externalReferrers;

        private T Pick<T>(params (double P, Func<T> F)[] options)
        {
            var x = _r.NextDouble() * options.Sum(o => o.P);
            foreach (var (p, f) in options)
            {
                if (x < p) return f();
                x -= p;
            }
            return options[^1].F();
        }

        private T OneOf<T>(IReadOnlyList<T> items) => items[_r.Next(items.Count)];

        private bool Chance(double p) => _r.NextDouble() < p;

        private const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

        private string Token(int n)
        {
            var c = new char[n];
            for (var i = 0; i < n; i++) c[i] = Alphabet[_r.Next(Alphabet.Length)];
            return new string(c);
        }

        private string NewId()
        {
            while (true)
            {
                // Mixed case and the contract's punctuation, so ordinal order differs from culture order.
                var id = Token(_r.Next(3, 9)) + (Chance(0.2) ? OneOf(["-", "_", ".", ":"]) + Token(2) : "");
                if (_ids.Add(id)) return id;
            }
        }

        private long StartOf(int dayIndex) => ShanghaiTime.MidnightOf(_first.AddDays(dayIndex));

        private const long DayMs = 86_400_000;

        private PipelineEvent Add(PipelineEvent e, int? arrivalIndex = null)
        {
            _events.Add(e);
            var day = ShanghaiTime.DayOf(e.TimeMs);
            var arrival = day;
            if (arrivalIndex is { } a) arrival = _first.AddDays(a);
            else if (Chance(_lateRate)) arrival = day.AddDays(_r.Next(1, 11));
            if (arrival < day) arrival = day;
            _arrival[e.EventId] = arrival;
            // Client retry: the same logical event re-sent under a new id and re-stamped a few ms later.
            if (Chance(0.02) && e.Type != EventType.MiniProgramPublished)
            {
                var retry = Clone(e, NewId(), e.TimeMs + _r.Next(0, 6));
                _events.Add(retry);
                var retryDay = ShanghaiTime.DayOf(retry.TimeMs);
                _arrival[retry.EventId] = arrival < retryDay ? retryDay : arrival;
                _retryOf[retry.EventId] = e.EventId;
            }
            return e;
        }

        private static PipelineEvent Clone(PipelineEvent e, string id, long time, string? page = null) => new()
        {
            EventId = id, Type = e.Type, CustomName = e.CustomName, TimeMs = time, UserKey = e.UserKey, MiniProgramId = e.MiniProgramId,
            SessionId = e.SessionId, Platform = e.Platform, Scene = e.Scene, LoadMs = e.LoadMs, ReferrerMiniProgramId = e.ReferrerMiniProgramId,
            DurationMs = e.DurationMs, Page = page ?? e.Page, ShareTarget = e.ShareTarget, OrderId = e.OrderId, Amount = e.Amount, Currency = e.Currency,
            MerchantId = e.MerchantId, AdUnitId = e.AdUnitId, Revenue = e.Revenue, ErrorKind = e.ErrorKind, Message = e.Message, Reason = e.Reason,
            Scope = e.Scope, DeveloperId = e.DeveloperId, Version = e.Version, Category = e.Category, ExtraProps = e.ExtraProps,
        };

        /// <param name="Join">The first day (index) the user can be active on (a one-user day may pick them earlier).</param>
        private sealed record UserProfile(string Key, string[] Favourites, Platform Platform, double Activity, int SessionPool, int Join);

        public GeneratedDataset Build()
        {
            var userCount = Pick((0.1, () => 1), (0.25, () => _r.Next(2, 6)), (0.4, () => _r.Next(6, 40)), (0.25, () => _longSpan ? _r.Next(40, 120) : _days > 35 ? _r.Next(40, 110) : _days > 25 ? _r.Next(40, 160) : _r.Next(40, 300)));
            var bigProgram = userCount >= 110 && !_longSpan && Chance(0.5); // one mini-program with 100+ dau on busy days
            var users = new List<UserProfile>();
            var keys = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < userCount; i++)
            {
                string key;
                do key = Token(_r.Next(6, 12)) + (Chance(0.3) ? "-" + Token(2) : "_" + Token(1)); while (!keys.Add(key));
                var favourites = bigProgram && Chance(0.85)
                    ? [_programs[0]]
                    : Enumerable.Range(0, _r.Next(1, 4)).Select(_ => _programs[(int)Math.Min(_programs.Length - 1, Math.Floor(Math.Pow(_r.NextDouble(), 2) * _programs.Length))]).Distinct().ToArray();
                var platform = (Platform)_r.Next(0, 8);
                var activity = bigProgram ? 0.75 + 0.25 * _r.NextDouble() : _longSpan ? 0.1 * _r.NextDouble() : _r.NextDouble();
                // Half the users (none of a big mini-program's) join on a later day: new users in every week and month.
                var join = bigProgram || Chance(0.5) ? 0 : _r.Next(0, _days);
                users.Add(new UserProfile(key, favourites, platform, activity, _r.Next(1, 6), join));
            }

            for (var day = 0; day < _days; day++)
            {
                var kind = _r.NextDouble();
                if (day > 0 && kind < 0.08) continue; // an empty day
                var active = kind < 0.16 ? [OneOf(users)] : users.Where(u => day >= u.Join && Chance(u.Activity)).ToList();
                if (_longSpan && day > 10 && day < _days - 15 && !Chance(0.1)) active = []; // long quiet stretch
                if (day == 0 && active.Count == 0) active = [OneOf(users)];
                foreach (var u in active)
                {
                    var n = Pick((0.6, () => 1), (0.3, () => 2), (0.1, () => 3));
                    for (var s = 0; s < n; s++) Session(u, day);
                }
                if (Chance(0.05)) OrphanEvents(users, day);
            }

            Publishes();
            PlantBoundaries(users);
            // A few datasets: one mini-program with more custom names on one day than the per-mini-program cap (100);
            // fewer still: more names on one day than the ecosystem's cap (1000).
            var flood = "";
            if (Chance(0.04))
            {
                var mp = OneOf(_programs.Take(2).ToArray());
                var names = _r.Next(101, 141);
                CustomFlood(users, CustomNames(names, _customNames[mp]).Select(name => (mp, name)));
                flood += $", {names} custom names in {mp} on one day";
            }
            if (Chance(0.015))
            {
                flood += ", 1000+ custom names on one day";
                CustomFlood(users, CustomNames(_r.Next(1001, 1101), []).SelectMany(name => (Chance(0.2) ? new[] { OneOf(_programs), OneOf(_programs) } : [OneOf(_programs)]).Distinct().Select(mp => (mp, name))));
            }

            var eventDays = _events.Select(e => ShanghaiTime.DayOf(e.TimeMs)).ToList();
            var first = eventDays.Min();
            var last = new[] { eventDays.Max(), _arrival.Values.Max() }.Max().AddDays(_r.Next(0, 4));
            var rate = Pick((0.7, () => 0.006), (0.1, () => 0.0), (0.2, () => Math.Round(_r.NextDouble() * 0.05, 4)));
            var duplicates = SameIdDuplicates(last);
            var receipts = Receipts(first, last, duplicates);
            var shape = $"{userCount} users, {_programs.Length} mini-programs, {last.DayNumber - first.DayNumber + 1} days from {first:yyyy-MM-dd}, {_events.Count} events, late rate {_lateRate:0.000}, {duplicates.Count} same-id duplicates{(_longSpan ? ", long span" : "")}{(bigProgram ? ", one big mini-program" : "")}{flood}";
            return new GeneratedDataset(_seed, first, last, _events, _arrival, rate, shape, duplicates, receipts, _retryOf);
        }

        /// <summary>About 3% of events sent again under the same id, the same day or up to three days after the first copy arrived.</summary>
        private List<(DateOnly Arrival, PipelineEvent Copy)> SameIdDuplicates(DateOnly last)
        {
            var result = new List<(DateOnly, PipelineEvent)>();
            foreach (var e in _events)
            {
                if (!Chance(0.03)) continue;
                var arrival = _arrival[e.EventId].AddDays(Pick((0.5, () => 0), (0.5, () => _r.Next(1, 4))));
                if (arrival > last) arrival = last;
                // A retry's clock-skew correction differs a little; sometimes enough to cross local midnight.
                var time = e.TimeMs + Pick((0.5, () => 0L), (0.4, () => (long)_r.Next(-2_000, 2_000)), (0.1, () => -(e.TimeMs - StartOfDayOf(e.TimeMs)) - 1));
                var copy = Clone(e, e.EventId, time);
                if (Chance(0.3)) copy = Clone(copy, e.EventId, time, page: "/pages/retried");
                result.Add((arrival, copy));
            }
            return result;
        }

        private static long StartOfDayOf(long timeMs) => ShanghaiTime.MidnightOf(ShanghaiTime.DayOf(timeMs));

        /// <summary>
        /// Receipt totals by day of receipt: every copy delivered that day is received; some days add rejected events
        /// (none, a few, or a day whose every request was rejected); days with nothing received have no receipt.
        /// </summary>
        private Dictionary<DateOnly, IngestTotals> Receipts(DateOnly first, DateOnly last, List<(DateOnly Arrival, PipelineEvent Copy)> duplicates)
        {
            var delivered = new Dictionary<DateOnly, long>();
            foreach (var a in _arrival.Values) delivered[a] = delivered.GetValueOrDefault(a) + 1;
            foreach (var (a, _) in duplicates) delivered[a] = delivered.GetValueOrDefault(a) + 1;
            var result = new Dictionary<DateOnly, IngestTotals>();
            for (var day = first; day <= last; day = day.AddDays(1))
            {
                var accepted = delivered.GetValueOrDefault(day);
                long rejected = Pick((0.5, () => 0), (0.4, () => _r.Next(1, 20)), (0.1, () => _r.Next(1, 400)));
                if (accepted == 0 && Chance(0.5)) rejected = 0; // a quiet day: no receipt at all
                if (accepted + rejected > 0) result[day] = new IngestTotals(accepted + rejected, rejected);
            }
            return result;
        }

        private long TimeInDay(int day)
        {
            var start = StartOf(day);
            return Pick(
                (0.04, () => start), // exactly local midnight
                (0.03, () => start + DayMs - 1 - _r.Next(0, 30_000)), // just before the next midnight
                (0.1, () => start + _r.Next(0, 24) * 3_600_000L), // on the hour: time ties between events
                (0.83, () => start + (long)(_r.NextDouble() * DayMs)));
        }

        private int SceneCode()
        {
            var channel = _r.Next(ScenesByChannel.Length);
            return OneOf(ScenesByChannel[channel]);
        }

        private Platform EventPlatform(UserProfile u) => Pick((0.75, () => u.Platform), (0.15, () => Platform.Unknown), (0.1, () => (Platform)_r.Next(0, 8)));

        private string PageOf(string mp) => OneOf(_pages[mp]);

        private void Session(UserProfile u, int day)
        {
            var mp = Chance(0.8) ? OneOf(u.Favourites) : OneOf(_programs);
            var sessionId = Chance(0.3) ? "s" + _r.Next(u.SessionPool) : "s-" + Token(6);
            var t = TimeInDay(day);
            long Next(ref long time)
            {
                time += Pick((0.12, () => 0L), (0.88, () => (long)_r.Next(1, 90_000)));
                return time;
            }

            if (Chance(0.9)) SessionStart(u, mp, sessionId, t);
            _sessionKeys.Add((u.Key, mp, sessionId, day));
            SessionBody(u, mp, sessionId, t, day, ref t, Next);

            // The same session key started again on a later day (a continuing session, or a new one after 31 days).
            if (Chance(0.06) && day + 1 < _days)
            {
                var later = day + Pick((0.7, () => 1), (0.3, () => _r.Next(2, 8)));
                if (later < _days)
                {
                    var t2 = TimeInDay(later);
                    SessionStart(u, mp, sessionId, t2);
                    SessionBody(u, mp, sessionId, t2, later, ref t2, Next);
                }
            }
        }

        private delegate long Stepper(ref long time);

        private void SessionStart(UserProfile u, string mp, string sessionId, long t) => Add(new PipelineEvent
        {
            EventId = NewId(), Type = EventType.SessionStart, TimeMs = t, UserKey = u.Key, MiniProgramId = mp, SessionId = sessionId,
            Platform = EventPlatform(u), Scene = SceneCode(), LoadMs = Chance(0.8) ? Pick((0.2, () => 500L), (0.8, () => (long)_r.Next(0, 6000))) : null,
            ReferrerMiniProgramId = Chance(0.12) ? Referrer(mp) : null,
        });

        /// <summary>The mini-program that sent the user: mostly another of the dataset, now and then one outside it, rarely itself.</summary>
        private string Referrer(string mp)
        {
            var others = _programs.Where(p => p != mp).ToArray();
            return others.Length > 0 && Chance(0.8) ? OneOf(others) : Chance(0.8) ? OneOf(_externalReferrers) : mp;
        }

        /// <summary><paramref name="count"/> distinct custom names: <paramref name="usual"/> and random names of [a-z0-9_].</summary>
        private List<string> CustomNames(int count, IEnumerable<string> usual)
        {
            var set = new HashSet<string>(usual, StringComparer.Ordinal);
            while (set.Count < count)
            {
                const string chars = "abcdefghijklmnopqrstuvwxyz0123456789_";
                set.Add(new string(Enumerable.Range(0, _r.Next(1, 9)).Select(_ => chars[_r.Next(chars.Length)]).ToArray()));
            }
            return set.ToList();
        }

        /// <summary>
        /// One day with many custom names: for each (mini-program, name), one to three events from a handful of users
        /// (so some users send both names kept under a cap and names past it).
        /// </summary>
        private void CustomFlood(List<UserProfile> users, IEnumerable<(string Mp, string Name)> pairs)
        {
            var day = _r.Next(0, _days);
            var senders = Enumerable.Range(0, _r.Next(1, 6)).Select(_ => OneOf(users)).ToArray();
            foreach (var (mp, name) in pairs.ToList())
                for (var i = _r.Next(1, 4); i > 0; i--)
                {
                    var u = OneOf(senders);
                    Add(new PipelineEvent
                    {
                        EventId = NewId(), Type = EventType.Custom, CustomName = name, TimeMs = TimeInDay(day), UserKey = u.Key, MiniProgramId = mp,
                        SessionId = Chance(0.5) ? "s-flood" : null, ExtraProps = Chance(0.3) ? "{\"n\":1}" : null,
                    });
                }
        }

        private void SessionBody(UserProfile u, string mp, string sessionId, long t0, int day, ref long t, Stepper next)
        {
            var views = Pick((0.15, () => 0), (0.55, () => _r.Next(1, 6)), (0.25, () => _r.Next(6, 11)), (0.05, () => _r.Next(11, 16)));
            for (var i = 0; i < views; i++)
                Add(new PipelineEvent
                {
                    EventId = NewId(), Type = EventType.PageView, TimeMs = next(ref t), UserKey = u.Key, MiniProgramId = mp, SessionId = sessionId,
                    Platform = EventPlatform(u), Page = PageOf(mp), DurationMs = Chance(0.7) ? _r.Next(0, 120_000) : null,
                });
            if (Chance(0.15))
                Add(new PipelineEvent
                {
                    EventId = NewId(), Type = EventType.Share, TimeMs = next(ref t), UserKey = u.Key, MiniProgramId = mp, SessionId = sessionId,
                    ShareTarget = (ShareTarget)_r.Next(1, 4), Page = Chance(0.6) ? PageOf(mp) : null,
                });
            if (Chance(0.12))
                Add(new PipelineEvent
                {
                    EventId = NewId(), Type = EventType.Error, TimeMs = next(ref t), UserKey = u.Key, MiniProgramId = mp, SessionId = sessionId,
                    ErrorKind = (ErrorKind)_r.Next(1, 5), Message = Chance(0.5) ? "boom" : null,
                });
            if (Chance(0.2))
            {
                var impressions = _r.Next(1, 4);
                for (var i = 0; i < impressions; i++)
                {
                    var withRevenue = Chance(0.5);
                    Add(new PipelineEvent
                    {
                        EventId = NewId(), Type = EventType.AdImpression, TimeMs = next(ref t), UserKey = u.Key, MiniProgramId = mp, SessionId = sessionId,
                        AdUnitId = "ad" + _r.Next(3), Revenue = withRevenue ? (Chance(0.1) ? 0 : _r.Next(1, 500)) : null,
                        Currency = withRevenue ? OneOf(Currencies) : null,
                    });
                    if (Chance(0.3))
                        Add(new PipelineEvent
                        {
                            EventId = NewId(), Type = EventType.AdClick, TimeMs = next(ref t), UserKey = u.Key, MiniProgramId = mp, SessionId = sessionId, AdUnitId = "ad" + _r.Next(3),
                        });
                }
            }
            if (Chance(0.03))
                Add(new PipelineEvent { EventId = NewId(), Type = EventType.Complaint, TimeMs = next(ref t), UserKey = u.Key, MiniProgramId = mp, SessionId = Chance(0.5) ? sessionId : null, Reason = "spam" });
            if (Chance(0.05))
                Add(new PipelineEvent { EventId = NewId(), Type = EventType.PermissionDenied, TimeMs = next(ref t), UserKey = u.Key, MiniProgramId = mp, Scope = "scope.userLocation" });
            if (Chance(0.3))
                for (var i = Pick((0.6, () => 1), (0.3, () => 2), (0.1, () => 4)); i > 0; i--)
                    Add(new PipelineEvent
                    {
                        EventId = NewId(), Type = EventType.Custom, CustomName = OneOf(_customNames[mp]), TimeMs = next(ref t), UserKey = u.Key, MiniProgramId = mp,
                        SessionId = Chance(0.5) ? sessionId : null, ExtraProps = Chance(0.5) ? "{\"sku\":\"x\"}" : null,
                    });
            if (Chance(0.14)) OrderPaid(u, mp, sessionId, next(ref t), day);
            if (Chance(0.7))
                Add(new PipelineEvent
                {
                    EventId = NewId(), Type = EventType.SessionEnd, TimeMs = next(ref t), UserKey = u.Key, MiniProgramId = mp, SessionId = sessionId,
                    DurationMs = Chance(0.3) ? OneOf(DurationEdges) : Math.Max(0, t - t0) + _r.Next(0, 40_000),
                });
        }

        private void OrderPaid(UserProfile u, string mp, string sessionId, long t, int day)
        {
            string merchant, order, currency;
            long amount;
            if (_orders.Count > 0 && Chance(0.05))
            {
                // Another user's order key again (a colliding id): an order-level duplicate with a different buyer, mini-program, amount.
                (merchant, order, _, _, _, _) = OneOf(_orders);
                currency = OneOf(Currencies);
                amount = _r.Next(1, 100_000);
            }
            else
            {
                merchant = OneOf(_merchants);
                order = "o" + Token(5);
                currency = Chance(0.6) ? "CNY" : OneOf(Currencies);
                amount = Pick((0.1, () => 1L), (0.9, () => (long)_r.Next(1, 100_000)));
            }
            var session = Pick((0.6, () => sessionId), (0.3, () => (string?)null), (0.1, () => "s-never-" + Token(3)));
            var paid = Add(new PipelineEvent
            {
                EventId = NewId(), Type = EventType.OrderPaid, TimeMs = t, UserKey = u.Key, MiniProgramId = mp, SessionId = session,
                OrderId = order, Amount = amount, Currency = currency, MerchantId = merchant,
            });
            _orders.Add((merchant, order, u.Key, mp, currency, amount));

            // Repeated order_paid for the same order: same day (possibly the same ms: ties by event id) or a later day.
            if (Chance(0.15))
            {
                var later = Pick((0.5, () => t + _r.Next(0, 3)), (0.3, () => t + _r.Next(1, 3) * DayMs), (0.2, () => t - _r.Next(0, 2)));
                var repeatDay = ShanghaiTime.DayOf(later);
                if (repeatDay.DayNumber - _first.DayNumber < _days)
                    Add(new PipelineEvent
                    {
                        EventId = NewId(), Type = EventType.OrderPaid, TimeMs = later, UserKey = Chance(0.8) ? u.Key : paid.UserKey, MiniProgramId = Chance(0.8) ? mp : OneOf(_programs),
                        SessionId = Chance(0.5) ? session : null, OrderId = order, Amount = Chance(0.5) ? amount : amount + 1, Currency = Chance(0.8) ? currency : OneOf(Currencies),
                        MerchantId = merchant,
                    });
            }
            if (Chance(0.06))
                Add(new PipelineEvent
                {
                    EventId = NewId(), Type = EventType.OrderRefunded, TimeMs = t + _r.Next(1, 3 * 86_400_000), UserKey = u.Key, MiniProgramId = mp,
                    OrderId = order, Amount = Math.Max(1, amount / _r.Next(1, 4)), Currency = Chance(0.9) ? currency : OneOf(Currencies), MerchantId = merchant,
                });
        }

        /// <summary>Events of sessions that never started, and a refund with no order.</summary>
        private void OrphanEvents(List<UserProfile> users, int day)
        {
            var u = OneOf(users);
            var mp = OneOf(_programs);
            var t = TimeInDay(day);
            var session = "s-orphan-" + Token(3);
            SessionBody(u, mp, session, t, day, ref t, (ref long time) => time += _r.Next(0, 10_000));
            if (Chance(0.5))
                Add(new PipelineEvent
                {
                    EventId = NewId(), Type = EventType.OrderRefunded, TimeMs = t, UserKey = u.Key, MiniProgramId = mp,
                    OrderId = "o-unknown", Amount = _r.Next(1, 1000), Currency = OneOf(Currencies), MerchantId = OneOf(_merchants),
                });
        }

        private void Publishes()
        {
            var mps = _programs.Append("wxNeverUsed" + Token(2)).ToArray();
            foreach (var mp in mps)
            {
                if (!Chance(0.8)) continue; // never published: no owner
                var n = _r.Next(1, 4);
                long? previous = null;
                for (var i = 0; i < n; i++)
                {
                    var day = _r.Next(0, _days);
                    var time = previous is { } p && Chance(0.25) ? p : TimeInDay(day); // a tie: owner decided by the greater event id
                    previous = time;
                    Add(new PipelineEvent
                    {
                        EventId = NewId(), Type = EventType.MiniProgramPublished, TimeMs = time, MiniProgramId = mp,
                        DeveloperId = OneOf(_developers), Version = "1." + i, Category = Chance(0.5) ? "shopping" : null,
                    });
                }
            }
        }

        /// <summary>Session keys started again exactly 30 and 31 days later, and orders paid again 89 and 90 days later.</summary>
        private void PlantBoundaries(List<UserProfile> users)
        {
            if (_sessionKeys.Count == 0) return;
            for (var i = 0; i < 3; i++)
            {
                var (user, mp, session, day) = OneOf(_sessionKeys);
                var gap = OneOf([30, 31, 32, 61, 62]);
                if (day + gap >= _days) continue;
                var u = users.First(x => x.Key == user);
                var t = TimeInDay(day + gap);
                SessionStart(u, mp, session, t);
                SessionBody(u, mp, session, t, day + gap, ref t, (ref long time) => time += _r.Next(0, 10_000));
            }
            // An order attributed to a qr session started 29, 30 or 31 days before (remembered 31 days: D-30..D).
            for (var i = 0; i < 2; i++)
            {
                var gap = OneOf([29, 30, 31]);
                var startDay = _r.Next(0, Math.Max(1, _days - gap));
                if (startDay + gap >= _days) continue;
                var u = OneOf(users);
                var mp = OneOf(_programs);
                var session = "s-qr-" + Token(4);
                var t0 = TimeInDay(startDay);
                Add(new PipelineEvent
                {
                    EventId = NewId(), Type = EventType.SessionStart, TimeMs = t0, UserKey = u.Key, MiniProgramId = mp, SessionId = session,
                    Platform = u.Platform, Scene = OneOf(ScenesByChannel[3]),
                });
                Add(new PipelineEvent
                {
                    EventId = NewId(), Type = EventType.OrderPaid, TimeMs = TimeInDay(startDay + gap), UserKey = u.Key, MiniProgramId = mp, SessionId = session,
                    OrderId = "o-qr-" + Token(4), Amount = _r.Next(1, 5000), Currency = "CNY", MerchantId = OneOf(_merchants),
                });
            }
            if (_orders.Count > 0)
                for (var i = 0; i < 3; i++)
                {
                    var (merchant, order, user, mp, currency, amount) = OneOf(_orders);
                    var firstPaid = _events.Where(e => e.Type == EventType.OrderPaid && e.MerchantId == merchant && e.OrderId == order).Min(e => e.TimeMs);
                    var gap = OneOf([89, 90, 91]);
                    var t = firstPaid + gap * DayMs + _r.Next(-3_600_000, 3_600_000);
                    if (ShanghaiTime.DayOf(t).DayNumber - _first.DayNumber >= _days) continue;
                    Add(new PipelineEvent
                    {
                        EventId = NewId(), Type = EventType.OrderPaid, TimeMs = t, UserKey = user, MiniProgramId = mp, OrderId = order,
                        Amount = amount + 7, Currency = currency, MerchantId = merchant,
                    });
                }
        }
    }
}
