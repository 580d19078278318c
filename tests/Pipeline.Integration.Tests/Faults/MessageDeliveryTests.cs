using Pipeline.Local.Hosting;
using System.Diagnostics;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues.Models;
using Pipeline.Hosting.Entries;
using Pipeline.Core.Rollup;
using Pipeline.Core.Sweep;
using Pipeline.Integration.Tests.EndToEnd;
using Pipeline.Storage;
using Pipeline.Local.Emulator;
using Pipeline.Storage.Queues;
using Xunit.Abstractions;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// Faults of the processing queue: every message delivered twice and out of order; messages lost
/// after their landing blob was written (the sweeper finds them); a message that always fails
/// (poison) among good ones. Each ends with the metrics of the uninterrupted run.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class MessageDeliveryTests(BaselineFixture baseline, ITestOutputHelper output) : FreshStorageTest
{
    [Fact]
    public async Task Every_message_delivered_twice_and_shuffled_counts_once()
    {
        var clock = Stopwatch.StartNew();
        var messages = await LandWithoutProcessingAsync();
        var shuffle = new Random(5);
        var deliveries = messages.Concat(messages).OrderBy(_ => shuffle.Next()).ToList();

        // Four handlers at once, as the listener runs them, so duplicates also race each other.
        var entry = Storage.Get<ProcessingQueueEntry>();
        await Parallel.ForEachAsync(deliveries, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (m, ct) => await entry.HandleAsync(m, ct));
        await Storage.Get<IServiceProvider>().RunRollupDueAsync(CancellationToken.None);

        var snapshot = await MetricsSnapshot.TakeAsync(Azurite.ConnectionString, baseline.Data.ComparedDays, 4);
        snapshot.AssertSameAs(baseline.Expected);
        output.WriteLine($"duplicated and shuffled: {deliveries.Count} deliveries of {messages.Count} messages, {snapshot.TotalStored} events stored, {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Landing_blobs_whose_message_was_lost_are_found_by_the_sweeper_and_counted_once()
    {
        var clock = Stopwatch.StartNew();
        var messages = await LandWithoutProcessingAsync();
        // Half the claim checks are processed; the other half are lost.
        var entry = Storage.Get<ProcessingQueueEntry>();
        var kept = messages.Where((_, i) => i % 2 == 0).ToList();
        var lost = messages.Where((_, i) => i % 2 == 1).Select(m => JsonDocument.Parse(m).RootElement.GetProperty("batchId").GetString()!).ToHashSet();
        foreach (var m in kept) await entry.HandleAsync(m, CancellationToken.None);

        // A sweep within the grace period touches nothing (it would race ingest).
        var patient = new LandingSweeper(Storage.Get<Pipeline.Core.Ports.ILandingInventory>(), Storage.Get<Pipeline.Core.Ports.IProcessingQueue>(), new SweepOptions(), TimeProvider.System);
        Assert.Empty((await patient.RunAsync(CancellationToken.None)).Enqueued);

        // The local runner's scheduled sweep (every second here, no grace) finds exactly the lost ones; its listener processes them.
        var settings = new Dictionary<string, string?> { ["SweepSchedule"] = "* * * * * *", ["Sweep:GracePeriod"] = "00:00:00.001" };
        await using (var host = await PipelineHost.StartAsync(Azurite.ConnectionString, settings: settings))
        {
            await RunnerKillTests.WaitUntilAsync(async () => (await MetricsSnapshot.TakeAsync(Azurite.ConnectionString, baseline.Data.ComparedDays, 4)).TotalStored == baseline.Data.EventCount,
                "the lost batches to be swept and processed", pollMs: 200);
            await host.WaitForProcessingAsync();
        }
        var swept = new List<string>();
        await foreach (var day in Storage.Get<Pipeline.Core.Ports.ILandingInventory>().ListAsync(DateOnly.FromDateTime(DateTime.UtcNow), CancellationToken.None))
        {
            Assert.NotNull(day.ProcessedAt);
            if (day.Sweeps > 0) swept.Add(day.BatchId);
        }
        Assert.Equal(lost.Order(), swept.Order());

        await Storage.Get<IServiceProvider>().RunRollupDueAsync(CancellationToken.None);
        var snapshot = await MetricsSnapshot.TakeAsync(Azurite.ConnectionString, baseline.Data.ComparedDays, 4);
        snapshot.AssertSameAs(baseline.Expected);
        output.WriteLine($"lost messages: {lost.Count} of {messages.Count} claim checks lost, {swept.Count} re-enqueued by the sweeper, {snapshot.TotalStored} events stored, {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task A_message_that_always_fails_ends_on_the_poison_queue_with_its_reason_and_stalls_nothing()
    {
        var clock = Stopwatch.StartNew();
        var messages = await LandWithoutProcessingAsync();
        // The bad claim check goes first, so every good one is queued behind it.
        var bad = ProcessingMessageBody("not-landed", "2000/01/01/not-landed.json");
        await Storage.ProcessingQueue.SendMessageAsync(bad);
        foreach (var m in messages) await Storage.ProcessingQueue.SendMessageAsync(m);

        // The bad message is retried once per visibility timeout; the good ones must not wait for it.
        var settings = new Dictionary<string, string?> { ["LocalQueues:VisibilityTimeout"] = "00:00:02" };
        TimeSpan poisoned;
        int storedWhenPoisoned;
        await using (var host = await PipelineHost.StartAsync(Azurite.ConnectionString, settings: settings))
        {
            await RunnerKillTests.WaitUntilAsync(async () => (await Storage.PoisonQueue.PeekMessagesAsync(1)).Value.Length == 1, "the poison message", pollMs: 100);
            poisoned = clock.Elapsed;
            storedWhenPoisoned = (await MetricsSnapshot.TakeAsync(Azurite.ConnectionString, baseline.Data.ComparedDays, 4)).TotalStored;
            await host.WaitForProcessingAsync();
        }
        Assert.True(storedWhenPoisoned > 0, "No good message was processed while the bad one was being retried.");

        PeekedMessage moved = Assert.Single((await Storage.PoisonQueue.PeekMessagesAsync(32)).Value);
        Assert.Equal(bad, moved.Body.ToString());
        var reasons = new BlobServiceClient(Azurite.ConnectionString).GetBlobContainerClient(StorageNames.RejectedContainer);
        var reasonBlob = await reasons.GetBlobsAsync(new GetBlobsOptions { Prefix = $"poison/{StorageNames.ProcessingQueue}/" }).SingleAsync();
        var record = JsonSerializer.Deserialize<PoisonRecord>((await reasons.GetBlobClient(reasonBlob.Name).DownloadContentAsync()).Value.Content.ToString(), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Contains("not-landed is missing", record.Reason, StringComparison.Ordinal);
        Assert.Equal(StorageNames.MaxDequeueCount, record.DequeueCount);

        await Storage.Get<IServiceProvider>().RunRollupDueAsync(CancellationToken.None);
        var snapshot = await MetricsSnapshot.TakeAsync(Azurite.ConnectionString, baseline.Data.ComparedDays, 4);
        snapshot.AssertSameAs(baseline.Expected);
        output.WriteLine($"poison: {storedWhenPoisoned} of {baseline.Data.EventCount} events already stored when the bad message was poisoned after {record.DequeueCount} deliveries at {poisoned.TotalSeconds:0.0} s; all {snapshot.TotalStored} stored in the end; reason '{record.Reason}'");
    }

    /// <summary>Sends the dataset through a runner without queue listeners, then takes every claim-check message off the queue (as JSON).</summary>
    private async Task<List<string>> LandWithoutProcessingAsync()
    {
        await using (var host = await PipelineHost.StartAsync(Azurite.ConnectionString, background: false))
        {
            var key = await host.CreateKeyAsync("faults");
            using var sender = new BatchSender(new Uri(host.Address), key);
            await sender.SendAllAsync(baseline.Data.Batches, workers: 4, TimeSpan.FromSeconds(60));
        }
        var messages = new List<string>();
        while (true)
        {
            QueueMessage[] received = (await Storage.ProcessingQueue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value;
            if (received.Length == 0) break;
            foreach (var m in received)
            {
                messages.Add(m.Body.ToString());
                await Storage.ProcessingQueue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        }
        Assert.Equal(baseline.Data.Batches.Count, messages.Count);
        return messages;
    }

    private static string ProcessingMessageBody(string batchId, string path) =>
        JsonSerializer.Serialize(new { batchId, landingPath = path });
}
