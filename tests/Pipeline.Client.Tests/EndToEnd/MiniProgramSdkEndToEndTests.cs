using System.Diagnostics;
using System.Text.Json;

namespace Pipeline.Client.Tests.EndToEnd;

/// <summary>
/// The mini-program SDK (sdk/miniprogram) run in Node by <c>e2e/run.mjs</c> against the real
/// local runner, its wx fake doing real HTTP: the simulated users' sessions, page views and share
/// are found in the rolled-up metrics, each once, although one batch was sent twice and another
/// waited in storage across a restart.
/// </summary>
[Collection(LocalRunnerCollection.Name)]
public sealed class MiniProgramSdkEndToEndTests(LocalRunner runner)
{
    private const string MiniProgram = "wxsdkminiapp0001";

    [Fact]
    public async Task The_sdk_run_in_node_lands_its_events_in_the_days_metrics()
    {
        var key = await runner.CreateKeyAsync("miniprogram-sdk-e2e");
        var first = DateTimeOffset.UtcNow.AddMinutes(-10); // the script's clock starts 5 minutes back
        var report = await RunNodeAsync(runner.Endpoint.AbsoluteUri.TrimEnd('/'), key, MiniProgram);
        var last = DateTimeOffset.UtcNow;

        // What the script did (the scenario in e2e/run.mjs).
        Assert.Equal(2, report.GetProperty("users").GetInt32());
        Assert.Equal(4, report.GetProperty("sessions").GetInt32());
        Assert.Equal(2, report.GetProperty("sessionEnds").GetInt32());
        Assert.Equal(6, report.GetProperty("pageViews").GetInt32());
        Assert.Equal(1, report.GetProperty("shares").GetInt32());
        Assert.True(report.GetProperty("strandedOffline").GetInt32() > 0, report.ToString());
        Assert.True(report.GetProperty("statsA").GetProperty("retried").GetInt32() > 0, report.ToString());
        Assert.Equal(0, report.GetProperty("warnings").GetArrayLength());
        // What the SDK captured by itself (load time, launch query, errors) passes the real validator.
        Assert.Equal(0, report.GetProperty("rejected").GetInt32());
        Assert.Equal(2, report.GetProperty("errors").GetInt32());
        Assert.Equal(2, report.GetProperty("loadMs").GetArrayLength());

        await runner.WaitForProcessingAsync();
        var (from, to) = runner.DaysBetween(first, last);
        await runner.RollUpAsync(from, to);

        Assert.Equal(4, await runner.SumAsync(from, to, "users.sessions", MiniProgram));
        Assert.Equal(6, await runner.SumAsync(from, to, "users.page_views", MiniProgram));
        Assert.Equal(1, await runner.SumAsync(from, to, "users.shares", MiniProgram));
        if (from == to)
        {
            Assert.Equal(2, await runner.MetricAsync(from, "users.dau", "miniProgram", MiniProgram));
            // The two captured load times (912 and 700 ms) are the day's only ones for this mini-program: p95 is the larger.
            Assert.Equal(912, await runner.MetricAsync(from, "developers.load_time_p95_ms", "miniProgram", MiniProgram));
        }
    }

    private static async Task<JsonElement> RunNodeAsync(params string[] args)
    {
        var sdk = Path.Combine(LocalRunner.RepositoryRoot(), "sdk", "miniprogram");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = sdk,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine("e2e", "run.mjs"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            throw new TimeoutException($"e2e/run.mjs did not finish in 60 s:\n{await stderr}");
        }
        Assert.True(node.ExitCode == 0, $"e2e/run.mjs exited with {node.ExitCode}:\n{await stderr}\n{await stdout}");
        return JsonDocument.Parse(await stdout).RootElement.Clone();
    }
}
