using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;
using Xunit.Abstractions;

namespace Pipeline.Core.Tests.Differential;

/// <summary>
/// Re-roll correctness on seeded datasets, through the real <see cref="RollupRunner"/> and
/// <see cref="Processing.ProcessHandler"/> over in-memory ports: late events must change every later day they affect
/// (windows, new users, retention cohorts, repeat buyers, remembered sessions and orders) to exactly what a rollup
/// from scratch of all events gives, and that in turn must equal <see cref="ReferenceRollup"/>.
/// </summary>
/// <remarks>
/// The reference is slow (every day from the whole history), so only the nightly way compares with it directly; the
/// other two compare with the rollup from scratch, which <see cref="DifferentialTests"/> compares with the reference
/// on the same seeds.
/// <para>Three ways of getting the late events in, each over <see cref="DatasetCount"/> datasets:</para>
/// <list type="bullet">
/// <item>Range: roll every day with the on-time events only; store the late events in their days; re-roll on demand
/// (<see cref="RollupRunner.RunRangeAsync"/>) from the earliest changed day, which continues through the last day
/// rolled, each day from the stored state of the day before.</item>
/// <item>Dirty days: the same, but the late events' days are marked dirty and the scheduled run
/// (<see cref="RollupRunner.RunDueAsync"/>) finds them.</item>
/// <item>Nightly: every event (and every same-id duplicate) is delivered in batches on the day it arrives and
/// processed by <see cref="Processing.ProcessHandler"/>, which drops duplicates and marks days dirty; the scheduled
/// run follows every night. After the last night every day must be right.</item>
/// </list>
/// <para>"Late" is an event that arrives after its own reporting day (<see cref="GeneratedDataset.ArrivalDay"/>).
/// A dataset with none (its late rate is 0) gets a seeded 5% of its events sent late, so every run re-rolls.</para>
/// <para>To replay: <c>DIFF_SEED=7 dotnet test tests/Pipeline.Core.Tests --filter FullyQualifiedName=Pipeline.Core.Tests.Differential.RerollTests.Replay</c>.</para>
/// </remarks>
public sealed class RerollTests(ITestOutputHelper output)
{
    public const int DatasetCount = 50;

