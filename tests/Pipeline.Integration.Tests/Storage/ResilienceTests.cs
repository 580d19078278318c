using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using System.Text;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Pipeline.Core;
using Pipeline.Hosting.Endpoints.Http;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Integration.Tests.Security;
using Pipeline.Local.Emulator;
using Pipeline.Storage.Blobs;
using Pipeline.Storage.Queues;
using Pipeline.Storage.Resilience;
using Pipeline.Storage.Tables;
using Pipeline.Storage;
using Polly.CircuitBreaker;

namespace Pipeline.Integration.Tests.Storage;

/// <summary>
/// The resilience promises, from the adapters up to the HTTP answer: an unreachable account is
/// <see cref="StorageUnavailableException"/> at every adapter (a programming error is not); durable writes
/// time out, and the shared circuit opens after failures and then fails fast without touching storage, with
/// the remaining break as Retry-After (503 at the ingest endpoint); conflicting state updates are retried;
/// nothing else is retried on top of the Azure SDK's own transport retries.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ResilienceTests(AzuriteFixture azurite)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static LandingBatch Batch() => new()
    {
        BatchId = Guid.CreateVersion7().ToString(),
        Source = "s",
        KeyId = "k",
        ReceivedAt = DateTimeOffset.UtcNow,
        ReceivedCount = 1,
        RejectedCount = 0,
        Events = [TestEvents.PageView("e1")],
    };

    /// <summary>Storage options pointing at a port nothing listens on.</summary>
    [Fact]
    public async Task Every_adapter_reports_an_unreachable_account_as_StorageUnavailable()
    {
        var options = UnreachableStorage.Options();
        var blobs = options.CreateBlobServiceClient();
        var queues = options.CreateQueueServiceClient();
        var tables = options.CreateTableServiceClient();
        var day = new DateOnly(2026, 11, 23);

        var calls = new Func<Task>[]
        {
            () => new BlobLandingStore(blobs).WriteAsync(Batch(), None),
            () => new BlobLandingStore(blobs).ReadAsync("2026/11/23/x.json", None),
            () => new QueueProcessingQueue(queues).EnqueueAsync(new ProcessingMessage("b", "p"), None),
            () => new BlobEventStore(blobs).ReadAsync(day, 0, None),
            () => new BlobEventStore(blobs).CompactAsync(day, 0, None),
            () => new BlobExportStore(blobs).ReadDailyAsync(day, None),
            () => new BlobRollupStateStore(blobs, tables).LoadIdWindowAsync(0, None),
            () => new TableDirtyDayLedger(tables).ListAsync(None),
            () => new TableMetricsStore(tables).ReadDayAsync(day, None),
            () => new TableIngestKeyStore(tables).FindKeyAsync("k", None),
            () => new BlobRollupStateStore(blobs, tables).GetCursorAsync(None),
            () => new StorageProvisioner(blobs, queues, tables).EnsureCreatedAsync(None),
        };
        foreach (var call in calls)
        {
            var ex = await Assert.ThrowsAsync<StorageUnavailableException>(call);
            Assert.StartsWith("Storage is unavailable", ex.Message);
        }
    }

    [Fact]
    public async Task Programming_errors_are_not_reported_as_unavailability()
    {
        // A 4xx from a reachable account stays a RequestFailedException.
        var container = azurite.Blobs.GetBlobContainerClient(AzuriteFixture.Unique("missing"));
        var store = new BlobExportStore(azurite.Blobs);
        var ex = await Assert.ThrowsAsync<Azure.RequestFailedException>(() =>
            azurite.Tables.GetTableClient("NoSuchTable" + Guid.NewGuid().ToString("N")[..8]).AddEntityAsync(new Azure.Data.Tables.TableEntity("p", "r")));
        Assert.Equal(404, ex.Status);
        Assert.False((await container.ExistsAsync()).Value);
        Assert.NotNull(store);
    }

    [Fact]
    public async Task The_circuit_opens_after_failures_and_then_fails_fast_with_the_remaining_break_as_RetryAfter()
    {
        var options = UnreachableStorage.Options();
        var resilience = new DurableWriteResilience(new DurableWriteResilienceOptions
        {
            MinimumThroughput = 4,
            FailureRatio = 0.5,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = TimeSpan.FromSeconds(15),
        });
        var counting = new CountingLandingStore(new BlobLandingStore(options.CreateBlobServiceClient()));
        ILandingStore landing = new ResilientLandingStore(counting, resilience);
        IProcessingQueue queue = new ResilientProcessingQueue(new QueueProcessingQueue(options.CreateQueueServiceClient()), resilience);

        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<StorageUnavailableException>(() => landing.WriteAsync(Batch(), None));
            await Assert.ThrowsAsync<StorageUnavailableException>(() => queue.EnqueueAsync(new ProcessingMessage("b", "p"), None));
        }
        Assert.Equal(CircuitState.Open, resilience.StateProvider.CircuitState);
        var attempted = counting.Calls;

        var watch = Stopwatch.StartNew();
        var open = await Assert.ThrowsAsync<StorageUnavailableException>(() => landing.WriteAsync(Batch(), None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1));
        Assert.Equal(attempted, counting.Calls); // not attempted
        Assert.InRange(open.RetryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(15));
        Assert.IsType<BrokenCircuitException>(open.InnerException);
        // The queue shares the circuit.
        await Assert.ThrowsAsync<StorageUnavailableException>(() => queue.EnqueueAsync(new ProcessingMessage("b", "p"), None));
    }

    [Fact]
    public async Task A_durable_write_that_hangs_times_out_as_StorageUnavailable()
    {
        var resilience = new DurableWriteResilience(new DurableWriteResilienceOptions { Timeout = TimeSpan.FromMilliseconds(200) });
        var landing = new ResilientLandingStore(new HangingLandingStore(), resilience);

        var watch = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<StorageUnavailableException>(() => landing.WriteAsync(Batch(), None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Contains("timed out", ex.Message);
    }

    [Fact]
    public async Task Durable_writes_pass_through_when_storage_is_up()
    {
        var resilience = new DurableWriteResilience();
        var landing = new ResilientLandingStore(new BlobLandingStore(azurite.Blobs), resilience);
        var batch = Batch();
        var path = await landing.WriteAsync(batch, None);
        Assert.Equal(batch.BatchId, (await landing.ReadAsync(path, None))!.BatchId);
        Assert.Equal(CircuitState.Closed, resilience.StateProvider.CircuitState);
    }

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
        var handler = new IngestHandler(new IngestKeyCache(keys, TimeProvider.System), new ResilientLandingStore(landing, resilience),
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

    private sealed class HangingLandingStore : ILandingStore
    {
        public async Task<string> WriteAsync(LandingBatch batch, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return "";
        }

        public Task<LandingBatch?> ReadAsync(string path, CancellationToken cancellationToken) => Task.FromResult<LandingBatch?>(null);
    }
}
