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

public sealed class EventsPerSecondColumn : IColumn
{
    public string Id => nameof(EventsPerSecondColumn);
    public string ColumnName => "Events/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Events processed per second (Events / Mean), one thread unless the benchmark says otherwise";
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var events = BenchConfig.EventsOf(benchmarkCase);
        var report = summary[benchmarkCase];
        if (events is null || report?.ResultStatistics is not { } stats) return "-";
        var perSecond = events.Value / (stats.Mean / 1e9);
        return perSecond.ToString("N0", CultureInfo.InvariantCulture);
    }
}

public sealed class AllocatedPerEventColumn : IColumn
{
    public string Id => nameof(AllocatedPerEventColumn);
    public string ColumnName => "Alloc/event";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Bytes allocated per event (Allocated / Events)";
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var events = BenchConfig.EventsOf(benchmarkCase);
        var report = summary[benchmarkCase];
        if (events is null || report is null) return "-";
        var bytes = report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase);
        return bytes is { } b ? (b / (double)events.Value).ToString("N0", CultureInfo.InvariantCulture) + " B" : "-";
    }
}
