using System.Text.Json;
using Azure.Storage.Blobs;

namespace Pipeline.Storage.Queues;

/// <summary>
/// Why a message went to a poison queue: one JSON <see cref="PoisonRecord"/> per message at
/// <c>rejected/poison/&lt;queue&gt;/&lt;yyyy-MM-dd&gt;/&lt;messageId&gt;.json</c>, which <c>poison list</c> shows beside the
/// message. Written the same way by both hosts: the local listener when it moves a message, the Functions
/// triggers on a message's last delivery before the host moves it (<c>Pipeline.Hosting.Entries.QueueDelivery</c>).
/// </summary>
public sealed class PoisonReasonStore(BlobServiceClient blobService, TimeProvider time)
{
    private readonly BlobContainerClient _container = blobService.GetBlobContainerClient(StorageNames.RejectedContainer);

    public Task RecordAsync(string queue, string messageId, long dequeueCount, DateTimeOffset? insertedOn, string reason, string body, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var record = new PoisonRecord(queue, messageId, dequeueCount, insertedOn, now, reason, body);
        var name = $"poison/{queue}/{now:yyyy-MM-dd}/{messageId}.json";
        return StorageFailures.RunAsync($"recording why message {messageId} of {queue} is poisoned", ct =>
            _container.GetBlobClient(name).UploadAsync(
                new BinaryData(JsonSerializer.SerializeToUtf8Bytes(record, StorageJsonContext.Default.PoisonRecord)),
                overwrite: true, ct), cancellationToken);
    }
}
