using Pipeline.Core.Catalog;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Query;

/// <summary>
/// Which restatements a read key sees (<c>GET /api/v1/restatements</c>): the platform's key every one; a
/// developer's key those of its mini-programs' rows, less those that small-cell suppression withholds.
/// </summary>
/// <remarks>
/// A restatement shows the row before and after, so it is withheld when either would be
/// (<see cref="SmallCells"/>, with the old and the new value and denominator). A population row
/// (<c>users.dau</c>, <c>pages.visitors</c>, …) is the one stored now: the table keeps no older values.
/// </remarks>
public sealed class RestatementAccess(CellSuppression cells)
{
    public async Task<(IReadOnlyList<Restatement> Shown, int Withheld)> FilterAsync(IReadOnlyList<Restatement> restatements, ReadAccess access, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(restatements);
        ArgumentNullException.ThrowIfNull(access);
        if (access.AllMiniPrograms) return (restatements, 0);

        var visible = restatements.Where(r => access.Sees(Row(r, r.OldValue, r.OldDenominator))).ToList();
        if (!cells.AppliesTo(access) || visible.Count == 0) return (visible, 0);

        var withheld = new HashSet<Restatement>(ReferenceEqualityComparer.Instance);
        foreach (var group in visible.GroupBy(r => MetricRowKeys.ProgramPartitionKey(Row(r, r.OldValue, r.OldDenominator)), StringComparer.Ordinal))
        {
            var rows = group.SelectMany(Rows).ToList();
            // Nothing of the partition was read yet: every population comes from the reads WithheldAsync makes.
            var isWithheld = await cells.WithheldAsync(group.Key, group.Min(r => r.Day), group.Max(r => r.Day), rows, [], _ => false, ct).ConfigureAwait(false);
            foreach (var r in group)
                if (Rows(r).Any(isWithheld)) withheld.Add(r);
        }
        return (visible.Where(r => !withheld.Contains(r)).ToList(), withheld.Count);
    }

    // The row before the re-roll, and after it unless it was removed.
    private static IEnumerable<MetricRow> Rows(Restatement r)
    {
        yield return Row(r, r.OldValue, r.OldDenominator);
        if (r.NewValue is { } value) yield return Row(r, value, r.NewDenominator);
    }

    // A restatement carries no unit, stakeholder or tier: the catalog's (an old metric no longer there has none).
    private static MetricRow Row(Restatement r, double value, double? denominator)
    {
        var unit = MetricCatalog.TryGet(r.Metric, out var m) ? m.Unit : "";
        return new MetricRow(r.Day, r.Metric, m?.Stakeholder ?? "", m?.Tier ?? "", r.Dimension, r.DimensionValue, value, null, denominator, unit);
    }
}
