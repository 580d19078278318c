using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Hosting.Endpoints.Http;
using Pipeline.Core;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Integration.Tests.Security;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;
using Pipeline.Local.Emulator;
using Pipeline.Storage.Queues;
using Pipeline.Storage.Resilience;
using Pipeline.Storage.Tables;
using Polly.CircuitBreaker;

namespace Pipeline.Integration.Tests.Storage;

/// <summary>
/// The resilience promises end to end: a storage outage is answered 503 with Retry-After, and once the
/// circuit is open at once without touching storage; conflicting state updates are retried; nothing
/// else is retried on top of the Azure SDK's own transport retries.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ResilienceGuaranteesTests(AzuriteFixture azurite)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_storage_outage_is_503_with_Retry_After_and_once_the_circuit_opens_fails_fast_without_calling_storage()
    {
        // Keys are readable (Azurite); the landing account is down.
        var keys = new TableIngestKeyStore(azurite.Tables);
        var source = new SourceRegistration(AzuriteFixture.Unique("outage-"), true, [], DateTimeOffset.UtcNow);
        await keys.SaveSourceAsync(source, None);
        var (apiKey, record) = IngestKeys.Create(source.Name, DateTimeOffset.UtcNow);
        await keys.SaveKeyAsync(record, None);

        var down = UnreachableStorage.Options();
        var resilience = new DurableWriteResilience(new DurableWriteResilienceOptions { MinimumThroughput = 3, FailureRatio = 0.5, BreakDuration = TimeSpan.FromSeconds(20) });
        var landing = new CountingLandingStore(new BlobLandingStore(down.CreateBlobServiceClient()));
        var handler = new IngestHandler(keys, new ResilientLandingStore(landing, resilience),
            new ResilientProcessingQueue(new QueueProcessingQueue(down.CreateQueueServiceClient()), resilience),
            new BlobRejectedEventStore(azurite.Blobs), new TableIngestReceiptLedger(azurite.Tables),
            new PipelineOptions { PseudonymisationKey = "resilience-tests-pseudonymisation-key-0123456789" }, TimeProvider.System);
        var endpoint = new IngestEndpoint(handler, NullLogger<IngestEndpoint>.Instance);

        async Task<HttpReply> Post()
        {
            var context = new DefaultHttpContext();
            context.Request.Headers["X-Api-Key"] = apiKey;
            context.Request.ContentType = "application/json";
            context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(SecurityBodies.Sessions((Guid.NewGuid().ToString("N"), "wx_outage"))));
            return await endpoint.HandleAsync(context.Request, None);
        }

        for (var i = 0; i < 3; i++)
        {
            var failed = await Post();
            Assert.Equal(503, failed.Status);
            Assert.Contains("\"code\":\"storage_unavailable\"", Encoding.UTF8.GetString(failed.Body.Span));
            Assert.True(int.Parse(failed.Headers["Retry-After"], System.Globalization.CultureInfo.InvariantCulture) >= 1);
        }
        Assert.Equal(CircuitState.Open, resilience.StateProvider.CircuitState);
        var attempts = landing.Calls;
        Assert.Equal(3, attempts); // one call per request: no retry layer over the SDK's own

        var watch = Stopwatch.StartNew();
        var fast = await Post();
        watch.Stop();
        Assert.Equal(503, fast.Status);
        Assert.Equal(attempts, landing.Calls); // not attempted
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
        Assert.InRange(int.Parse(fast.Headers["Retry-After"], System.Globalization.CultureInfo.InvariantCulture), 1, 20);
    }

    [Theory]
    [InlineData(412)]
    [InlineData(409)]
    public async Task A_state_update_that_loses_a_race_is_retried(int status)
    {
        var attempts = 0;
        await OptimisticConcurrency.CreatePipeline().ExecuteAsync(_ =>
        {
            if (++attempts < 3) throw new RequestFailedException(status, "condition not met");
            return ValueTask.CompletedTask;
        }, None);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task Conflict_retries_give_up_after_their_budget()
    {
        var attempts = 0;
        var ex = await Assert.ThrowsAsync<RequestFailedException>(async () => await OptimisticConcurrency.CreatePipeline(maxAttempts: 2).ExecuteAsync(_ =>
        {
            attempts++;
            throw new RequestFailedException(412, "condition not met");
        }, None));
        Assert.Equal((412, 3), (ex.Status, attempts));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(404)]
    [InlineData(0)]
    public async Task Transport_and_other_failures_are_not_retried_a_second_time(int status)
    {
        // The SDK already retried these (PipelineStorageOptions.MaxRetries); a second layer would multiply the attempts.
        var attempts = 0;
        await Assert.ThrowsAsync<RequestFailedException>(async () => await OptimisticConcurrency.CreatePipeline().ExecuteAsync(_ =>
        {
            attempts++;
            throw new RequestFailedException(status, "failed");
        }, None));
        Assert.Equal(1, attempts);
    }

    private sealed class CountingLandingStore(ILandingStore inner) : ILandingStore
    {
        private int _calls;
        public int Calls => Volatile.Read(ref _calls);

        public Task<string> WriteAsync(LandingBatch batch, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return inner.WriteAsync(batch, cancellationToken);
        }

        public Task<LandingBatch?> ReadAsync(string path, CancellationToken cancellationToken) => inner.ReadAsync(path, cancellationToken);
    }
}
