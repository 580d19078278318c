using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Local.Hosting;
using Pipeline.Local.Emulator;

namespace Pipeline.Integration.Tests.EndToEnd;

/// <summary>
/// Restatements through the whole flow on its own Azurite (the rollup's cursor is per account): a day
/// rolled, a late event for it, the day rolled again; <c>GET /api/v1/restatements</c> on the local runner
/// lists exactly the rows whose value changed, with the first and the second run and the reason.
/// </summary>
public sealed class RestatementFlowTests : IAsyncLifetime
{
    private AzuriteRunner _azurite = null!;

    public async Task InitializeAsync() => _azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions(), CancellationToken.None);

    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    [Fact]
    public async Task A_late_event_restates_exactly_the_rows_it_changes()
    {
        await using var host = await PipelineHost.StartAsync(_azurite.ConnectionString);
        var data = new Dataset(TimeProvider.System);
        var key = await host.CreateKeyAsync("e2e-restate");
        var metrics = host.Get<IMetricsStore>();
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var dayText = data.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var query = $"/api/v1/restatements?since={Uri.EscapeDataString(since.ToString("O"))}&day={dayText}";
        var reader = await host.CreateReadKeyAsync("e2e-restate-analyst");

        Assert.Equal(HttpStatusCode.Accepted, (await host.PostAsync(key, data.Body())).StatusCode);
        await host.WaitForProcessingAsync();
        await host.Get<IServiceProvider>().RunRollupDueAsync(CancellationToken.None);
        var before = (await metrics.ReadDayAsync(data.Day, CancellationToken.None)).ToDictionary(MetricRowKeys.DailyRowKey);
        Assert.NotEmpty(before);
        using (var firstRoll = JsonDocument.Parse(await (await host.GetAsync(reader, query)).Content.ReadAsStringAsync()))
            Assert.Equal(0, firstRoll.RootElement.GetProperty("count").GetInt32());

        // A new user's session on the day, arriving after it was rolled.
        var late = new JsonObject
        {
            ["events"] = new JsonArray(new JsonObject
            {
                ["eventId"] = "late-1",
                ["type"] = "session_start",
                ["timestamp"] = data.DayStart.AddHours(5).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["miniProgramId"] = data.MiniProgram,
                ["userId"] = "u4",
                ["sessionId"] = "s4",
                ["platform"] = "ios",
                ["props"] = new JsonObject { ["scene"] = 1001, ["loadMs"] = 900 },
            }),
        }.ToJsonString();
        Assert.Equal(HttpStatusCode.Accepted, (await host.PostAsync(key, late)).StatusCode);
        await host.WaitForProcessingAsync();
        await host.Get<IServiceProvider>().RunRollupDueAsync(CancellationToken.None);
        var after = (await metrics.ReadDayAsync(data.Day, CancellationToken.None)).ToDictionary(MetricRowKeys.DailyRowKey);

        // What changed, computed from the two readings.
        static bool Same(MetricRow a, MetricRow b) => a.Value.Equals(b.Value) && Nullable.Equals(a.Numerator, b.Numerator) && Nullable.Equals(a.Denominator, b.Denominator);
        var changed = before.Where(kv => !after.TryGetValue(kv.Key, out var now) || !Same(kv.Value, now)).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        Assert.Contains("users.dau|total|", changed);
        Assert.Equal(Dataset.ExpectedDau + 1, after["users.dau|total|"].Value);

        using var listed = JsonDocument.Parse(await (await host.GetAsync(reader, query)).Content.ReadAsStringAsync());
        var records = listed.RootElement.GetProperty("restatements").EnumerateArray().ToList();
        Assert.Equal(JsonValueKind.Null, listed.RootElement.GetProperty("continuation").ValueKind);
        Assert.Equal(changed, records.Select(r => $"{r.GetProperty("metric").GetString()}|{r.GetProperty("dimension").GetString()}|{Escape(r.GetProperty("dimensionValue").GetString()!)}").Order(StringComparer.Ordinal));
        var runs = records.Select(r => (Old: r.GetProperty("oldRunId").GetString(), New: r.GetProperty("newRunId").GetString())).Distinct().ToList();
        Assert.Single(runs);
        Assert.NotEqual(runs[0].Old, runs[0].New);
        foreach (var r in records)
        {
            var rowKey = $"{r.GetProperty("metric").GetString()}|{r.GetProperty("dimension").GetString()}|{Escape(r.GetProperty("dimensionValue").GetString()!)}";
            Assert.Equal(before[rowKey].Value, r.GetProperty("oldValue").GetDouble());
            if (after.TryGetValue(rowKey, out var now)) Assert.Equal(now.Value, r.GetProperty("newValue").GetDouble());
            else Assert.Equal(JsonValueKind.Null, r.GetProperty("newValue").ValueKind);
            Assert.Equal($"re-roll of {dayText}: late events arrived for the day", r.GetProperty("reason").GetString());
        }
        var dau = records.Single(r => r.GetProperty("metric").GetString() == "users.dau" && r.GetProperty("dimension").GetString() == "total");
        Assert.Equal(Dataset.ExpectedDau, dau.GetProperty("oldValue").GetDouble());
        Assert.Equal(Dataset.ExpectedDau + 1, dau.GetProperty("newValue").GetDouble());

        // The query API marks the restated row, with the value it replaced and the run that changed it; an unchanged row is not marked.
        using var marked = JsonDocument.Parse(await (await host.GetAsync(reader, $"/api/v1/metrics?date={dayText}&metric=users.dau&dimension=total")).Content.ReadAsStringAsync());
        var row = Assert.Single(marked.RootElement.GetProperty("rows").EnumerateArray());
        Assert.True(row.GetProperty("restated").GetBoolean());
        Assert.Equal(Dataset.ExpectedDau, row.GetProperty("previousValue").GetDouble());
        Assert.Equal(runs[0].New, row.GetProperty("runId").GetString());
        var unchangedKey = before.Keys.First(k => !changed.Contains(k) && k.StartsWith("users.", StringComparison.Ordinal) && k.EndsWith("|total|", StringComparison.Ordinal));
        var metric = unchangedKey[..unchangedKey.IndexOf('|')];
        using var plain = JsonDocument.Parse(await (await host.GetAsync(reader, $"/api/v1/metrics?date={dayText}&metric={metric}&dimension=total")).Content.ReadAsStringAsync());
        Assert.False(Assert.Single(plain.RootElement.GetProperty("rows").EnumerateArray()).GetProperty("restated").GetBoolean());
    }

    private static string Escape(string dimensionValue) =>
        MetricRowKeys.DailyRowKey(new MetricRow(default, "m", "", "", "d", dimensionValue, 0, null, null, ""))["m|d|".Length..];
}
