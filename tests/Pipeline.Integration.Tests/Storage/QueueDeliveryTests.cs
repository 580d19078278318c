using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Hosting.Entries;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Integration.Tests.Storage;

/// <summary>
/// The Functions triggers' delivery wrapper: a failure on a message's last delivery records its reason
/// where the local listener records it, so <c>poison list</c> shows it whichever host poisoned the message.
/// (The host's own move to the poison queue is played here by sending the body there, as the host does.)
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class QueueDeliveryTests(AzuriteFixture azurite)
{
    private static QueueMessage Delivery(string id, string body, long dequeueCount) =>
        QueuesModelFactory.QueueMessage(id, "receipt", body, dequeueCount, insertedOn: DateTimeOffset.UtcNow.AddMinutes(-1));

    [Fact]
    public async Task The_last_failed_delivery_records_the_reason_that_poison_list_shows()
    {
        var name = AzuriteFixture.Unique("q-fx-");
        var delivery = new QueueDelivery(new PoisonReasonStore(azurite.Blobs, TimeProvider.System), NullLogger<QueueDelivery>.Instance);
        const string body = """{"batchId":"fx-1"}""";
        Task Fail(string message, CancellationToken _) => throw new InvalidOperationException("cannot process " + message);

        // Deliveries before the last: rethrown, nothing recorded.
        for (var n = 1; n < StorageNames.MaxDequeueCount; n++)
            await Assert.ThrowsAsync<InvalidOperationException>(() => delivery.RunAsync(name, Delivery("m1", body, n), Fail, CancellationToken.None));
        // The last: rethrown (so the host moves it) after the reason is recorded.
        await Assert.ThrowsAsync<InvalidOperationException>(() => delivery.RunAsync(name, Delivery("m1", body, StorageNames.MaxDequeueCount), Fail, CancellationToken.None));
        // A success is only a success.
        var handled = 0;
        await delivery.RunAsync(name, Delivery("m2", """{"batchId":"fx-2"}""", StorageNames.MaxDequeueCount), (_, _) => { handled++; return Task.CompletedTask; }, CancellationToken.None);
        Assert.Equal(1, handled);

        var poison = azurite.Queues.GetQueueClient(name + StorageNames.PoisonSuffix);
        await poison.CreateIfNotExistsAsync();
        await poison.SendMessageAsync(body);

        var listed = Assert.Single(await new PoisonQueues(azurite.Queues, azurite.Blobs).PeekAsync(name, CancellationToken.None));
        Assert.Equal("cannot process " + body, listed.Reason);
        var reasons = azurite.Blobs.GetBlobContainerClient(StorageNames.RejectedContainer).GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"poison/{name}/", CancellationToken.None);
        var count = 0;
        await foreach (var _ in reasons) count++;
        Assert.Equal(1, count); // one record: earlier deliveries and the success wrote none
    }
}
