using Pipeline.Core.Rollup;

namespace Pipeline.Core.Ports;

/// <summary>Window state saved after each rolled-up day, so the next day need not re-read history.</summary>
public interface IRollupStateStore
{
    /// <summary>The serialised state as of the end of <paramref name="day"/>; null when that day was never rolled up.</summary>
    Task<byte[]?> LoadAsync(DateOnly day, CancellationToken cancellationToken);

    Task SaveAsync(DateOnly day, ReadOnlyMemory<byte> state, CancellationToken cancellationToken);

    /// <summary>The rollup's bookkeeping (first day with events, last day rolled up); null before the first rollup.</summary>
    Task<RollupCursor?> GetCursorAsync(CancellationToken cancellationToken);

    Task SetCursorAsync(RollupCursor cursor, CancellationToken cancellationToken);
}

/// <summary>Where metric rows go: the two tables of the catalog.</summary>
public interface IMetricsStore
{
    /// <summary>Replaces every row of the day in <c>DailyMetrics</c> and <c>ProgramDailyMetrics</c> with <paramref name="rows"/>: no stale row survives.</summary>
    Task ReplaceDayAsync(DateOnly day, IReadOnlyList<MetricRow> rows, string runId, DateTimeOffset computedAt, CancellationToken cancellationToken);

    /// <summary>Every row stored for the day (from <c>DailyMetrics</c>).</summary>
    Task<IReadOnlyList<MetricRow>> ReadDayAsync(DateOnly day, CancellationToken cancellationToken);
}

/// <summary>The analysts' CSV exports, <c>exports/daily/&lt;yyyy-MM-dd&gt;.csv</c>.</summary>
public interface IExportStore
{
    Task WriteDailyAsync(DateOnly day, ReadOnlyMemory<byte> csv, CancellationToken cancellationToken);

    /// <summary>The export of a day; null when none was written.</summary>
    Task<byte[]?> ReadDailyAsync(DateOnly day, CancellationToken cancellationToken);

    /// <summary>The location of a day's export, for people (for example <c>exports/daily/2026-11-23.csv</c>).</summary>
    string DescribeDaily(DateOnly day);
}