    public static IEnumerable<object[]> Seeds => Enumerable.Range(1, DatasetCount).Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Seeds))]
    public Task Late_events_rerolled_on_demand_from_the_earliest_changed_day_equal_a_rollup_from_scratch(int seed) => OnTimeThenLate(seed, byDirtyDays: false);

    [Theory]
    [MemberData(nameof(Seeds))]
    public Task Late_events_rerolled_through_their_dirty_days_equal_a_rollup_from_scratch(int seed) => OnTimeThenLate(seed, byDirtyDays: true);

    [Theory]
    [MemberData(nameof(Seeds))]
    public Task Nightly_processing_and_rollups_with_late_events_and_duplicates_end_equal_to_a_rollup_from_scratch(int seed) => Nightly(seed);

    /// <summary>Replays the seeds in DIFF_SEED through all three ways; without it, seed 1, so the replay path is a real check too.</summary>
    [Fact]
    public async Task Replay()
    {
        var text = Environment.GetEnvironmentVariable("DIFF_SEED");
        if (string.IsNullOrWhiteSpace(text)) text = "1";
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var seed = int.Parse(part, System.Globalization.CultureInfo.InvariantCulture);
            output.WriteLine($"seed {seed}: {DatasetGenerator.Generate(seed).Shape}");
            await OnTimeThenLate(seed, byDirtyDays: false);
            await OnTimeThenLate(seed, byDirtyDays: true);
            await Nightly(seed);
        }
    }

    private sealed record Setup(GeneratedDataset Ds, RollupEngine Engine, Random Rng, Dictionary<string, DateOnly> Arrival, DateOnly[] LateDays);

    private static Setup Prepare(int seed)
    {
        var ds = DatasetGenerator.Generate(seed);
        var rng = new Random(seed * 6007 + 3);
        var engine = new RollupEngine(SceneTable.Default, ds.CommissionRate);
        var arrival = new Dictionary<string, DateOnly>(ds.ArrivalDay, StringComparer.Ordinal);
        if (!ds.Events.Any(e => arrival[e.EventId] > DayOf(e)))
            foreach (var e in ds.Events)
                if (DayOf(e) < ds.LastDay && rng.NextDouble() < 0.05) arrival[e.EventId] = Min(DayOf(e).AddDays(rng.Next(1, 11)), ds.LastDay);
        var lateDays = ds.Events.Where(e => arrival[e.EventId] > DayOf(e)).Select(DayOf).Distinct().Order().ToArray();
        return new Setup(ds, engine, rng, arrival, lateDays);
    }

    private static DateOnly DayOf(PipelineEvent e) => ShanghaiTime.DayOf(e.TimeMs);

    private static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;

    private static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;

    private async Task OnTimeThenLate(int seed, bool byDirtyDays)
    {
        var (ds, engine, rng, arrival, lateDays) = Prepare(seed);
        var onTime = ds.Events.Where(e => arrival[e.EventId] == DayOf(e)).ToList();
        var late = ds.Events.Where(e => arrival[e.EventId] > DayOf(e)).ToList();
        var what = byDirtyDays ? "late events through dirty days" : "late events re-rolled on demand";
        var pipeline = new InMemoryPipeline(engine, rng.Next(1, 9), ds.Receipts);
        pipeline.MorningAfter(ds.LastDay);
        var failures = new List<string>();

        // Every day with the on-time events only, from the first day that had any.
        if (onTime.Count > 0)
        {
            var firstOnTime = onTime.Min(DayOf);
            pipeline.Store(onTime);
            pipeline.Mark(onTime.Select(DayOf).Distinct());
            var first = await pipeline.Runner.RunDueAsync(CancellationToken.None);
            Assert.Equal(Days(firstOnTime, ds.LastDay), first.DaysRolled);
        }
        // The rows before the late events are checked once per seed (the two ways share this first run).
        if (onTime.Count > 0 && !byDirtyDays)
        {
            var firstOnTime = onTime.Min(DayOf);
            var before = EngineDriver.RollAll(engine, firstOnTime, ds.LastDay, onTime, ds.Receipts, rng).ToDictionary(r => r.Day, r => r.Rows);
            failures.AddRange(RowDiff.CompareDays(ds, firstOnTime, ds.LastDay, pipeline.Rows, d => before[d], what + ", before the late events",
                "from scratch", "rolled", nameof(RerollTests)));
        }

        // The late events land in their days; the earliest changed day and every day after it are rolled again.
        pipeline.ForgetReplaced();
        pipeline.Store(late);
        // (A dataset of one day, or whose events are all on its last day, can have no late event: it re-rolls unchanged days.)
        var earliest = lateDays.Length > 0 ? lateDays[0] : ds.FirstDay;
        RollupReport report;
        if (byDirtyDays)
        {
            pipeline.Mark(lateDays.Length > 0 ? lateDays : [earliest]);
            report = await pipeline.Runner.RunDueAsync(CancellationToken.None);
            Assert.Empty(pipeline.DirtyDays);
        }
        else // when nothing was rolled yet the range must name the last day itself
            report = await pipeline.Runner.RunRangeAsync(earliest, onTime.Count > 0 ? earliest : ds.LastDay, CancellationToken.None);
        Assert.Equal(Days(earliest, ds.LastDay), report.DaysRolled);
        Assert.Equal(report.DaysRolled, pipeline.Replaced);

        failures.AddRange(CompareWithScratchAndReference(ds, engine, rng, pipeline, what, withReference: false));
        Fail(failures);
    }

    private async Task Nightly(int seed)
    {
        var (ds, engine, rng, arrival, _) = Prepare(seed);
        var pipeline = new InMemoryPipeline(engine, rng.Next(1, 9), ds.Receipts);
        var originals = ds.Events.ToLookup(e => arrival[e.EventId]);
        // A repeat never arrives before its first copy (whose arrival may have been moved later above).
        var duplicates = ds.Duplicates.ToLookup(d => Max(d.Arrival, arrival[d.Copy.EventId]), d => d.Copy);
        long stored = 0, dropped = 0;

        for (var night = ds.FirstDay; night <= ds.LastDay; night = night.AddDays(1))
        {
            pipeline.MorningAfter(night.AddDays(-1)); // received during the night's day
            // The first copies first, then the repeats, so the first copy received is the accepted one.
            var deliveries = Shuffle(originals[night].ToList(), rng).Concat(Shuffle(duplicates[night].ToList(), rng)).ToList();
            for (var i = 0; i < deliveries.Count;)
            {
                var n = Math.Min(deliveries.Count - i, rng.Next(1, 120));
                var result = await pipeline.DeliverAsync(deliveries.GetRange(i, n));
                stored += result.Stored;
                dropped += result.Duplicates;
                i += n;
            }
            pipeline.MorningAfter(night);
            await pipeline.Runner.RunDueAsync(CancellationToken.None);
        }

        // Processing drops only the copies repeated within a batch; the rest are stored and the rollup drops them
        // in the user's shard. Every repeat is dropped by one or the other, and no first copy is.
        Assert.Equal(ds.Events.Count + ds.Duplicates.Count, stored + dropped);
        Assert.Equal(ds.Duplicates.Count, dropped + pipeline.Rollup.DuplicatesFound);
        Assert.Empty(pipeline.DirtyDays);
        Fail(CompareWithScratchAndReference(ds, engine, rng, pipeline, "nightly processing and rollups", withReference: true));
    }

    private static List<string> CompareWithScratchAndReference(GeneratedDataset ds, RollupEngine engine, Random rng, InMemoryPipeline pipeline, string what, bool withReference)
    {
        var scratch = EngineDriver.RollAll(engine, ds.FirstDay, ds.LastDay, ds.Events, ds.Receipts, rng).ToDictionary(r => r.Day, r => r.Rows);
        var failures = RowDiff.CompareDays(ds, ds.FirstDay, ds.LastDay, pipeline.Rows, d => scratch[d], what, "from scratch", "rolled", nameof(RerollTests));
        if (failures.Count > 0 || !withReference) return failures; // the reference would only repeat them
        var reference = new ReferenceRollup(ds.Events, ds.Receipts, SceneTable.Default, ds.CommissionRate);
        return RowDiff.CompareDays(ds, ds.FirstDay, ds.LastDay, pipeline.Rows, reference.RowsOf, what, "reference", "rolled", nameof(RerollTests));
    }

    private static void Fail(List<string> failures)
    {
        if (failures.Count > 0)
            Assert.Fail($"{failures.Count} day(s) differ; first:\n{failures[0]}" + (failures.Count > 1 ? $"\nsecond:\n{failures[1]}" : ""));
    }

    private static List<DateOnly> Days(DateOnly first, DateOnly last)
    {
        var days = new List<DateOnly>();
        for (var d = first; d <= last; d = d.AddDays(1)) days.Add(d);
        return days;
    }

    private static List<T> Shuffle<T>(List<T> items, Random rng)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
        return items;
    }
}
