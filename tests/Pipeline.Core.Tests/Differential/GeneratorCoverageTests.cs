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
    }
}
