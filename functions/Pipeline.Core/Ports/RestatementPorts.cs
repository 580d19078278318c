namespace Pipeline.Core.Ports;

/// <summary>
/// A published metric row whose value a re-roll changed or removed: what it was, what it became, which
/// runs wrote each, and why the day was rolled again. Recorded before the new value replaces the old one.
/// </summary>
/// <param name="Day">The reporting day of the row.</param>
/// <param name="Metric">The row's metric.</param>
/// <param name="Dimension">The row's dimension.</param>
/// <param name="DimensionValue">The row's dimension value (unescaped).</param>
/// <param name="OldValue">The value published before.</param>
/// <param name="NewValue">The value now; null when the re-roll removed the row.</param>
/// <param name="OldNumerator">The old numerator (ratio rows).</param>
/// <param name="OldDenominator">The old denominator (ratio rows).</param>
/// <param name="NewNumerator">The new numerator (ratio rows that remain).</param>
/// <param name="NewDenominator">The new denominator (ratio rows that remain).</param>
/// <param name="OldRunId">The run that wrote the old value; null for rows written before runs were stamped.</param>
/// <param name="NewRunId">The run that wrote the new value (or removed the row).</param>
/// <param name="OldComputedAt">When the old value was computed; null when unknown.</param>
/// <param name="RestatedAt">When the change was first recorded: the new run's computation time (a retry of the same run and day keeps the first one).</param>
/// <param name="Reason">Why the day was rolled again (<see cref="RestatementReasons"/>).</param>
public sealed record Restatement(
    DateOnly Day,
    string Metric,
    string Dimension,
    string DimensionValue,
    double OldValue,
    double? NewValue,
    double? OldNumerator,
    double? OldDenominator,
    double? NewNumerator,
    double? NewDenominator,
    string? OldRunId,
    string NewRunId,
    DateTimeOffset? OldComputedAt,
    DateTimeOffset RestatedAt,
    string Reason)
{
    /// <summary>True when the re-roll removed the row rather than changing its value.</summary>
    public bool Removed => NewValue is null;
}

/// <summary>One page of restatements, oldest first, and the token of the next page (null after the last).</summary>
public sealed record RestatementPage(IReadOnlyList<Restatement> Restatements, string? Continuation);

/// <summary>The record of restated rows, table <c>Restatements</c>.</summary>
public interface IRestatementStore
{
    /// <summary>
    /// Records <paramref name="restatements"/>, all of one (day, new run). Idempotent: recording the same
    /// changes again for the same (day, new run), say on a redelivered message, overwrites the same records
    /// and keeps the time they were first recorded.
    /// </summary>
    Task RecordAsync(DateOnly day, string newRunId, IReadOnlyList<Restatement> restatements, CancellationToken cancellationToken);

    /// <summary>
    /// The restatements recorded at or after <paramref name="since"/> (of <paramref name="day"/> only, when given),
    /// in the order they were recorded, at most <paramref name="limit"/>, from the page <paramref name="continuation"/>
    /// names (null: the first).
    /// </summary>
    /// <exception cref="FormatException"><paramref name="continuation"/> is not a token this store returned.</exception>
    Task<RestatementPage> ListAsync(DateTimeOffset since, DateOnly? day, int limit, string? continuation, CancellationToken cancellationToken);
}

/// <summary>Why a day was rolled again, for <see cref="Restatement.Reason"/>.</summary>
public static class RestatementReasons
{
    /// <summary>The reason when nothing more is known (the documented default).</summary>
    public static string Default(DateOnly day) => $"re-roll of {Day(day)}: late or corrected events";

    /// <summary>
    /// What the run knows: the day had late events (a dirty mark), or it follows a day that had them (its
    /// windows and running totals depend on it), or an operator asked for the range (<c>rollup --from</c>).
    /// </summary>
    public static string For(Rollup.RollupRun run, DateOnly day)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Marks.Any(m => m.Day == day))
            return $"re-roll of {Day(day)}: late events arrived for the day";
        if (run.Trigger == "range")
            return $"re-roll of {Day(day)}: requested by an operator (rollup --from {Day(run.From)} --to {Day(run.To)})";
        var earlier = run.Marks.Where(m => m.Day < day).Select(m => (DateOnly?)m.Day).Min();
        if (earlier is { } e)
            return $"re-roll of {Day(day)}: late events for {Day(e)}, on which this day's windows, cohorts and running totals depend";
        return Default(day);
    }

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
