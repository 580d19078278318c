using Pipeline.Local.Hosting;
using System.Diagnostics;
using Azure.Data.Tables;
using Pipeline.Core.Rollup;
using Pipeline.Storage;
using Pipeline.Local.Emulator;
using Xunit.Abstractions;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// The local runner, a real child process, killed with SIGKILL while work is in flight (requests
/// being answered, messages being processed, a rollup being written) and started again. Clients
/// resend everything that did not get a 202. After the restart and the drain, the day's metrics and
/// the stored events must equal those of the uninterrupted run exactly.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class RunnerKillTests(BaselineFixture baseline, ITestOutputHelper output) : FreshStorageTest
{
    [Fact]
    public async Task Killed_during_ingest_and_restarted_every_accepted_event_counts_once()
    {
        var clock = Stopwatch.StartNew();
        var port = RunnerProcess.FreePort();
        var settings = RunnerProcess.Settings(Azurite.ConnectionString);
        var key = await Storage.CreateKeyAsync("faults");
        var batches = baseline.Data.Batches;

        var runner = await RunnerProcess.ServeAsync(port, settings);
        using var sender = new BatchSender(new Uri($"http://127.0.0.1:{port}"), key);
        var sending = sender.SendAllAsync(batches, workers: 6, TimeSpan.FromSeconds(60));

        // Kill while clients are in the middle of sending: a third accepted, the rest still coming.
        await WaitUntilAsync(() => Task.FromResult(sender.Accepted.Count >= batches.Count / 3), "a third of the batches accepted");
        runner.Kill();
        var acceptedAtKill = sender.Accepted.Count;
        Assert.InRange(acceptedAtKill, batches.Count / 3, batches.Count - 1);

        await using (runner = await RunnerProcess.ServeAsync(port, settings))
        {
            await sending;
            await Storage.WaitUntilDrainedAsync(TimeSpan.FromSeconds(60));
        }
        await Storage.Get<IServiceProvider>().RunRollupDueAsync(CancellationToken.None);

        var snapshot = await MetricsSnapshot.TakeAsync(Azurite.ConnectionString, baseline.Data.ComparedDays, 4);
        snapshot.AssertSameAs(baseline.Expected);
        Assert.True(sender.ConnectionFailures > 0, "No request saw the kill; the test proved nothing.");
        output.WriteLine($"kill during ingest: {batches.Count} batches, {acceptedAtKill} accepted before the kill, {sender.Attempts} attempts, {sender.ConnectionFailures} connection failures, {snapshot.TotalStored} events stored, {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Killed_during_processing_and_restarted_every_accepted_event_counts_once()
    {
        var clock = Stopwatch.StartNew();
        var port = RunnerProcess.FreePort();
        var settings = RunnerProcess.Settings(Azurite.ConnectionString);
        var key = await Storage.CreateKeyAsync("faults");
        var batches = baseline.Data.Batches;

        // One message at a time, so processing trails ingest and the queue stays non-empty for a while.
        var slow = new Dictionary<string, string?>(settings) { ["LocalQueues__BatchSize"] = "1", ["LocalQueues__MaxConcurrency"] = "1" };
        var runner = await RunnerProcess.ServeAsync(port, slow);
        using var sender = new BatchSender(new Uri($"http://127.0.0.1:{port}"), key);
        await sender.SendAllAsync(batches, workers: 6, TimeSpan.FromSeconds(60));

        var stored = 0;
        var backlog = 0;
        await WaitUntilAsync(async () =>
        {
            stored = (await MetricsSnapshot.TakeAsync(Azurite.ConnectionString, baseline.Data.ComparedDays, 4)).TotalStored;
            backlog = await Storage.ProcessingBacklogAsync();
            return stored > 0;
        }, "the first events stored");
        runner.Kill();
        await runner.DisposeAsync();
        Assert.True(backlog > 0, "The queue was already empty at the kill; the test proved nothing.");
        Assert.InRange(stored, 1, baseline.Data.EventCount - 1);

        await using (runner = await RunnerProcess.ServeAsync(port, settings))
            await Storage.WaitUntilDrainedAsync(TimeSpan.FromSeconds(60));
        await Storage.Get<IServiceProvider>().RunRollupDueAsync(CancellationToken.None);

        var snapshot = await MetricsSnapshot.TakeAsync(Azurite.ConnectionString, baseline.Data.ComparedDays, 4);
        snapshot.AssertSameAs(baseline.Expected);
        output.WriteLine($"kill during processing: {stored} of {baseline.Data.EventCount} events stored and {backlog} messages queued at the kill; {snapshot.TotalStored} stored after the restart, {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Killed_during_a_rollup_and_run_again_the_metrics_are_those_of_an_uninterrupted_rollup()
    {
        var clock = Stopwatch.StartNew();
        var port = RunnerProcess.FreePort();
        var settings = RunnerProcess.Settings(Azurite.ConnectionString);
        var key = await Storage.CreateKeyAsync("faults");
        await using (var runner = await RunnerProcess.ServeAsync(port, settings))
        {
            using var sender = new BatchSender(new Uri($"http://127.0.0.1:{port}"), key);
            await sender.SendAllAsync(baseline.Data.Batches, workers: 6, TimeSpan.FromSeconds(60));
            await Storage.WaitUntilDrainedAsync(TimeSpan.FromSeconds(60));
        }

        // Kill the rollup verb as soon as its first day's rows appear: the later days are not rolled yet.
        var daily = new TableServiceClient(Azurite.ConnectionString).GetTableClient(StorageNames.DailyMetricsTable);
        var first = baseline.Data.FirstDay.ToString("yyyy-MM-dd");
        var last = baseline.Data.ComparedDays[^1].ToString("yyyy-MM-dd");
        var rollup = RunnerProcess.Start(settings, "rollup");
        await WaitUntilAsync(async () =>
        {
            if (rollup.HasExited) throw new InvalidOperationException($"The rollup finished before it could be killed. Output:\n{rollup.Output}");
            await foreach (var _ in daily.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey ge {first} and PartitionKey lt {first + "}"}"), maxPerPage: 1, select: ["RowKey"]))
                return true;
            return false;
        }, "the first day's rows written", pollMs: 5);
        rollup.Kill();
        await rollup.DisposeAsync();
        var lastDayRowsAtKill = 0;
        await foreach (var _ in daily.QueryAsync<TableEntity>(e => e.PartitionKey == last, select: ["RowKey"])) lastDayRowsAtKill++;
        var dirtyAtKill = (await Storage.Get<Pipeline.Core.Ports.IDirtyDayLedger>().ListAsync(CancellationToken.None)).Count;
        Assert.True(lastDayRowsAtKill == 0 || dirtyAtKill > 0, "The rollup had finished when it was killed; the test proved nothing.");

        await using (var again = RunnerProcess.Start(settings, "rollup"))
            Assert.Equal(0, await again.WaitForExitAsync(TimeSpan.FromSeconds(60)));

        var snapshot = await MetricsSnapshot.TakeAsync(Azurite.ConnectionString, baseline.Data.ComparedDays, 4);
        snapshot.AssertSameAs(baseline.Expected);
        output.WriteLine($"kill during rollup: {dirtyAtKill} dirty day(s) and {lastDayRowsAtKill} rows of the last day at the kill; {snapshot.Rows.Count} rows equal after the second rollup, {clock.Elapsed.TotalSeconds:0.0} s");
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, int pollMs = 20, int timeoutSeconds = 60)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(timeoutSeconds)) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(pollMs);
        }
    }
}
