using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Query;

/// <summary>
/// An in-memory <see cref="IMetricsReader"/> that answers from a list of rows, as the table reader would
/// (a program read: that mini-program's rows of the days, narrowed by the prefix), and records every call.
/// </summary>
internal sealed class RecordingMetricsReader(IEnumerable<MetricRow> rows) : IMetricsReader
{
    private readonly List<MetricRow> _rows = rows.ToList();

    public List<string> Calls { get; } = [];

    public Task<IReadOnlyList<StoredMetricRow>> ReadDayAsync(DateOnly day, MetricRowSelection selection, CancellationToken cancellationToken)
    {
        lock (Calls) Calls.Add($"ReadDay {day:yyyy-MM-dd}");
        IReadOnlyList<StoredMetricRow> found = _rows
            .Where(r => r.Date == day && (MetricRowKeys.IsProgramRow(r) ? selection.ProgramRows : selection.EcosystemRows) && Matches(r, selection.MetricPrefix))
            .Select(Stored).ToList();
        return Task.FromResult(found);
    }

    public Task<IReadOnlyList<StoredMetricRow>> ReadProgramAsync(string miniProgramId, DateOnly from, DateOnly to, string? metricPrefix, CancellationToken cancellationToken)
    {
        lock (Calls) Calls.Add($"ReadProgram {miniProgramId} {from:yyyy-MM-dd}..{to:yyyy-MM-dd} {metricPrefix ?? "*"}");
        IReadOnlyList<StoredMetricRow> found = _rows
            .Where(r => MetricRowKeys.IsProgramRow(r) && MetricRowKeys.ProgramPartitionKey(r) == miniProgramId && r.Date >= from && r.Date <= to && Matches(r, metricPrefix))
            .Select(Stored).ToList();
        return Task.FromResult(found);
    }

    public Task<IReadOnlySet<DateOnly>> RolledUpDaysAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        lock (Calls) Calls.Add($"RolledUpDays {from:yyyy-MM-dd}..{to:yyyy-MM-dd}");
        IReadOnlySet<DateOnly> days = _rows.Select(r => r.Date).Where(d => d >= from && d <= to).ToHashSet();
        return Task.FromResult(days);
    }

    // As the table reader: "id|" is exactly that metric, anything else a prefix of the id.
    private static bool Matches(MetricRow row, string? prefix) =>
        prefix is null || (prefix.EndsWith('|') ? row.Metric == prefix[..^1] : row.Metric.StartsWith(prefix, StringComparison.Ordinal));

    private static StoredMetricRow Stored(MetricRow row) => new(row, null, null);
}
