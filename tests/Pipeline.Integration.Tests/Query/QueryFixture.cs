using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Integration.Tests.EndToEnd;
using Pipeline.Local.Emulator;

namespace Pipeline.Integration.Tests.Query;

/// <summary>
/// One Azurite and one local host whose metric tables hold three rolled-up days (2026-11-20..22) of a
/// small, known set of rows for two mini-programs, written by the real <see cref="IMetricsStore"/>; the
/// day after (11-23) is not rolled up. The query tests only read, so they share it.
/// </summary>
public sealed class QueryFixture : IAsyncLifetime
{
    public static readonly DateOnly D1 = new(2026, 11, 20), D2 = new(2026, 11, 21), D3 = new(2026, 11, 22), NotRolled = new(2026, 11, 23);
    public const string A = "wxquery00000000a", B = "wxquery00000000b";
    public static readonly DateTimeOffset ComputedAt = new(2026, 11, 23, 0, 30, 0, TimeSpan.Zero);

    private AzuriteRunner _azurite = null!;
    public PipelineHost Host { get; private set; } = null!;
    public string Analyst { get; private set; } = "";
    public string DeveloperA { get; private set; } = "";
    public string IngestKey { get; private set; } = "";

    /// <summary>Every row written, by day: what a query over everything must return.</summary>
    public Dictionary<DateOnly, List<MetricRow>> Rows { get; } = [];

    public static List<MetricRow> RowsOf(DateOnly day)
    {
        var n = day.Day; // values differ by day, so a row from the wrong day shows
        MetricRow R(string metric, string stakeholder, string tier, string dimension, string value, double v, string unit, double? num = null, double? den = null) =>
            new(day, metric, stakeholder, tier, dimension, value, v, num, den, unit);
        return
        [
            R("northstar.engaged_users", "northstar", "northstar", "total", "", 10 + n, "users"),
            R("northstar.engaged_users", "northstar", "northstar", "miniProgram", A, 6 + n, "users"),
            R("northstar.engaged_users", "northstar", "northstar", "miniProgram", B, 4, "users"),
            R("users.dau", "users", "core", "total", "", 100 + n, "users"),
            R("users.dau", "users", "core", "channel", "search", 40, "users"),
            R("users.dau", "users", "core", "channel", "share", 20 + n, "users"),
            R("users.dau", "users", "core", "miniProgram", A, 60 + n, "users"),
            R("users.dau", "users", "core", "miniProgram", B, 40, "users"),
            R("users.new", "users", "core", "total", "", 7, "users"),
            R("users.retention_d1", "users", "core", "total", "", 0.25, "ratio", 5, 20),
            R("users.retention_d1", "users", "core", "miniProgram", A, 0.5, "ratio", 3, 6),
            R("businesses.gmv", "businesses", "core", "currency", "CNY", 1000 * n, "minor_units"),
            R("businesses.gmv", "businesses", "core", "miniProgram.currency", A + "/CNY", 700, "minor_units"),
            R("businesses.gmv", "businesses", "core", "miniProgram.currency", B + "/CNY", 300, "minor_units"),
            R("pages.views", "pages", "supporting", "miniProgram.page", A + "/pages/index", 30, "events"),
            R("pages.views", "pages", "supporting", "miniProgram.page", B + "/pages/home", 12, "events"),
        ];
    }

    public async Task InitializeAsync()
    {
        _azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions(), CancellationToken.None);
        Host = await PipelineHost.StartAsync(_azurite.ConnectionString, background: false);
        var store = Host.Get<IMetricsStore>();
        foreach (var day in new[] { D1, D2, D3 })
        {
            Rows[day] = RowsOf(day);
            await store.ReplaceDayAsync(day, Rows[day], "run-" + day.Day, ComputedAt, CancellationToken.None);
        }
        Analyst = await Host.CreateReadKeyAsync("query-analyst");
        DeveloperA = await Host.CreateReadKeyAsync("query-dev-a", A);
        IngestKey = await Host.CreateKeyAsync("query-sdk");
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await _azurite.DisposeAsync();
    }
}
