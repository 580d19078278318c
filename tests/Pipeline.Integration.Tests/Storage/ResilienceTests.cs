using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;
using Pipeline.Local.Emulator;
using Pipeline.Storage.Queues;
using Pipeline.Storage.Resilience;
using Pipeline.Storage.Tables;
using Polly.CircuitBreaker;

namespace Pipeline.Integration.Tests.Storage;

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
