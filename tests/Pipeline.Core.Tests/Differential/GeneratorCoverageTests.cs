using Pipeline.Core.Events;
using Pipeline.Core.Scenes;
using Xunit.Abstractions;

namespace Pipeline.Core.Tests.Differential;

/// <summary>
/// The awkward cases the differential suite exists for really occur in its datasets: each is counted from the
/// generated events themselves (not from the generator's intentions) over the seeds <see cref="DifferentialTests"/>
/// uses, and must occur in enough of them. The counts are written to the test output.
/// </summary>
public sealed class GeneratorCoverageTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_awkward_case_occurs_in_enough_datasets()
    {
        var datasetsWith = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var totals = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (var seed = 1; seed <= DifferentialTests.DatasetCount; seed++)
            foreach (var (feature, n) in Census(DatasetGenerator.Generate(seed)))
            {
                totals[feature] = totals.GetValueOrDefault(feature) + n;
                if (n > 0) datasetsWith[feature] = datasetsWith.GetValueOrDefault(feature) + 1;
            }
        foreach (var (feature, total) in totals)
            output.WriteLine($"{feature,-48} {datasetsWith.GetValueOrDefault(feature),4} datasets, {total,7} in all");

        foreach (var (feature, minimum) in MinimumDatasets)
            Assert.True(datasetsWith.GetValueOrDefault(feature) >= minimum,
                $"'{feature}' occurs in {datasetsWith.GetValueOrDefault(feature)} of {DifferentialTests.DatasetCount} datasets; at least {minimum} expected");
    }

    /// <summary>In how many of the 200 datasets each case must occur at least (set below what the seeds give, as a guard against a generator change losing a case).</summary>
    private static readonly (string Feature, int Datasets)[] MinimumDatasets =
    [
        ("late events", 100),
        ("same-id duplicates", 100),
        ("same-id duplicate on another day", 20),
        ("client retries (new id, within 5 ms)", 60),
        ("orders paid more than once", 60),
        ("several currencies", 100),
        ("session_start without loadMs", 150),
        ("session_start without platform", 150),
        ("page_view without durationMs", 150),
        ("share without page", 80),
        ("ad_impression without revenue", 100),
        ("order_paid without sessionId", 60),
        ("sessions without a start", 150),
        ("session key started again 31+ days later", 10),
        ("order paid again 90+ days later", 5),
        ("events at local midnight", 150),
        ("events in the last minute before midnight", 100),
        ("empty days", 60),
        ("one-user days", 80),
        ("days with no receipt (0/0)", 60),
        ("days with rejected events", 150),
        ("unlisted scene codes (channel other)", 100),
        // Catalog version 2
        ("new users of 2+ acquisition channels on a day", 100),
        ("retention d1 by channel, numerator > 0", 100),
        ("active retention d1, numerator > 0", 150),
        ("active retention d30, numerator > 0", 40),
        ("Sundays with weekly retention (w1..w4) rows", 120),
        ("Sundays with weekly retention numerator > 0", 120),
        ("Sundays with retention w4 numerator > 0", 60),
        ("Sundays with weekly active retention numerator > 0", 100),
        ("month-ends with monthly retention rows", 60),
        ("month-ends with monthly retention numerator > 0", 60),
        ("month-ends with monthly active retention numerator > 0", 60),
        ("per-mini-program weekly retention rows (Sunday, N, mini-program)", 150),
        ("per-mini-program weekly retention numerator > 0", 130),
        ("per-mini-program weekly cohorts with a user new to the mini-program only", 100),
        ("per-mini-program weekly cohorts back only in another mini-program", 110),
        ("per-mini-program weekly active retention numerator > 0", 130),
        ("per-mini-program monthly retention rows (month-end, mini-program)", 70),
        ("per-mini-program monthly retention numerator > 0", 70),
        ("per-mini-program monthly cohorts with a user new to the mini-program only", 8),
        ("per-mini-program monthly active retention numerator > 0", 70),
        ("spans of 5+ weeks across a month's end", 70),
        ("referred sessions (another mini-program of the dataset)", 120),
        ("referred sessions (a mini-program outside the dataset)", 100),
        ("mini-program days with sessions of 2+ channels", 150),
        ("mini-program days with sessions of 2+ sources", 150),
        ("mini-program days with sessions of 2+ platforms", 140),
        ("mini-program days with session_ends in 2+ duration buckets", 120),
        ("mini-program days with sessions of 2+ depth buckets", 120),
        ("mini-program days with 2+ custom names", 120),
        ("custom names shared by 2+ mini-programs on a day", 60),
        ("mini-program days past the custom-name cap ((other))", 4),
        ("days past the ecosystem custom-name cap ((other))", 1),
        ("pages shared on a day (pages.sharers rows)", 150),
        ("pages shared on a day by fewer users than shares", 50),
    ];

    private static IEnumerable<(string Feature, long Count)> Census(GeneratedDataset ds)
    {
        var events = ds.Events;
        var dayOf = new Dictionary<PipelineEvent, DateOnly>(ReferenceEqualityComparer.Instance);
        var midnight = new Dictionary<DateOnly, long>(); // start of each day, ms
        foreach (var e in events)
        {
            var d = ShanghaiTime.DayOf(e.TimeMs);
            dayOf[e] = d;
            if (!midnight.ContainsKey(d)) midnight[d] = ShanghaiTime.MidnightOf(d);
            if (!midnight.ContainsKey(d.AddDays(1))) midnight[d.AddDays(1)] = ShanghaiTime.MidnightOf(d.AddDays(1));
        }
        DateOnly DayOf(PipelineEvent e) => dayOf[e];
        var byType = events.ToLookup(e => e.Type);

        yield return ("late events", events.Count(e => ds.ArrivalDay[e.EventId] > DayOf(e)));
        yield return ("same-id duplicates", ds.Duplicates.Count);
        var byId = events.ToDictionary(e => e.EventId, StringComparer.Ordinal);
        yield return ("same-id duplicate on another day", ds.Duplicates.Count(d => ShanghaiTime.DayOf(d.Copy.TimeMs) != DayOf(byId[d.Copy.EventId])));
        // A retry is the same event under a new id, stamped 0-5 ms later.
        yield return ("client retries (new id, within 5 ms)", ds.RetryOf.Count(kv =>
        {
            var (retry, first) = (byId[kv.Key], byId[kv.Value]);
            return retry.Type == first.Type && retry.UserKey == first.UserKey && retry.SessionId == first.SessionId && retry.OrderId == first.OrderId
                && retry.TimeMs - first.TimeMs is >= 0 and <= 5;
        }));

        var paidByOrder = byType[EventType.OrderPaid].GroupBy(e => (e.MerchantId, e.OrderId)).ToList();
        yield return ("orders paid more than once", paidByOrder.Count(g => g.Count() > 1));
        yield return ("order paid again 90+ days later", paidByOrder.Count(g => g.Max(DayOf).DayNumber - g.Min(DayOf).DayNumber >= 90));
        yield return ("several currencies", events.Select(e => e.Currency).Where(c => c is not null).Distinct().Count() >= 2 ? 1 : 0);

        yield return ("session_start without loadMs", byType[EventType.SessionStart].Count(e => e.LoadMs is null));
        yield return ("session_start without platform", byType[EventType.SessionStart].Count(e => e.Platform == Platform.Unknown));
        yield return ("page_view without durationMs", byType[EventType.PageView].Count(e => e.DurationMs is null));
        yield return ("share without page", byType[EventType.Share].Count(e => e.Page is null));
        yield return ("ad_impression without revenue", byType[EventType.AdImpression].Count(e => e.Revenue is null));
        yield return ("order_paid without sessionId", byType[EventType.OrderPaid].Count(e => e.SessionId is null));

        var startDays = byType[EventType.SessionStart].GroupBy(e => (e.UserKey, e.MiniProgramId, e.SessionId)).ToDictionary(g => g.Key, g => (First: g.Min(DayOf), Last: g.Max(DayOf)));
        yield return ("sessions without a start", byType[EventType.PageView].Concat(byType[EventType.SessionEnd])
            .Select(e => (e.UserKey, e.MiniProgramId, e.SessionId)).Distinct().Count(k => !startDays.ContainsKey(k)));
        yield return ("session key started again 31+ days later", startDays.Values.Count(x => x.Last.DayNumber - x.First.DayNumber >= 31));

        yield return ("events at local midnight", events.Count(e => midnight[DayOf(e)] == e.TimeMs));
        yield return ("events in the last minute before midnight", events.Count(e => midnight[DayOf(e).AddDays(1)] - e.TimeMs <= 60_000));

        var eventDays = dayOf.Values.ToHashSet();
        var days = Enumerable.Range(0, ds.LastDay.DayNumber - ds.FirstDay.DayNumber + 1).Select(ds.FirstDay.AddDays).ToList();
        yield return ("empty days", days.Count(d => !eventDays.Contains(d)));
        yield return ("one-user days", byType[EventType.SessionStart].GroupBy(DayOf).Count(g => g.Select(e => e.UserKey).Distinct().Count() == 1));
        yield return ("days with no receipt (0/0)", days.Count(d => ds.ReceiptsOf(d).Received == 0));
        yield return ("days with rejected events", days.Count(d => ds.ReceiptsOf(d).Rejected > 0));
        yield return ("unlisted scene codes (channel other)", byType[EventType.SessionStart].Count(e => SceneTable.Default.ChannelOf(e.Scene!.Value) == "other"));

        foreach (var feature in CensusV2(ds, byType, DayOf, days)) yield return feature;
    }

    private sealed record Instance(string User, string Mp, string Id, int Day, PipelineEvent First);

    /// <summary>The catalog-version-2 cases: retention by channel, weekly and monthly (total and per mini-program), a five-week span across a month's end, referred sessions, per-mini-program distributions, custom names past the caps, page sharers.</summary>
    private static IEnumerable<(string Feature, long Count)> CensusV2(GeneratedDataset ds, ILookup<EventType, PipelineEvent> byType, Func<PipelineEvent, DateOnly> dayOf, List<DateOnly> days)
    {
        static int Earliest(PipelineEvent a, PipelineEvent b) => a.TimeMs != b.TimeMs ? a.TimeMs.CompareTo(b.TimeMs) : string.CompareOrdinal(a.EventId, b.EventId);

        // Session instances: a session key's earliest start begins one; a start 31+ days after it begins the next.
        var instances = new List<Instance>();
        foreach (var g in byType[EventType.SessionStart].GroupBy(e => (e.UserKey!, e.MiniProgramId, e.SessionId!)))
        {
            Instance? current = null;
            foreach (var e in g.Order(Comparer<PipelineEvent>.Create(Earliest)))
            {
                var day = dayOf(e).DayNumber;
                if (current is null || day - current.Day >= ReferenceRollup.SessionMemoryDays)
                    instances.Add(current = new Instance(g.Key.Item1, g.Key.Item2, g.Key.Item3, day, e));
            }
        }
        var activeOn = instances.ToLookup(i => i.Day, i => i.User);
        HashSet<string> ActiveIn(int from, int to)
        {
            var set = new HashSet<string>(StringComparer.Ordinal);
            for (var x = from; x <= to; x++) set.UnionWith(activeOn[x]);
            return set;
        }
        var firstStart = byType[EventType.SessionStart].GroupBy(e => e.UserKey!).ToDictionary(g => g.Key, g => g.Order(Comparer<PipelineEvent>.Create(Earliest)).First());
        var newOn = firstStart.ToLookup(kv => dayOf(kv.Value).DayNumber, kv => kv.Key);
        List<string> NewIn(int from, int to)
        {
            var list = new List<string>();
            for (var x = from; x <= to; x++) list.AddRange(newOn[x]);
            return list;
        }
        string Channel(PipelineEvent start) => SceneTable.Default.ChannelOf(start.Scene!.Value);

        var dayNumbers = days.Select(d => d.DayNumber).ToList();
        yield return ("new users of 2+ acquisition channels on a day", dayNumbers.Count(d => NewIn(d, d).Select(u => Channel(firstStart[u])).Distinct().Count() >= 2));
        yield return ("retention d1 by channel, numerator > 0", dayNumbers.Sum(d =>
        {
            var back = ActiveIn(d, d);
            return NewIn(d - 1, d - 1).Where(back.Contains).Select(u => Channel(firstStart[u])).Distinct().Count();
        }));
        yield return ("active retention d1, numerator > 0", dayNumbers.Count(d => ActiveIn(d - 1, d - 1).Overlaps(ActiveIn(d, d))));
        yield return ("active retention d30, numerator > 0", dayNumbers.Count(d => ActiveIn(d - 30, d - 30).Overlaps(ActiveIn(d, d))));

        var sundays = days.Where(d => d.DayOfWeek == DayOfWeek.Sunday).Select(d => d.DayNumber).ToList();
        (int New, int NewBack, int Active, int ActiveBack) Weekly(int d, int n)
        {
            var back = ActiveIn(d - 6, d);
            var cohort = NewIn(d - 7 * n - 6, d - 7 * n);
            var active = ActiveIn(d - 7 * n - 6, d - 7 * n);
            return (cohort.Count, cohort.Count(back.Contains), active.Count, active.Count(back.Contains));
        }
        var weekly = sundays.SelectMany(d => Enumerable.Range(1, 4).Select(n => (N: n, W: Weekly(d, n)))).ToList();
        yield return ("Sundays with weekly retention (w1..w4) rows", weekly.Count(x => x.W.New > 0));
        yield return ("Sundays with weekly retention numerator > 0", weekly.Count(x => x.W.NewBack > 0));
        yield return ("Sundays with retention w4 numerator > 0", weekly.Count(x => x.N == 4 && x.W.NewBack > 0));
        yield return ("Sundays with weekly active retention numerator > 0", weekly.Count(x => x.W.ActiveBack > 0));

        var monthEnds = days.Where(d => d.AddDays(1).Day == 1).ToList();
        var monthly = monthEnds.Select(d =>
        {
            var first = d.AddDays(1 - d.Day).DayNumber;
            var previousFirst = d.AddDays(1 - d.Day).AddMonths(-1).DayNumber;
            var back = ActiveIn(first, d.DayNumber);
            var cohort = NewIn(previousFirst, first - 1);
            var active = ActiveIn(previousFirst, first - 1);
            return (New: cohort.Count, NewBack: cohort.Count(back.Contains), ActiveBack: active.Count(back.Contains));
        }).ToList();
        yield return ("month-ends with monthly retention rows", monthly.Count(x => x.New > 0));
        yield return ("month-ends with monthly retention numerator > 0", monthly.Count(x => x.NewBack > 0));
        yield return ("month-ends with monthly active retention numerator > 0", monthly.Count(x => x.ActiveBack > 0));

        // The same per mini-program (dimension miniProgram of the weekly and monthly rows): new in the mini-program is a
        // user's first session_start in it; active in it, a session instance of it begins. A user new to the mini-program
        // only (first seen in the ecosystem before the cohort's period) and a cohort member back only in another
        // mini-program are where the per-mini-program rows part from the total's.
        var programsWithSessions = instances.Select(i => i.Mp).Distinct(StringComparer.Ordinal).ToList();
        var activeOnIn = instances.ToLookup(i => (i.Day, i.Mp), i => i.User);
        HashSet<string> ActiveInProgram(int from, int to, string mp)
        {
            var set = new HashSet<string>(StringComparer.Ordinal);
            for (var x = from; x <= to; x++) set.UnionWith(activeOnIn[(x, mp)]);
            return set;
        }
        var newOnIn = byType[EventType.SessionStart].GroupBy(e => (User: e.UserKey!, Mp: e.MiniProgramId))
            .ToLookup(g => (dayOf(g.Order(Comparer<PipelineEvent>.Create(Earliest)).First()).DayNumber, g.Key.Mp), g => g.Key.User);
        List<string> NewInProgram(int from, int to, string mp)
        {
            var list = new List<string>();
            for (var x = from; x <= to; x++) list.AddRange(newOnIn[(x, mp)]);
            return list;
        }
        (int New, int NewBack, int NewToProgramOnly, int BackElsewhereOnly, int ActiveBack) Period(int from, int to, int backFrom, int backTo, string mp)
        {
            var back = ActiveInProgram(backFrom, backTo, mp);
            var anywhere = ActiveIn(backFrom, backTo);
            var cohort = NewInProgram(from, to, mp);
            var active = ActiveInProgram(from, to, mp);
            return (cohort.Count, cohort.Count(back.Contains), cohort.Count(u => dayOf(firstStart[u]).DayNumber < from),
                cohort.Count(u => !back.Contains(u) && anywhere.Contains(u)), active.Count(back.Contains));
        }
        var weeklyIn = sundays.SelectMany(d => Enumerable.Range(1, 4).SelectMany(n => programsWithSessions.Select(mp => Period(d - 7 * n - 6, d - 7 * n, d - 6, d, mp)))).ToList();
        yield return ("per-mini-program weekly retention rows (Sunday, N, mini-program)", weeklyIn.Count(x => x.New > 0));
        yield return ("per-mini-program weekly retention numerator > 0", weeklyIn.Count(x => x.NewBack > 0));
        yield return ("per-mini-program weekly cohorts with a user new to the mini-program only", weeklyIn.Count(x => x.NewToProgramOnly > 0));
        yield return ("per-mini-program weekly cohorts back only in another mini-program", weeklyIn.Count(x => x.BackElsewhereOnly > 0));
        yield return ("per-mini-program weekly active retention numerator > 0", weeklyIn.Count(x => x.ActiveBack > 0));
        var monthlyIn = monthEnds.SelectMany(d =>
        {
            var first = d.AddDays(1 - d.Day).DayNumber;
            var previousFirst = d.AddDays(1 - d.Day).AddMonths(-1).DayNumber;
            return programsWithSessions.Select(mp => Period(previousFirst, first - 1, first, d.DayNumber, mp));
        }).ToList();
        yield return ("per-mini-program monthly retention rows (month-end, mini-program)", monthlyIn.Count(x => x.New > 0));
        yield return ("per-mini-program monthly retention numerator > 0", monthlyIn.Count(x => x.NewBack > 0));
        yield return ("per-mini-program monthly cohorts with a user new to the mini-program only", monthlyIn.Count(x => x.NewToProgramOnly > 0));
        yield return ("per-mini-program monthly active retention numerator > 0", monthlyIn.Count(x => x.ActiveBack > 0));

        // The calendar case the longer datasets are for: five weeks or more rolled up, from events in a month M through
        // the last day of a later month (so that month-end has a previous month with events, and Sundays on both sides).
        var firstEvent = ds.Events.Min(e => dayOf(e)).DayNumber;
        yield return ("spans of 5+ weeks across a month's end", ds.LastDay.DayNumber - firstEvent + 1 >= 35
            && monthEnds.Any(d => d.AddDays(1 - d.Day).DayNumber > firstEvent) ? 1 : 0);

        var programs = ds.Events.Select(e => e.MiniProgramId).ToHashSet(StringComparer.Ordinal);
        var referred = instances.Where(i => i.First.ReferrerMiniProgramId is not null).ToList();
        yield return ("referred sessions (another mini-program of the dataset)", referred.Count(i => i.First.ReferrerMiniProgramId != i.Mp && programs.Contains(i.First.ReferrerMiniProgramId!)));
        yield return ("referred sessions (a mini-program outside the dataset)", referred.Count(i => !programs.Contains(i.First.ReferrerMiniProgramId!)));

        yield return ("mini-program days with sessions of 2+ channels", instances.GroupBy(i => (i.Mp, i.Day)).Count(g => g.Select(i => Channel(i.First)).Distinct().Count() >= 2));
        yield return ("mini-program days with sessions of 2+ sources", instances.GroupBy(i => (i.Mp, i.Day)).Count(g => g.Select(i => SceneTable.Default.SourceOf(i.First.Scene!.Value)).Distinct().Count() >= 2));
        yield return ("mini-program days with sessions of 2+ platforms", instances.GroupBy(i => (i.Mp, i.Day)).Count(g => g.Select(i => i.First.Platform).Distinct().Count() >= 2));
        yield return ("mini-program days with session_ends in 2+ duration buckets", byType[EventType.SessionEnd].GroupBy(e => (e.MiniProgramId, dayOf(e)))
            .Count(g => g.Select(e => ReferenceRollup.DurationBucket(e.DurationMs!.Value)).Distinct().Count() >= 2));
        var views = byType[EventType.PageView].ToLookup(e => (e.UserKey, e.MiniProgramId, e.SessionId, dayOf(e).DayNumber));
        yield return ("mini-program days with sessions of 2+ depth buckets", instances.GroupBy(i => (i.Mp, i.Day))
            .Count(g => g.Select(i => views[(i.User, i.Mp, i.Id, i.Day)].Count()).Where(n => n > 0).Select(ReferenceRollup.DepthBucket).Distinct().Count() >= 2));

        var custom = byType[EventType.Custom].ToList();
        var namesByProgramDay = custom.GroupBy(e => (e.MiniProgramId, dayOf(e))).Select(g => g.Select(e => e.CustomName).Distinct().Count()).ToList();
        yield return ("mini-program days with 2+ custom names", namesByProgramDay.Count(n => n >= 2));
        yield return ("custom names shared by 2+ mini-programs on a day", custom.GroupBy(e => (e.CustomName, dayOf(e))).Count(g => g.Select(e => e.MiniProgramId).Distinct().Count() >= 2));
        yield return ("mini-program days past the custom-name cap ((other))", namesByProgramDay.Count(n => n > ReferenceRollup.CustomNamesPerMiniProgram));
        yield return ("days past the ecosystem custom-name cap ((other))", custom.GroupBy(dayOf).Count(g => g.Select(e => e.CustomName).Distinct().Count() > ReferenceRollup.CustomNamesEcosystem));

        var sharedPages = byType[EventType.Share].Where(e => e.Page is not null).GroupBy(e => (e.MiniProgramId + e.Page, dayOf(e))).ToList();
        yield return ("pages shared on a day (pages.sharers rows)", sharedPages.Count);
        yield return ("pages shared on a day by fewer users than shares", sharedPages.Count(g => g.Select(e => e.UserKey).Distinct().Count() < g.Count()));
    }
}
