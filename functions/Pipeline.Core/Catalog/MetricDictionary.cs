using System.Text;

namespace Pipeline.Core.Catalog;

/// <summary>
/// Renders the analysts' metric dictionary (<c>docs/metrics.md</c>) from <see cref="MetricCatalog"/>,
/// so the two cannot drift: a test compares the checked-in file with this rendering.
/// </summary>
public static class MetricDictionary
{
    public const string RegenerateCommand = "dotnet run --project functions/Pipeline.Local -- dictionary --out docs/metrics.md";

    private static readonly (string Stakeholder, string Title)[] Sections =
    [
        ("northstar", "North Star"),
        ("users", "Users"),
        ("developers", "Developers"),
        ("businesses", "Businesses"),
        ("platform", "Platform"),
        ("risk", "Risk factors (guardrails)"),
        ("pages", "Pages"),
        ("custom", "Custom events"),
    ];

    public static string Render()
    {
        var md = new StringBuilder();
        md.Append("# Metric dictionary\n\n");
        md.Append("<!-- Generated from Pipeline.Core.Catalog.MetricCatalog; do not edit by hand. Regenerate with:\n");
        md.Append($"     {RegenerateCommand} -->\n\n");
        md.Append("Every metric the daily rollup writes, one row per metric, dimension and dimension value, in the tables\n");
        md.Append("`DailyMetrics` and `ProgramDailyMetrics` and in `exports/daily/<date>.csv`. Definitions in full, with\n");
        md.Append("the conventions (reporting day, sessions, orders, windows, ratios, money, percentiles), are in\n");
        md.Append("[metric-definitions.md](metric-definitions.md).\n\n");
        md.Append("Tiers: `northstar` (the one number the ecosystem steers by), `core` (each stakeholder's headline\n");
        md.Append("numbers), `supporting`, and `guardrail` (risks that must not rise while the rest improves).\n");
        md.Append("Ratios carry `numerator` and `denominator` beside the value; money is in integer minor units per currency.\n");
        foreach (var (stakeholder, title) in Sections)
        {
            md.Append($"\n## {title}\n\n");
            md.Append("| metric | tier | unit | dimensions | meaning |\n");
            md.Append("| --- | --- | --- | --- | --- |\n");
            foreach (var m in MetricCatalog.All.Where(m => m.Stakeholder == stakeholder))
            {
                var dims = string.Join(", ", m.Dimensions.Select(d => $"`{d}`"));
                md.Append($"| `{m.Id}` | {m.Tier} | {m.Unit} | {dims} | {m.Meaning.Replace("|", "\\|")} |\n");
            }
        }
        return md.ToString();
    }
}
