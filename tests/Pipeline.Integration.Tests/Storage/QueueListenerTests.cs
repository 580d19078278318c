using Pipeline.Local.Queues;
using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Integration.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class QueueListenerTests(AzuriteFixture azurite)
{
    private static readonly QueueListenerOptions Fast = new()
    {
        VisibilityTimeout = TimeSpan.FromSeconds(1),
        MinPollingInterval = TimeSpan.FromMilliseconds(50),
        MaxPollingInterval = TimeSpan.FromMilliseconds(200),
    };

    [Fact]
    public async Task Handles_and_deletes_every_message_then_is_idle()
    {
        var name = AzuriteFixture.Unique("q-ok-");
        var queue = await CreateQueueAsync(name);
        for (var i = 0; i < 40; i++) await queue.SendMessageAsync($"m{i}");

        var seen = new ConcurrentBag<string>();
        var listener = QueueListener.Create(azurite.Queues, azurite.Blobs, name, (m, _) =>
        {
            seen.Add(m.Body.ToString());
            return Task.CompletedTask;
        }, NullLogger.Instance, Fast);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = listener.RunAsync(cts.Token);
        await WaitUntilAsync(() => listener.IsIdleAsync(), cts.Token);
        cts.Cancel();
        await run;

        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"m{i}").Order(), seen.Order());
        Assert.Equal(0, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task Slow_messages_in_hand_do_not_hold_back_the_next_batches_and_the_cap_on_messages_in_hand_holds()
    {
        var name = AzuriteFixture.Unique("q-threshold-");
        var queue = await CreateQueueAsync(name);
        for (var i = 0; i < 30; i++) await queue.SendMessageAsync($"m{i}");

        // The first two messages handled wait until every other message is handled: with a listener that waited
        // for its whole batch before receiving the next one, they would wait for ever.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int started = 0, inHand = 0, mostInHand = 0, fastDone = 0;
        var options = new QueueListenerOptions
        {
            BatchSize = 4,
            NewBatchThreshold = 2,
            MaxConcurrency = 5,
            VisibilityTimeout = TimeSpan.FromSeconds(30), // the slow two keep their lease; nothing is delivered twice
            MinPollingInterval = Fast.MinPollingInterval,
            MaxPollingInterval = Fast.MaxPollingInterval,
        };
        var seen = new ConcurrentBag<string>();
        var listener = QueueListener.Create(azurite.Queues, azurite.Blobs, name, async (m, ct) =>
        {
            var now = Interlocked.Increment(ref inHand);
            InterlockedMax(ref mostInHand, now);
            try
            {
                if (Interlocked.Increment(ref started) <= 2) await release.Task.WaitAsync(ct);
                else if (Interlocked.Increment(ref fastDone) == 28) release.SetResult();
                else await Task.Delay(10, ct);
                seen.Add(m.Body.ToString());
            }
            finally
            {
                Interlocked.Decrement(ref inHand);
            }
        }, NullLogger.Instance, options);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = listener.RunAsync(cts.Token);
        await WaitUntilAsync(() => listener.IsIdleAsync(), cts.Token);
        cts.Cancel();
        await run;

        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"m{i}").Order(), seen.Order());
        Assert.InRange(mostInHand, 3, options.MaxConcurrency); // more than the two slow ones at once, never past the cap
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }

    [Fact]
    public async Task A_failing_receive_is_retried_until_the_queue_answers()
    {
        // The queue does not exist yet: every receive fails (404) and is retried, with a warning each time.
        var name = AzuriteFixture.Unique("q-late-");
        var log = new ListLogger<QueueListener>();
        var seen = new ConcurrentBag<string>();
        var listener = QueueListener.Create(azurite.Queues, azurite.Blobs, name, (m, _) =>
        {
            seen.Add(m.Body.ToString());
            return Task.CompletedTask;
        }, log, Fast);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = listener.RunAsync(cts.Token);
        while (log.Entries.Count(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning) < 2) await Task.Delay(20, cts.Token);
        var queue = await CreateQueueAsync(name);
        await queue.SendMessageAsync("after the outage");
        while (seen.IsEmpty) await Task.Delay(20, cts.Token);
        cts.Cancel();
        await run; // ends quietly: a listener never throws an outage at its host

        Assert.Equal(["after the outage"], seen);
        Assert.All(log.Entries.Where(e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning), w => Assert.Contains($"Receiving from queue {name} failed", w.Message));
    }

    [Fact]
    public async Task A_message_handled_longer_than_its_visibility_timeout_is_not_delivered_again()
    {
        var name = AzuriteFixture.Unique("q-slow-");
        var queue = await CreateQueueAsync(name);
        await queue.SendMessageAsync("slow");

        // Two listeners on the queue (two instances); the handler takes more than three visibility timeouts.
        // The timeout is 2 s (renewed every second), not the 1 s of the other tests: a renewal on a
        // loaded 2-core machine can take longer than half a second, and the queue's timeouts are whole seconds.
        var slowOptions = new QueueListenerOptions
        {
            VisibilityTimeout = TimeSpan.FromSeconds(2),
            MinPollingInterval = Fast.MinPollingInterval,
            MaxPollingInterval = Fast.MaxPollingInterval,
        };
        var deliveries = 0;
        async Task Slow(Azure.Storage.Queues.Models.QueueMessage _, CancellationToken ct)
        {
            Interlocked.Increment(ref deliveries);
            await Task.Delay(TimeSpan.FromSeconds(7), ct);
        }
        var first = QueueListener.Create(azurite.Queues, azurite.Blobs, name, Slow, NullLogger.Instance, slowOptions);
        var second = QueueListener.Create(azurite.Queues, azurite.Blobs, name, Slow, NullLogger.Instance, slowOptions);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var runs = new[] { first.RunAsync(cts.Token), second.RunAsync(cts.Token) };
        await Task.Delay(500, cts.Token); // let one of them receive it
        await WaitUntilAsync(async () => await first.IsIdleAsync() && await second.IsIdleAsync(), cts.Token);
        cts.Cancel();
        await Task.WhenAll(runs);

        Assert.Equal(1, deliveries);
        Assert.Equal(0, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount); // deleted with the renewed pop receipt
    }

    [Fact]
    public async Task An_always_failing_message_moves_to_the_poison_queue_after_five_deliveries()
    {
        var name = AzuriteFixture.Unique("q-bad-");
        var queue = await CreateQueueAsync(name);
        var poison = azurite.Queues.GetQueueClient(name + StorageNames.PoisonSuffix);
        await queue.SendMessageAsync("""{"batchId":"poisoned"}""");

        var deliveries = 0;
        var listener = QueueListener.Create(azurite.Queues, azurite.Blobs, name, (_, _) =>
        {
            Interlocked.Increment(ref deliveries);
            throw new InvalidOperationException("landing blob is corrupt");
        }, NullLogger.Instance, Fast);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = listener.RunAsync(cts.Token);
        await WaitUntilAsync(async () => (await poison.ExistsAsync()).Value && (await poison.PeekMessagesAsync(1)).Value.Length == 1, cts.Token);
        await WaitUntilAsync(() => listener.IsIdleAsync(), cts.Token);
        cts.Cancel();
        await run;

        Assert.Equal(StorageNames.MaxDequeueCount, deliveries);
        var moved = Assert.Single((await poison.ReceiveMessagesAsync(32)).Value);
        Assert.Equal("""{"batchId":"poisoned"}""", moved.Body.ToString()); // the original body

        // The reason is kept next to the rejected events.
        var reasons = azurite.Blobs.GetBlobContainerClient(StorageNames.RejectedContainer);
        var blobs = new List<string>();
        await foreach (var item in reasons.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = $"poison/{name}/" })) blobs.Add(item.Name);
        var record = JsonSerializer.Deserialize(
            (await reasons.GetBlobClient(Assert.Single(blobs)).DownloadContentAsync()).Value.Content.ToMemory().Span,
            StorageJsonContext.Default.PoisonRecord);
        Assert.Equal("landing blob is corrupt", record!.Reason);
        Assert.Equal(5, record.DequeueCount);
        Assert.Equal("""{"batchId":"poisoned"}""", record.Body);
    }

    private async Task<QueueClient> CreateQueueAsync(string name)
    {
        var queue = azurite.Queues.GetQueueClient(name);
        await queue.CreateIfNotExistsAsync();
        return queue;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        while (!await condition())
            await Task.Delay(100, cancellationToken);
    }
}
