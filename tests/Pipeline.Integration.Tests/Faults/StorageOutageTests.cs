using Pipeline.Local.Hosting;
using System.Diagnostics;
using Azure.Storage.Blobs;
using Pipeline.Core.Rollup;
using Pipeline.Storage;
using Pipeline.Local.Emulator;
using Pipeline.Storage.Resilience;
using Xunit.Abstractions;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// Storage goes away while clients keep sending, and comes back (Azurite stopped, then started
/// again on the same data folder and ports). Ingest must answer 503 with <c>Retry-After</c> and
/// acknowledge nothing it did not store; the retried batches must be counted once.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class StorageOutageTests(BaselineFixture baseline, ITestOutputHelper output)
{
    [Fact]
    public async Task During_an_outage_ingest_answers_503_with_retry_after_and_after_it_every_retried_batch_counts_once()
    {
        var clock = Stopwatch.StartNew();
        var folder = Path.Combine(Path.GetTempPath(), "pipeline-outage-" + Guid.NewGuid().ToString("N")[..12]);
        var azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions { Location = folder }, CancellationToken.None);
        var (blobPort, queuePort, tablePort) = (azurite.BlobPort, azurite.QueuePort, azurite.TablePort);
        using var blobProxy = new OutageProxy(blobPort);
        using var queueProxy = new OutageProxy(queuePort);
        using var tableProxy = new OutageProxy(tablePort);
        OutageProxy[] proxies = [blobProxy, queueProxy, tableProxy];
        var connectionString = AzuriteRunner.ConnectionStringFor(blobProxy.Port, queueProxy.Port, tableProxy.Port);
        try
        {
            await using var storage = await FaultStorage.OpenAsync(connectionString);
            var key = await storage.CreateKeyAsync("faults");
            var resilience = new DurableWriteResilienceOptions { Timeout = TimeSpan.FromSeconds(5), BreakDuration = TimeSpan.FromSeconds(2), MinimumThroughput = 4 };
            await using var host = await FaultHost.StartAsync(connectionString, resilience);
            using var sender = new BatchSender(host.Address, key);
            var batches = baseline.Data.Batches;
            var sending = sender.SendAllAsync(batches, workers: 4, TimeSpan.FromSeconds(90));

            await RunnerKillTests.WaitUntilAsync(() => Task.FromResult(sender.Accepted.Count >= batches.Count / 3), "a third of the batches accepted");
            var outage = Stopwatch.StartNew();
            foreach (var proxy in proxies) proxy.Cut();
            await StopWithoutLossAsync(azurite);
            var acceptedAtStop = sender.Accepted.Count;
            await RunnerKillTests.WaitUntilAsync(() => Task.FromResult(sender.Unavailable >= 8), "503s during the outage", timeoutSeconds: 30);
            var acceptedDuringOutage = sender.Accepted.Count - acceptedAtStop;

            azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions { Location = folder, BlobPort = blobPort, QueuePort = queuePort, TablePort = tablePort }, CancellationToken.None);
            foreach (var proxy in proxies) proxy.Restore();
            var outageLength = outage.Elapsed;
            await sending;
            var recovered = outage.Elapsed;
            await storage.WaitUntilDrainedAsync(TimeSpan.FromSeconds(60));
            await storage.Get<IServiceProvider>().RunRollupDueAsync(CancellationToken.None);

            // Every 202 names a batch whose landing blob exists: nothing was acknowledged that was not stored.
            var landing = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(StorageNames.LandingContainer);
            var landed = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var blob in landing.GetBlobsAsync()) landed.Add(Path.GetFileNameWithoutExtension(blob.Name));
            Assert.All(sender.Accepted.Values, batchId => Assert.Contains(batchId, landed));
            Assert.Equal(0, acceptedDuringOutage);
            Assert.Equal(sender.Unavailable, sender.UnavailableWithRetryAfter);
            Assert.Equal(0, sender.OtherStatuses);

            var snapshot = await MetricsSnapshot.TakeAsync(azurite.ConnectionString, baseline.Data.ComparedDays, 4);
            snapshot.AssertSameAs(baseline.Expected);
            output.WriteLine($"storage outage: {batches.Count} batches, {acceptedAtStop} accepted before the stop, {sender.Unavailable} answered 503 (all with Retry-After), {sender.ConnectionFailures} client timeouts, " +
                $"{sender.Attempts} attempts; storage down {outageLength.TotalSeconds:0.0} s, all accepted {recovered.TotalSeconds:0.0} s after the stop; {landed.Count} landing blobs for {batches.Count} batches; {snapshot.TotalStored} events stored, {clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            await azurite.DisposeAsync();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// Stops Azurite without losing what it acknowledged. The proxies have already cut every
    /// connection, so no write reaches it any more; SIGTERM asks it to save its metadata and exit.
    /// If it has not exited after its autosave interval (5 s) has passed at least once with no new
    /// writes, everything it acknowledged is on disk, and it is killed. (Killed while writes still
    /// arrive, Azurite would lose up to its last 5 s of metadata: a limit of the emulator that
    /// Azure Storage does not have, and not what this test is about.)
    /// </summary>
    private static async Task StopWithoutLossAsync(AzuriteRunner azurite)
    {
        var pid = azurite.ProcessId ?? throw new InvalidOperationException("This Azurite was not started by the test.");
        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!)
            await kill.WaitForExitAsync();
        using var process = Process.GetProcessById(pid);
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(6));
        try
        {
            await process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            await azurite.DisposeAsync();
        }
    }
}
