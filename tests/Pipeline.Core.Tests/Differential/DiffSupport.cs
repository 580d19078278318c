using System.Globalization;
using System.Text;
using Pipeline.Core.Catalog;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;

namespace Pipeline.Core.Tests.Differential;

/// <summary>Drives the engine over a dataset the way the runner does: every day in order, carrying the window state.</summary>
internal static class EngineDriver
{
    /// <summary>Events grouped by reporting day.</summary>
    public static Dictionary<DateOnly, List<PipelineEvent>> ByDay(IEnumerable<PipelineEvent> events)
    {
        var result = new Dictionary<DateOnly, List<PipelineEvent>>();
        foreach (var e in events)
        {
            var day = DatasetGenerator.Calendar.DayOf(e.TimeMs);
            if (!result.TryGetValue(day, out var list)) result[day] = list = [];
            list.Add(e);
        }
        return result;
    }

    /// <summary>
    /// The day's events split into <paramref name="shardCount"/> user shards (<see cref="UserShard.Of"/>), each shuffled;
    /// events without a user (publishes) go to a random shard, as the engine allows.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<PipelineEvent>> Shard(IReadOnlyList<PipelineEvent> events, int shardCount, Random rng)
    {
        var shards = Enumerable.Range(0, shardCount).Select(_ => new List<PipelineEvent>()).ToArray();
        foreach (var e in events)
            shards[e.UserKey is null ? rng.Next(shardCount) : UserShard.Of(e.UserKey, shardCount)].Add(e);
        foreach (var s in shards)
            for (var i = s.Count - 1; i > 0; i--)
            {
                var j = rng.Next(i + 1);
                (s[i], s[j]) = (s[j], s[i]);
            }
        return shards;
    }

    /// <summary>Rolls one day; <paramref name="receipts"/> are the day's ingest totals (0/0 when it had none), passed always, as the runner does.</summary>
    public static DayResult Roll(RollupEngine engine, DateOnly day, Dictionary<DateOnly, List<PipelineEvent>> byDay, WindowState previous, IngestTotals receipts, Random rng) =>
        engine.RollUp(day, Shard(byDay.TryGetValue(day, out var l) ? l : [], rng.Next(1, 9), rng), previous, receipts);

    /// <summary>Rolls every day from <paramref name="first"/> through <paramref name="last"/> from scratch (empty state).</summary>
    public static List<DayResult> RollAll(RollupEngine engine, DateOnly first, DateOnly last, IEnumerable<PipelineEvent> events, IReadOnlyDictionary<DateOnly, IngestTotals> receipts, Random rng)
    {
        var byDay = ByDay(events);
        var results = new List<DayResult>();
        var state = WindowState.Empty();
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            var r = Roll(engine, day, byDay, state, receipts.GetValueOrDefault(day), rng);
            results.Add(r);
            state = r.State;
        }
        return results;
    }
}

/// <summary>Compares two row sets and writes a readable diff.</summary>
internal static class RowDiff
{
    /// <summary>Relative tolerance for values formed by floating division or scaling (ratios, seconds, commission); counts and integer money are exact.</summary>
    public const double RelativeTolerance = 1e-9;

    private static readonly HashSet<string> IntegerMoney = new(StringComparer.Ordinal) { "businesses.gmv", "businesses.refunds", "platform.ad_revenue" };

    private static bool IsExact(string metric)
    {
        if (!MetricCatalog.TryGet(metric, out var def)) return true;
        return def.Kind is MetricKind.Count or MetricKind.Percentile || (def.Kind == MetricKind.Money && IntegerMoney.Contains(metric));
    }

    private static bool Same(double? a, double? b, bool exact)
    {
        if (a is null || b is null) return a is null && b is null;
        if (a.Value.Equals(b.Value)) return true;
        if (exact) return false;
        return Math.Abs(a.Value - b.Value) <= RelativeTolerance * Math.Max(Math.Abs(a.Value), Math.Abs(b.Value));
    }

    private static string Key(MetricRow r) => $"{r.Metric}|{r.Dimension}|{r.DimensionValue}";

