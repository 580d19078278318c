using Pipeline.Integration.Tests.Faults;

namespace Pipeline.Integration.Tests.Local;

/// <summary>
/// The <c>demo</c> verb as a user runs it, the built runner as a child process (it starts its own
/// throw-away Azurite): with <c>--no-serve</c> it replays, rolls up, prints the scorecard and writes the
/// exports, then ends with 0 instead of serving, so it prints no dashboard link or read key. One day of
/// twenty users keeps it short.
/// </summary>
public sealed class DemoCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pipeline-demo-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Demo_with_no_serve_prints_the_scorecard_writes_the_exports_and_exits_0_without_a_dashboard_link()
    {
        await using var demo = RunnerProcess.Start(new Dictionary<string, string?>(),
            "demo", "--days", "1", "--users", "20", "--seed", "7", "--no-serve", "--out", _folder);
        var code = await demo.WaitForExitAsync(TimeSpan.FromMinutes(4));
        var output = demo.Output;

        Assert.True(code == 0, $"demo --no-serve exited with {code}. Output:\n{output}");
        Assert.Contains(" Scorecard for ", output, StringComparison.Ordinal);
        Assert.Contains("Every response matched what the simulator expected.", output, StringComparison.Ordinal);
        Assert.DoesNotContain(output.Split('\n'), line => line.StartsWith("Dashboard:", StringComparison.Ordinal));
        Assert.DoesNotContain("/dashboard/", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Read key", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Serving the dashboard", output, StringComparison.Ordinal);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_folder, "exports", "daily"), "*.csv"));
    }
}
