using System.Net;
using System.Text.Json;
using Azure.Storage.Blobs;
using Pipeline.Core.Ingest;
using Pipeline.Integration.Tests.EndToEnd;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;

namespace Pipeline.Integration.Tests.Security;

/// <summary>Who sent what (source and key id on every stored batch), and the per-source rate limit, through the local runner's HTTP endpoint.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class IngestAuditAndRateLimitTests(AzuriteFixture azurite)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static string KeyIdOf(string key) => key.Substring(4, IngestKeys.KeyIdLength);

    private static async Task<string> BatchIdOf(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("batchId").GetString()!;
    }

    [Fact]
    public async Task Every_landed_batch_and_rejected_record_names_the_source_and_key_that_sent_it()
    {
        await using var host = await PipelineHost.StartAsync(azurite.ConnectionString, background: false);
        var sdk = AzuriteFixture.Unique("audit-sdk-");
        var payments = AzuriteFixture.Unique("audit-pay-");
        var sdkKey = await host.CreateKeyAsync(sdk, "wx_audit");
        var paymentsKey = await host.CreateKeyAsync(payments);

        // The SDK's key may not write wx_other: that event is rejected and kept for operators.
        var sdkBatch = await BatchIdOf(await host.PostAsync(sdkKey, SecurityBodies.Sessions(("a1", "wx_audit"), ("a2", "wx_other"))));
        var paymentsBatch = await BatchIdOf(await host.PostAsync(paymentsKey, SecurityBodies.Sessions(("p1", "wx_other"))));

        var landing = new BlobLandingStore(azurite.Blobs);
        var landed = new Dictionary<string, Pipeline.Core.Events.LandingBatch>();
        await foreach (var blob in azurite.Blobs.GetBlobContainerClient(StorageNames.LandingContainer).GetBlobsAsync(cancellationToken: None))
        {
            if (!blob.Name.Contains(sdkBatch, StringComparison.Ordinal) && !blob.Name.Contains(paymentsBatch, StringComparison.Ordinal)) continue;
            var batch = (await landing.ReadAsync(blob.Name, None))!;
            landed[batch.BatchId] = batch;
        }
        Assert.Equal((sdk, KeyIdOf(sdkKey), 2, 1), (landed[sdkBatch].Source, landed[sdkBatch].KeyId, landed[sdkBatch].ReceivedCount, landed[sdkBatch].RejectedCount));
        Assert.Equal(["a1"], landed[sdkBatch].Events.Select(e => e.EventId));
        Assert.Equal((payments, KeyIdOf(paymentsKey)), (landed[paymentsBatch].Source, landed[paymentsBatch].KeyId));
        Assert.Equal(["p1"], landed[paymentsBatch].Events.Select(e => e.EventId));

        var rejected = await new BlobRejectedEventStore(azurite.Blobs).ReadAsync(sdkBatch, landed[sdkBatch].ReceivedAt, None);
        Assert.NotNull(rejected);
        Assert.Equal((sdk, KeyIdOf(sdkKey)), (rejected.Source, rejected.KeyId));
        Assert.Equal("forbidden_mini_program", Assert.Single(rejected.Rejections).Code);
    }

    [Fact]
    public async Task A_source_over_its_rate_limit_gets_429_with_Retry_After_and_other_sources_do_not()
    {
        await using var host = await PipelineHost.StartAsync(azurite.ConnectionString, background: false, new Dictionary<string, string?>
        {
            ["Pipeline:RateLimit:EventsPerSecond"] = "0.5",
            ["Pipeline:RateLimit:Burst"] = "3",
        });
        var busy = await host.CreateKeyAsync(AzuriteFixture.Unique("rl-busy-"));
        var quiet = await host.CreateKeyAsync(AzuriteFixture.Unique("rl-quiet-"));

        await BatchIdOf(await host.PostAsync(busy, SecurityBodies.Sessions(("r1", "wx_rl"), ("r2", "wx_rl"), ("r3", "wx_rl"))));
        using var limited = await host.PostAsync(busy, SecurityBodies.Sessions(("r4", "wx_rl")));

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        // One event at 0.5 a second: about 2 s, rounded up to whole seconds.
        var retryAfter = int.Parse(Assert.Single(limited.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 2);
        using var body = JsonDocument.Parse(await limited.Content.ReadAsStringAsync());
        Assert.Equal("rate_limited", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(body.RootElement.GetProperty("error").GetProperty("message").GetString()));

        await BatchIdOf(await host.PostAsync(quiet, SecurityBodies.Sessions(("q1", "wx_rl"))));
    }
}
