using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Pipeline.Benchmarks;

/// <summary>
/// One short job for every benchmark (the machine is small and shared: 3 warm-ups, 8 measured
/// iterations, one launch), the memory diagnoser, and two derived columns for benchmarks with an
/// <c>Events</c> parameter: events per second and bytes allocated per event.
/// </summary>
public static class BenchConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddJob(Job.Default.WithId("Bench").WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(8))
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddColumn(new EventsPerSecondColumn(), new AllocatedPerEventColumn())
        .WithOption(ConfigOptions.JoinSummary, false);

    /// <summary>The <c>Events</c> parameter of a case (events processed by one operation), or null.</summary>
    internal static int? EventsOf(BenchmarkCase benchmarkCase)
    {
        foreach (var p in benchmarkCase.Parameters.Items)
            if (p.Name == "Events" && p.Value is int n) return n;
        return null;
    }
}

/// <summary>A column derived from a benchmark's <c>Events</c> parameter: "-" for benchmarks without one.</summary>
public abstract class PerEventColumn(string columnName, int priority, string legend) : IColumn
{
    public string Id => GetType().Name;
    public string ColumnName => columnName;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => priority;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        BenchConfig.EventsOf(benchmarkCase) is { } events && summary[benchmarkCase] is { } report ? Format(report, benchmarkCase, events) ?? "-" : "-";

    /// <summary>The cell for a benchmark of <paramref name="events"/> events; null when the report lacks the figure.</summary>
    protected abstract string? Format(BenchmarkReport report, BenchmarkCase benchmarkCase, int events);
}

public sealed class EventsPerSecondColumn() : PerEventColumn("Events/s", 0,
    "Events processed per second (Events / Mean), one thread unless the benchmark says otherwise")
{
    protected override string? Format(BenchmarkReport report, BenchmarkCase benchmarkCase, int events) =>
        report.ResultStatistics is { } stats ? (events / (stats.Mean / 1e9)).ToString("N0", CultureInfo.InvariantCulture) : null;
}

public sealed class AllocatedPerEventColumn() : PerEventColumn("Alloc/event", 1, "Bytes allocated per event (Allocated / Events)")
{
    protected override string? Format(BenchmarkReport report, BenchmarkCase benchmarkCase, int events) =>
        report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase) is { } bytes
            ? (bytes / (double)events).ToString("N0", CultureInfo.InvariantCulture) + " B"
            : null;
}
