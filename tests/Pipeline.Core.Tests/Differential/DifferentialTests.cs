using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;
using Xunit.Abstractions;

namespace Pipeline.Core.Tests.Differential;

/// <summary>
/// The engine against <see cref="ReferenceRollup"/> on 200 seeded random datasets: every day of each dataset is rolled
/// up in order (window state carried, events split into 1..8 user shards and shuffled) and the engine's rows must equal
/// the reference's: the same set of (metric, dimension, value) keys and, for each, the same value, numerator,
/// denominator, unit, stakeholder, tier and date. Counts, percentiles and integer money compare exactly; values formed
/// by floating division or scaling compare within a relative 1e-9 (<see cref="RowDiff.RelativeTolerance"/>).
/// </summary>
/// <remarks>
/// To replay one dataset: <c>DIFF_SEED=123 dotnet test tests/Pipeline.Core.Tests --filter FullyQualifiedName=Pipeline.Core.Tests.Differential.DifferentialTests.Replay</c>
/// (in a debugger, set DIFF_SEED in the test's environment); a failure prints the seed, the day and the first 20
/// differences.
/// </remarks>
public sealed class DifferentialTests(ITestOutputHelper output)
{
    public const int DatasetCount = 200;

    public static IEnumerable<object[]> Seeds => Enumerable.Range(1, DatasetCount).Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Engine_equals_reference(int seed) => Run(seed);

    /// <summary>
    /// Replays the seeds in the DIFF_SEED environment variable, verbosely. Without it, seed 1: the
    /// replay path is then a real check too, never a test that passes by doing nothing.
    /// </summary>
    [Fact]
    public void Replay()
    {
        var text = Environment.GetEnvironmentVariable("DIFF_SEED");
        if (string.IsNullOrWhiteSpace(text)) text = "1";
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            Run(int.Parse(part, System.Globalization.CultureInfo.InvariantCulture), verbose: true);
    }

    [Fact]
    public void Reference_computes_every_metric_the_engine_computes()
    {
        Assert.Equal(RollupEngine.ComputedMetricIds.OrderBy(x => x, StringComparer.Ordinal), ReferenceRollup.Computed.OrderBy(x => x, StringComparer.Ordinal));
    }

    [Fact]
    public void Generator_is_reproducible()
    {
        var a = DatasetGenerator.Generate(42);
        var b = DatasetGenerator.Generate(42);
        Assert.Equal(a.Shape, b.Shape);
        Assert.Equal(a.Events.Select(e => (e.EventId, e.TimeMs, e.Type)), b.Events.Select(e => (e.EventId, e.TimeMs, e.Type)));
        Assert.Equal(a.Events.Count, a.Events.Select(e => e.EventId).Distinct(StringComparer.Ordinal).Count()); // de-duplicated input
    }

    private void Run(int seed, bool verbose = false)
    {
        var ds = DatasetGenerator.Generate(seed);
        if (verbose) output.WriteLine($"seed {seed}: {ds.Shape}");
        var engine = new RollupEngine(SceneTable.Default, ds.CommissionRate);
        var reference = new ReferenceRollup(ds.Events, ds.Receipts, SceneTable.Default, ds.CommissionRate);
        var results = EngineDriver.RollAll(engine, ds.FirstDay, ds.LastDay, ds.Events, ds.Receipts, new Random(seed * 7919 + 1));

        var failures = new List<string>();
        foreach (var r in results)
        {
            var expected = reference.RowsOf(r.Day);
            var diff = RowDiff.Diff(expected, r.Rows);
            var sorted = r.Rows.OrderBy(x => x.Metric, StringComparer.Ordinal).ThenBy(x => x.Dimension, StringComparer.Ordinal).ThenBy(x => x.DimensionValue, StringComparer.Ordinal).ToList();
            if (!sorted.SequenceEqual(r.Rows)) diff.Add("engine rows are not sorted by metric, dimension, dimension value (ordinal)");
            if (verbose) output.WriteLine($"{r.Day:yyyy-MM-dd}: {r.EventsRead} events, {r.Rows.Count} rows, {diff.Count} differences");
            if (diff.Count > 0) failures.Add(RowDiff.Report(ds, r.Day, "engine vs reference", diff));
        }
        if (failures.Count > 0)
            Assert.Fail($"{failures.Count} of {results.Count} days differ; first:\n{failures[0]}" + (failures.Count > 1 ? $"\nsecond:\n{failures[1]}" : ""));
    }
}
