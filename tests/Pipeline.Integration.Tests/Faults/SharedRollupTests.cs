using System.Diagnostics;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Xunit.Abstractions;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// The rollup's fan-out across processes: two <c>serve</c> processes on one storage account share a
/// run's shard and day messages; one is killed (SIGKILL) in the middle of the run. The survivor picks
/// up the killed one's messages when their visibility lapses, the run completes, and every row equals
/// the uninterrupted run's.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class SharedRollupTests(BaselineFixture baseline, ITestOutputHelper output) : FreshStorageTest
{
    [Fact]
    public async Task Two_serve_processes_share_a_run_and_one_killed_mid_run_changes_no_row()
    {
        var clock = Stopwatch.StartNew();
        var settings = RunnerProcess.Settings(Azurite.ConnectionString);
        var key = await Storage.CreateKeyAsync("faults");
        var port = RunnerProcess.FreePort();
        await using (var loader = await RunnerProcess.ServeAsync(port, settings))
        {
            using var sender = new BatchSender(new Uri($"http://127.0.0.1:{port}"), key);
            await sender.SendAllAsync(baseline.Data.Batches, workers: 6, TimeSpan.FromSeconds(60));
            await Storage.WaitUntilDrainedAsync(TimeSpan.FromSeconds(60));
        }

        // One message at a time per process, so the two share the run's four shards between them.
        var oneAtATime = new Dictionary<string, string?>(settings) { ["LocalQueues__BatchSize"] = "1", ["LocalQueues__MaxConcurrency"] = "1" };
        var first = await RunnerProcess.ServeAsync(RunnerProcess.FreePort(), oneAtATime);
        await using var second = await RunnerProcess.ServeAsync(RunnerProcess.FreePort(), oneAtATime);

        var runs = Storage.Get<IRollupRunStore>();
        var plan = await Storage.Get<RollupPlanner>().PlanDueAsync("test", CancellationToken.None);
        Assert.Equal(PlanOutcome.Started, plan.Outcome);
        var run = plan.Run!;

        // Kill the first process as soon as the run has made progress, before it has ended.
        RollupProgress atKill = null!;
        await RunnerKillTests.WaitUntilAsync(async () =>
        {
            atKill = await runs.GetProgressAsync(run, CancellationToken.None);
            return atKill.ShardDaysDone > 0;
        }, "the first shard-day rolled", pollMs: 5);
        first.Kill();
        await first.DisposeAsync();
        Assert.True(atKill.Completed is null, "The run had completed before the kill; the test proved nothing.");

        RollupProgress done = null!;
        await RunnerKillTests.WaitUntilAsync(async () =>
        {
            done = await runs.GetProgressAsync(run, CancellationToken.None);
            return done.Completed is not null;
        }, "the run to complete on the surviving process", pollMs: 100, timeoutSeconds: 120);

        var snapshot = await MetricsSnapshot.TakeAsync(Azurite.ConnectionString, baseline.Data.ComparedDays, 4);
        snapshot.AssertSameAs(baseline.Expected);
        Assert.Equal(run.DayCount, done.Finalised.Count);
        Assert.Contains("Rollup run", second.Output); // the survivor did rollup work
        output.WriteLine($"two serves, one killed: {atKill.ShardDaysDone} of {(long)run.Shards * run.DayCount} shard-days and {atKill.Finalised.Count} days done at the kill; " +
            $"{done.Finalised.Count} days finalised by the survivor, {snapshot.Rows.Count} rows equal, {clock.Elapsed.TotalSeconds:0.0} s");
    }
}
