using Pipeline.Core.Rollup;
using Pipeline.Local.Demo;

namespace Pipeline.Integration.Tests.Local;

/// <summary>
/// The demo's text scorecard (<see cref="Scorecard.Render"/>) from hand-made rows: the sections in order, a
/// total row's value in its unit, money per currency in major units, the largest values of a breakdown, and
/// a section without rows saying so.
/// </summary>
public sealed class ScorecardTests
{
    private static readonly DateOnly Day = new(2026, 3, 2);

    private static MetricRow Row(string metric, string stakeholder, string tier, string dimension, string value, double v, string unit, double? n = null, double? d = null) =>
        new(Day, metric, stakeholder, tier, dimension, value, v, n, d, unit);

    private static readonly MetricRow[] Rows =
    [
        Row("users.retention_d1", "users", "supporting", "total", "", 0.25, "ratio", 25, 100),
        Row("users.dau", "users", "core", "total", "", 1234, "users"),
        Row("users.sessions", "users", "supporting", "channel", "search", 30, "sessions"),
        Row("users.sessions", "users", "supporting", "channel", "share", 10, "sessions"),
        Row("users.time_per_user_s", "users", "supporting", "total", "", 110.14, "s"),
        Row("northstar.engaged_users", "northstar", "northstar", "total", "", 900, "users"),
        Row("businesses.gmv", "businesses", "core", "currency", "JPY", 500, "minor_units"),
        Row("businesses.gmv", "businesses", "core", "currency", "CNY", 1234567, "minor_units"),
        Row("platform.ad_load", "platform", "supporting", "total", "", 0.5, "impressions_per_session"),
        Row("pages.views", "pages", "supporting", "page", "wx1/pages/a", 5, "events"),
        Row("pages.views", "pages", "supporting", "page", "wx1/pages/b", 7, "events"),
        Row("risk.crash_rate", "risk", "guardrail", "total", "", 0.004, "ratio"),
        Row("developers.load_time_p95_ms", "developers", "core", "miniProgram", "wx1", 2169.4, "ms"),
    ];

    [Fact]
    public void Every_section_in_order_with_each_metric_in_its_unit()
    {
        var text = Scorecard.Render(Day, "Asia/Shanghai", Rows);
        var lines = text.Split(Environment.NewLine);

        Assert.Equal(new string('=', 78), lines[0]);
        Assert.Equal(" Scorecard for 2026-03-02 (Asia/Shanghai) ", lines[1]);
        static string Line(bool core, string metric, string summary) => $"  {(core ? "*" : " ")} {metric,-38} {summary}";
        int At(string line) => Array.FindIndex(lines, l => l == line) is var i and >= 0 ? i : throw new Xunit.Sdk.XunitException($"no line '{line}' in:\n{text}");

        var northStar = At(Line(true, "northstar.engaged_users", "900 users"));
        var dau = At(Line(true, "users.dau", "1,234 users"));
        var retention = At(Line(false, "users.retention_d1", "25.0 %"));
        var sessions = At(Line(false, "users.sessions", "search 30 sessions · share 10 sessions"));
        var time = At(Line(false, "users.time_per_user_s", "110.1 s"));
        var load = At(Line(true, "developers.load_time_p95_ms", "1 miniProgram rows; top wx1: 2,169 ms"));
        var gmv = At(Line(true, "businesses.gmv", "CNY 12,345.67 · JPY 500"));
        var adLoad = At(Line(false, "platform.ad_load", "0.50 impressions per session"));
        var pages = At(Line(false, "pages.views", "2 page rows; top wx1/pages/b: 7 events"));
        var crash = At(Line(false, "risk.crash_rate", "0.4 %"));

        // Sections in the stakeholders' order, core metrics before supporting ones, then by name.
        Assert.True(At("North Star") < northStar && northStar < At("Users: convenient access to services"));
        Assert.True(dau < retention && retention < sessions && sessions < time, "core first, then supporting by name");
        Assert.True(time < At("Developers: reach") && load < At("Businesses: customers and sales") && gmv < At("Platform: engagement and monetisation"));
        Assert.True(adLoad < At("Pages") && pages < At("Guardrails (risk factors)") && At("Guardrails (risk factors)") < crash);
        Assert.Equal("  * core metric. Every row, with numerators and denominators, is in the CSV export.", lines[^2]);
    }

    [Fact]
    public void A_section_without_rows_says_so()
    {
        var text = Scorecard.Render(Day, "UTC", [Row("users.dau", "users", "core", "total", "", 3, "users")]);
        var lines = text.Split(Environment.NewLine);
        var developers = Array.IndexOf(lines, "Developers: reach");
        Assert.True(developers > 0, text);
        Assert.Equal("  (no rows for this day)", lines[developers + 1]);
        Assert.Equal(6, lines.Count(l => l == "  (no rows for this day)")); // all but Users
    }
}
