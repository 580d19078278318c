using Pipeline.Core.Rollup;

namespace Pipeline.Core.Ports;

/// <summary>
/// A stored metric row as the query API returns it: the row, and when and by which run its value
/// was last computed differently. <see cref="Restated"/> is true when a re-roll changed the value of
/// a row that had been published before (<see cref="PreviousValue"/> is then the value it replaced).
/// </summary>
public sealed record StoredMetricRow(MetricRow Row, DateTimeOffset? ComputedAt, string? RunId, bool Restated = false, double? PreviousValue = null);

/// <summary>Which of a day's rows to read: the ecosystem rows, the per-mini-program rows, and an optional metric-id prefix.</summary>
/// <param name="EcosystemRows">Rows whose dimension does not start with <c>miniProgram</c>.</param>
/// <param name="ProgramRows">Rows whose dimension starts with <c>miniProgram</c>.</param>
/// <param name="MetricPrefix">Only metrics whose id starts with this (a whole id, or a prefix such as <c>users.</c>); null for all.</param>
public sealed record MetricRowSelection(bool EcosystemRows, bool ProgramRows, string? MetricPrefix)
{
    public static MetricRowSelection All { get; } = new(true, true, null);
}

/// <summary>Reads what the rollup wrote, for the query API (<c>DailyMetrics</c> and <c>ProgramDailyMetrics</c>).</summary>
public interface IMetricsReader
{
    /// <summary>The day's rows that <paramref name="selection"/> names, from <c>DailyMetrics</c>.</summary>
    Task<IReadOnlyList<StoredMetricRow>> ReadDayAsync(DateOnly day, MetricRowSelection selection, CancellationToken cancellationToken);

    /// <summary>One mini-program's rows from <paramref name="from"/> to <paramref name="to"/> (inclusive), from its own <c>ProgramDailyMetrics</c> partition.</summary>
    Task<IReadOnlyList<StoredMetricRow>> ReadProgramAsync(string miniProgramId, DateOnly from, DateOnly to, string? metricPrefix, CancellationToken cancellationToken);

    /// <summary>The days from <paramref name="from"/> to <paramref name="to"/> (inclusive) that have been rolled up.</summary>
    Task<IReadOnlySet<DateOnly>> RolledUpDaysAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken);
}
