using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Integration.Tests.EndToEnd;
using Pipeline.Local.Emulator;

namespace Pipeline.Integration.Tests.Query;

/// <summary>
/// A host with small-cell suppression on (<c>Pipeline:Query:MinimumCellUsers</c> = <see cref="K"/>) over two
/// days of rows for mini-programs A and B, each day rolled twice (the second roll restates every changed row,
/// recorded at <see cref="Rerolled"/>). Mini-program A has <see cref="K"/> - 1 users on D1 and <see cref="K"/>
/// and more on D2, so each of its rows falls on one side of k.
/// </summary>
public sealed class SmallCellFixture : IAsyncLifetime
{
    public const int K = 10;
    public static readonly DateOnly D1 = new(2026, 11, 20), D2 = new(2026, 11, 21);
    public const string A = "wxcells0000000a", B = "wxcells0000000b";

    /// <summary>When the second roll recorded its restatements: now, since a listing reaches back 90 days at most.</summary>
    public DateTimeOffset Rerolled { get; } = DateTimeOffset.UtcNow.AddMinutes(-5);

    private AzuriteRunner _azurite = null!;
    public PipelineHost Host { get; private set; } = null!;
    public string Analyst { get; private set; } = "";
    public string DeveloperA { get; private set; } = "";
    public string IngestKey { get; private set; } = "";

    /// <summary>The rows of a roll: <paramref name="roll"/> 2 changes A's dau on both days, B's dau and the total.</summary>
    public static List<MetricRow> RowsOf(DateOnly day, int roll)
    {
        var d2 = day == D2;
        MetricRow R(string metric, string stakeholder, string dimension, string value, double v, string unit, double? num = null, double? den = null) =>
            new(day, metric, stakeholder, "core", dimension, value, v, num, den, unit);
        return
        [
            // Every rolled-up day has the North Star's total row: the query API reads it to know the day is rolled up.
            R("northstar.engaged_users", "northstar", "total", "", 50, "users"),
            R("users.dau", "users", "total", "", 100 + roll, "users"),
            R("users.dau", "users", "miniProgram", A, (d2 ? K : K - 1) + (roll == 2 ? (d2 ? 1 : -1) : 0), "users"), // D1: 9 then 8; D2: 10 then 11
            R("users.dau", "users", "miniProgram", B, 40 + roll, "users"),
            // A ratio over users: the denominator decides, not the dau.
            R("users.retention_d1", "users", "miniProgram", A, 0.5, "ratio", d2 ? 5 : 4, d2 ? K : K - 2),
            // A page: its visitors decide; its views are many either way.
            R("pages.views", "pages", "miniProgram.page", A + "/pages/index", 200, "events"),
            R("pages.visitors", "pages", "miniProgram.page", A + "/pages/index", d2 ? K : K - 1, "users"),
        ];
    }

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions(), CancellationToken.None);
        Host = await PipelineHost.StartAsync(_azurite.ConnectionString, background: false,
            new Dictionary<string, string?> { ["Pipeline:Query:MinimumCellUsers"] = K.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var store = Host.Get<IMetricsStore>();
        foreach (var day in new[] { D1, D2 })
        {
            await store.ReplaceDayAsync(day, RowsOf(day, 1), "run-1", Rerolled.AddHours(-1), CancellationToken.None);
            await store.ReplaceDayAsync(day, RowsOf(day, 2), "run-2", Rerolled, "re-roll for the test", CancellationToken.None);
        }
        Analyst = await Host.CreateReadKeyAsync("cells-analyst");
        DeveloperA = await Host.CreateReadKeyAsync("cells-dev-a", A);
        IngestKey = await Host.CreateKeyAsync("cells-sdk");
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await _azurite.DisposeAsync();
    }
}
