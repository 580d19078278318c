using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Query;

/// <summary>
/// Applies <see cref="SmallCells"/> to what a developer's key reads (<c>Pipeline:Query:MinimumCellUsers</c>, k):
/// finds each row's population row in what was read already, reads the populations that were not (one
/// ranged read of the mini-program's partition per population metric), and says which rows to withhold.
/// The platform's key (<c>*</c>) sees every row, and k = 0 turns suppression off.
/// </summary>
public sealed class CellSuppression(IMetricsReader reader, int minimumUsers)
{
    /// <summary>k: rows computed from fewer users are withheld from developers' keys; 0 = off.</summary>
    public int MinimumUsers { get; } = minimumUsers >= 0 ? minimumUsers : throw new ArgumentOutOfRangeException(nameof(minimumUsers), minimumUsers, "k must be 0 (off) or more.");

    /// <summary>No suppression (k = 0): what a service built without settings does; it never reads.</summary>
    public static CellSuppression Off { get; } = new(new NothingToRead(), 0);

    public bool AppliesTo(ReadAccess access)
    {
        ArgumentNullException.ThrowIfNull(access);
        return MinimumUsers > 0 && !access.AllMiniPrograms;
    }

    /// <summary>
    /// Which of <paramref name="rows"/> (rows of mini-program <paramref name="miniProgramId"/> dated
    /// <paramref name="from"/>..<paramref name="to"/>) are withheld. <paramref name="read"/> is what was read
    /// of the partition for those days and <paramref name="covered"/> says which metrics that read held in full
    /// (a population row missing from a covered metric has 0 users; an uncovered one is read here).
    /// </summary>
    public async Task<Func<MetricRow, bool>> WithheldAsync(string miniProgramId, DateOnly from, DateOnly to,
        IReadOnlyCollection<MetricRow> rows, IEnumerable<MetricRow> read, Func<string, bool> covered, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(covered);
        var populations = new Dictionary<(DateOnly, CellPopulation), double>();
        void Add(MetricRow r) => populations[(r.Date, new CellPopulation(r.Metric, r.Dimension, r.DimensionValue))] = r.Value;
        foreach (var r in read) Add(r);

        var missing = rows.Select(SmallCells.PopulationOf).Where(p => p is not null && !covered(p.Metric)).Select(p => p!.Metric).Distinct(StringComparer.Ordinal).ToList();
        foreach (var metric in missing)
            foreach (var stored in await reader.ReadProgramAsync(miniProgramId, from, to, metric + "|", ct).ConfigureAwait(false))
                Add(stored.Row);

        return row => SmallCells.IsWithheld(row, MinimumUsers, p => populations.TryGetValue((row.Date, p), out var users) ? users : null);
    }

    /// <summary>Which metrics a partition read with <paramref name="metricPrefix"/> (as <see cref="IMetricsReader.ReadProgramAsync"/> takes it) returns in full.</summary>
    public static Func<string, bool> Covered(string? metricPrefix) => metricPrefix switch
    {
        null => _ => true,
        _ when metricPrefix.EndsWith('|') => metric => string.Equals(metric, metricPrefix[..^1], StringComparison.Ordinal),
        _ => metric => metric.StartsWith(metricPrefix, StringComparison.Ordinal),
    };

    // Off never withholds, so it never looks for a population; reaching this is a bug, said plainly.
    private sealed class NothingToRead : IMetricsReader
    {
        private static InvalidOperationException Bug() => new("Small-cell suppression is off (k = 0): it has no metrics to read.");
        public Task<IReadOnlyList<StoredMetricRow>> ReadDayAsync(DateOnly day, MetricRowSelection selection, CancellationToken cancellationToken) => throw Bug();
        public Task<IReadOnlyList<StoredMetricRow>> ReadProgramAsync(string miniProgramId, DateOnly from, DateOnly to, string? metricPrefix, CancellationToken cancellationToken) => throw Bug();
        public Task<IReadOnlySet<DateOnly>> RolledUpDaysAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken) => throw Bug();
    }
}