    public static string Show(MetricRow r) =>
        string.Create(CultureInfo.InvariantCulture, $"{r.Metric} [{r.Dimension}={r.DimensionValue}] value={r.Value:R} num={r.Numerator?.ToString("R", CultureInfo.InvariantCulture) ?? "-"} den={r.Denominator?.ToString("R", CultureInfo.InvariantCulture) ?? "-"} unit={r.Unit} {r.Stakeholder}/{r.Tier} {r.Date:yyyy-MM-dd}");

    /// <summary>The differences between the expected and the actual rows (empty when they match), at most <paramref name="max"/> lines.</summary>
    public static List<string> Diff(IReadOnlyList<MetricRow> expected, IReadOnlyList<MetricRow> actual, string expectedName = "reference", string actualName = "engine", int max = 20)
    {
        var lines = new List<string>();
        var exp = new Dictionary<string, MetricRow>(StringComparer.Ordinal);
        foreach (var r in expected)
            if (!exp.TryAdd(Key(r), r)) lines.Add($"DUPLICATE in {expectedName}: {Show(r)}");
        var act = new Dictionary<string, MetricRow>(StringComparer.Ordinal);
        foreach (var r in actual)
            if (!act.TryAdd(Key(r), r)) lines.Add($"DUPLICATE in {actualName}: {Show(r)}");

        foreach (var (k, e) in exp.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            if (!act.TryGetValue(k, out var a))
            {
                lines.Add($"MISSING from {actualName}: {Show(e)}");
                continue;
            }
            var exact = IsExact(e.Metric);
            if (!Same(e.Value, a.Value, exact) || !Same(e.Numerator, a.Numerator, exact) || !Same(e.Denominator, a.Denominator, exact)
                || e.Unit != a.Unit || e.Stakeholder != a.Stakeholder || e.Tier != a.Tier || e.Date != a.Date)
                lines.Add($"DIFFERENT:\n    {expectedName,-9}: {Show(e)}\n    {actualName,-9}: {Show(a)}");
        }
        foreach (var (k, a) in act.OrderBy(x => x.Key, StringComparer.Ordinal))
            if (!exp.ContainsKey(k)) lines.Add($"EXTRA in {actualName}: {Show(a)}");

        if (lines.Count > max)
        {
            var total = lines.Count;
            lines = lines.Take(max).ToList();
            lines.Add($"... and {total - max} more differences");
        }
        return lines;
    }

    /// <param name="replayTest">The test class whose <c>Replay</c> fact replays the seed.</param>
    public static string Report(GeneratedDataset ds, DateOnly day, string what, List<string> diff, string replayTest = nameof(DifferentialTests))
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"seed {ds.Seed}, day {day:yyyy-MM-dd} ({what}); dataset: {ds.Shape}; commission rate {ds.CommissionRate}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"replay: DIFF_SEED={ds.Seed} dotnet test tests/Pipeline.Core.Tests --filter FullyQualifiedName=Pipeline.Core.Tests.Differential.{replayTest}.Replay");
        foreach (var l in diff) sb.AppendLine("  " + l);
        return sb.ToString();
    }

    /// <summary>
    /// Compares the stored rows of every day from <paramref name="first"/> through <paramref name="last"/> with the
    /// expected rows; returns one report per day that differs (a day with no stored rows differs).
    /// </summary>
    public static List<string> CompareDays(GeneratedDataset ds, DateOnly first, DateOnly last, IReadOnlyDictionary<DateOnly, IReadOnlyList<MetricRow>> stored,
        Func<DateOnly, IReadOnlyList<MetricRow>> expected, string what, string expectedName, string actualName, string replayTest)
    {
        var failures = new List<string>();
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            List<string> diff = stored.TryGetValue(day, out var rows)
                ? Diff(expected(day), rows, expectedName, actualName)
                : [$"{actualName} has no rows for the day: it was never rolled up"];
            if (diff.Count > 0) failures.Add(Report(ds, day, what, diff, replayTest));
        }
        return failures;
    }
}
