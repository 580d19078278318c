using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Pipeline.Core.Events;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Integration.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class QueueTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Enqueued_message_is_Base64_of_the_JSON_claim_check()
    {
        var queue = new QueueProcessingQueue(azurite.Queues);
        var message = new ProcessingMessage(Guid.CreateVersion7().ToString(), "2026/11/23/x.json");

        await queue.EnqueueAsync(message, CancellationToken.None);

        // Read it raw, as the Functions host would see it on the wire.
        var raw = new QueueClient(azurite.ConnectionString, StorageNames.ProcessingQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        var peeked = (await raw.PeekMessagesAsync(32)).Value;
        var bodies = peeked.Select(m => m.Body.ToString()).ToList();
        var body = Assert.Single(bodies, b => Encoding.UTF8.GetString(Convert.FromBase64String(b)).Contains(message.BatchId));
        var json = Encoding.UTF8.GetString(Convert.FromBase64String(body));

        using var document = JsonDocument.Parse(json);
        Assert.Equal(message.BatchId, document.RootElement.GetProperty("batchId").GetString());
        Assert.Equal(message.LandingPath, document.RootElement.GetProperty("landingPath").GetString());
        Assert.Equal(message, QueueProcessingQueue.Parse(json));
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("{\"batchId\":\"b1\"}", "needs both batchId and landingPath")]
    [InlineData("{\"landingPath\":\"landing/x.json\"}", "needs both batchId and landingPath")]
    [InlineData("null", "needs both batchId and landingPath")]
    public void A_malformed_claim_check_is_a_format_error_that_names_what_is_wrong(string body, string expected)
    {
        var e = Assert.Throws<FormatException>(() => QueueProcessingQueue.Parse(body));
        Assert.Contains(expected, e.Message);
    }
}
