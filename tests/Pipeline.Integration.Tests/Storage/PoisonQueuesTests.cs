using Pipeline.Local.Queues;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Integration.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class PoisonQueuesTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Lists_poison_messages_with_their_reasons_and_moves_them_back()
    {
        var name = AzuriteFixture.Unique("q-poison-");
        var queue = azurite.Queues.GetQueueClient(name);
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync("""{"batchId":"a"}""");
        await queue.SendMessageAsync("""{"batchId":"b"}""");
        var operators = new PoisonQueues(azurite.Queues, azurite.Blobs);
        Assert.Equal(0, await operators.CountAsync(name, CancellationToken.None)); // no poison queue yet
        Assert.Empty(await operators.PeekAsync(name, CancellationToken.None));

        // Both fail every delivery and end on the poison queue, with a reason each.
        var listener = QueueListener.Create(azurite.Queues, azurite.Blobs, name,
            (m, _) => throw new InvalidOperationException("cannot process " + m.Body), NullLogger.Instance,
            new QueueListenerOptions { VisibilityTimeout = TimeSpan.FromSeconds(1), MinPollingInterval = TimeSpan.FromMilliseconds(50), MaxPollingInterval = TimeSpan.FromMilliseconds(200) });
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(40)))
        {
            var run = listener.RunAsync(cts.Token);
            while ((await operators.PeekAsync(name, cts.Token)).Count < 2) await Task.Delay(100, cts.Token);
            cts.Cancel();
            await run;
        }

        var listed = await operators.PeekAsync(name, CancellationToken.None);
        Assert.Equal(2, await operators.CountAsync(name, CancellationToken.None));
        Assert.Equal(["""cannot process {"batchId":"a"}""", """cannot process {"batchId":"b"}"""], listed.Select(m => m.Reason).Order());
        Assert.All(listed, m => Assert.Equal(name, m.Queue));

        // Requeue one, then the rest; the bodies arrive unchanged on the original queue.
        Assert.Equal(1, await operators.RequeueAsync(name, 1, CancellationToken.None));
        Assert.Equal(1, await operators.RequeueAsync(name, 1000, CancellationToken.None));
        Assert.Equal(0, await operators.RequeueAsync(name, 1000, CancellationToken.None));
        Assert.Empty(await operators.PeekAsync(name, CancellationToken.None));
        var back = (await queue.ReceiveMessagesAsync(32)).Value.Select(m => m.Body.ToString()).Order();
        Assert.Equal(["""{"batchId":"a"}""", """{"batchId":"b"}"""], back);
    }

    [Fact]
    public void Every_pipeline_queue_has_its_poison_queue_listed_for_operators()
    {
        var workQueues = StorageNames.Queues.Where(q => !q.EndsWith(StorageNames.PoisonSuffix, StringComparison.Ordinal)).Order();
        Assert.Equal(workQueues, PoisonQueues.Queues.Values.Order());
        Assert.All(PoisonQueues.Queues.Values, q => Assert.Contains(q + StorageNames.PoisonSuffix, StorageNames.Queues));
    }
}
