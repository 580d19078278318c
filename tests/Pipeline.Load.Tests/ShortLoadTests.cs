using Pipeline.Benchmarks.Load;
using Xunit.Abstractions;

namespace Pipeline.Load.Tests;

/// <summary>
/// The soak in short: the same harness as <c>bench.sh load</c>, for 15 seconds at 400 events/s (6 mini-programs),
/// against the built local runner and a throw-away Azurite. Every accepted event must be stored
/// once, read once by the rollup, and counted by the event-counting metrics; no request may fail
/// with a 5xx or go unanswered.
/// </summary>
public sealed class ShortLoadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Steady_load_for_15_seconds_is_accepted_stored_and_rolled_up_exactly()
    {
        var options = new LoadOptions { Seconds = 15, Rate = 400, BatchSize = 200, Concurrency = 8, GzipRate = 0.5, SampleSeconds = 3, DrainTimeoutSeconds = 60,
            // Few mini-programs: fewer metric rows, so the rollup's table writes stay within the test's time budget.
            MiniPrograms = 6 };
        using var log = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));

        var report = await LoadHarness.RunAsync(options, log, timeout.Token);

        report.WriteTo(log);
        output.WriteLine(log.ToString());
        Assert.Equal(0, report.FailedRequests);
        Assert.True(report.Requests >= 15 * 400 / 200 * 9 / 10, $"only {report.Requests} requests were sent");
        Assert.Equal(report.SentEvents, report.AcceptedEvents);
        Assert.True(report.Drained, "processing did not drain");
        Assert.Equal(0, report.PoisonMessages);
        Assert.All(report.Days, d => Assert.Equal(d.Accepted, d.Stored));
        Assert.Equal(report.AcceptedEvents, report.StoredEvents);
        Assert.Equal(report.AcceptedEvents, report.RollupEventsRead);
        Assert.All(report.Metrics, m => Assert.True(m.Matches, $"{m.Day:yyyy-MM-dd} {m.Metric}: expected {m.Expected}, rolled up {m.RolledUp}"));
        Assert.Contains(report.Metrics, m => m.Metric == "users.page_views" && m.Expected > 0);
        Assert.True(report.CountsMatch);
    }
}
