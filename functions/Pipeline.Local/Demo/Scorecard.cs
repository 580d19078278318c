using System.Globalization;
using System.Text;
using Pipeline.Core.Rollup;

namespace Pipeline.Local.Demo;

/// <summary>
/// A readable scorecard of one day: the North Star first, then each stakeholder's metrics (core
/// before supporting), then the guardrails. Built from the day's metric rows alone.
/// </summary>
internal static class Scorecard
{
    private static readonly (string Stakeholder, string Title)[] Sections =
    [
        ("northstar", "North Star"),
        ("users", "Users: convenient access to services"),
        ("developers", "Developers: reach"),
        ("businesses", "Businesses: customers and sales"),
        ("platform", "Platform: engagement and monetisation"),
        ("pages", "Pages"),
        ("risk", "Guardrails (risk factors)"),
    ];

    private static readonly string[] TierOrder = ["northstar", "core", "supporting", "guardrail"];

    public static string Render(DateOnly day, string timeZone, IReadOnlyList<MetricRow> rows)
    {
        var text = new StringBuilder();
        var title = $" Scorecard for {day:yyyy-MM-dd} ({timeZone}) ";
        text.AppendLine(new string('=', 78));
        text.AppendLine(title);
        text.AppendLine(new string('=', 78));
        foreach (var (stakeholder, heading) in Sections)
        {
            var metrics = rows.Where(r => r.Stakeholder == stakeholder)
                .GroupBy(r => r.Metric)
                .OrderBy(g => Array.IndexOf(TierOrder, g.First().Tier))
                .ThenBy(g => g.Key, StringComparer.Ordinal)
                .ToList();
            text.AppendLine();
            text.AppendLine(heading);
            if (metrics.Count == 0)
            {
                text.AppendLine("  (no rows for this day)");
                continue;
            }
            foreach (var metric in metrics)
                text.AppendLine($"  {(metric.First().Tier == "core" || metric.First().Tier == "northstar" ? "*" : " ")} {metric.Key,-38} {Summarise(metric.ToList())}");
        }
        text.AppendLine();
        text.AppendLine("  * core metric. Every row, with numerators and denominators, is in the CSV export.");
        return text.ToString();
    }

    private static string Summarise(IReadOnlyList<MetricRow> rows)
    {
        var total = rows.FirstOrDefault(r => r.Dimension == "total");
        if (total is not null) return Format(total);
        var byValue = rows.Where(r => r.Dimension is "currency" or "channel" or "durationBucket" or "depthBucket").ToList();
        if (byValue.Count > 0)
        {
            var dimension = byValue[0].Dimension;
            var parts = byValue.Where(r => r.Dimension == dimension)
                .OrderByDescending(r => r.Value)
                .Take(5)
                .Select(r => r.Unit == "minor_units" ? Format(r, r.DimensionValue) : $"{r.DimensionValue} {Format(r)}");
            return string.Join(" · ", parts);
        }
        var first = rows.OrderByDescending(r => r.Value).First();
        return $"{rows.Count} {first.Dimension} rows; top {first.DimensionValue}: {Format(first)}";
    }

    private static string Format(MetricRow row, string? currency = null)
    {
        var v = row.Value;
        return row.Unit switch
        {
            // Shares and rates (0 to 1) read best as percentages; other ratios carry their own unit.
            "ratio" => v.ToString("P1", CultureInfo.InvariantCulture),
            _ when row.Unit.Contains("_per_", StringComparison.Ordinal) => $"{v.ToString("N2", CultureInfo.InvariantCulture)} {row.Unit.Replace('_', ' ')}",
            "ms" => $"{v.ToString("N0", CultureInfo.InvariantCulture)} ms",
            "s" => $"{v.ToString("N1", CultureInfo.InvariantCulture)} s",
            "minor_units" => Money(v, currency),
            _ => Math.Abs(v - Math.Round(v)) < 1e-9
                ? $"{v.ToString("N0", CultureInfo.InvariantCulture)} {row.Unit}"
                : $"{v.ToString("N2", CultureInfo.InvariantCulture)} {row.Unit}",
        };
    }

    // Minor units to major units: most currencies have two decimals; a few have none.
    private static string Money(double minorUnits, string? currency)
    {
        var decimals = currency is "JPY" or "KRW" or "VND" or "CLP" or "ISK" ? 0 : 2;
        var major = minorUnits / Math.Pow(10, decimals);
        return $"{currency} {major.ToString(decimals == 0 ? "N0" : "N2", CultureInfo.InvariantCulture)}".Trim();
    }
}
