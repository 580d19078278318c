using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Local.Hosting;
using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Processing;
using Pipeline.Core.Rollup;
using Pipeline.Core.Time;
using Pipeline.Local.Emulator;

namespace Pipeline.Integration.Tests.EndToEnd;

/// <summary>
/// The whole flow on real storage: HTTP (and the inbound queue) → landing blob and claim check →
/// processing → event store → rollup → DailyMetrics, ProgramDailyMetrics and the CSV export.
/// Each test has its own Azurite, because the rollup's state and cursor are per account.
/// </summary>
public sealed class PipelineFlowTests : IAsyncLifetime
{
    private AzuriteRunner _azurite = null!;

    public async Task InitializeAsync() => _azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions(), CancellationToken.None);

    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    [Fact]
    public async Task Events_posted_over_http_reach_the_tables_and_the_csv_export()
    {
        await using var host = await PipelineHost.StartAsync(_azurite.ConnectionString);
        var data = new Dataset(TimeProvider.System);
        var key = await host.CreateKeyAsync("e2e-flow");

        var response = await host.PostAsync(key, data.Body());
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        using (var json = JsonDocument.Parse(body))
        {
            Assert.Equal(Dataset.EventsOnDay + Dataset.EventsOnDayBefore, json.RootElement.GetProperty("accepted").GetInt32());
            Assert.Equal(0, json.RootElement.GetProperty("rejected").GetArrayLength());
        }

        await host.WaitForProcessingAsync();
        await host.Get<IServiceProvider>().RunRollupDueAsync(CancellationToken.None);

        var daily = new StoredMetrics(_azurite.ConnectionString);
        var day = data.Day.ToString("yyyy-MM-dd");
        Assert.Equal(Dataset.ExpectedDau, await daily.ValueAsync(day, "users.dau|total|"));
        Assert.Equal(Dataset.ExpectedNewUsers, await daily.ValueAsync(day, "users.new|total|"));
        Assert.Equal(Dataset.ExpectedEngagedUsers, await daily.ValueAsync(day, "northstar.engaged_users|total|"));
        Assert.Equal(1, await daily.ValueAsync(day, "users.retention_d1|total|"));
        Assert.Equal(1, await daily.ValueAsync(day, "businesses.orders|total|"));
        Assert.Equal(Dataset.ExpectedGmvCny, await daily.ValueAsync(day, "businesses.gmv|currency|CNY"));
        Assert.Equal(Dataset.ExpectedLoadP95, await daily.ValueAsync(day, "developers.load_time_p95_ms|total|"));
        Assert.Equal(1, await daily.ValueAsync(day, "users.dau|channel|qr"));
        Assert.Equal(1, await daily.ValueAsync(day, "users.dau|channel|share"));
        Assert.Equal(2, await daily.ValueAsync(day, "users.dau|platform|ios"));
        var share = (await daily.DayAsync(day))["users.channel_share|channel|recent"].Row;
        Assert.Equal(1.0, share.Numerator);
        Assert.Equal(3.0, share.Denominator);

        // One mini-program's history is one partition of ProgramDailyMetrics.
        var dau = (await daily.ProgramDayAsync(data.MiniProgram, day))[$"users.dau|miniProgram|{data.MiniProgram}"].Row;
        Assert.Equal(3.0, dau.Value);
        Assert.Equal("users", dau.Stakeholder);

        var csv = Encoding.UTF8.GetString((await new BlobContainerClient(_azurite.ConnectionString, "exports").GetBlobClient($"daily/{day}.csv").DownloadContentAsync()).Value.Content.ToArray());
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal("date,stakeholder,tier,metric,dimension,dimension_value,value,numerator,denominator,unit", lines[0]);
        Assert.Contains(lines, l => l.StartsWith($"{day},users,core,users.dau,total,,3,", StringComparison.Ordinal));

        // The query endpoint serves the same rows.
        var reader = await host.CreateReadKeyAsync("e2e-analyst");
        var query = await (await host.GetAsync(reader, $"/api/v1/metrics?date={day}&metric=users.dau&dimension=total")).Content.ReadAsStringAsync();
        using var rows = JsonDocument.Parse(query);
        Assert.Equal(3, rows.RootElement.GetProperty("rows")[0].GetProperty("value").GetDouble());
    }

    [Fact]
    public async Task A_claim_check_delivered_twice_and_a_batch_sent_twice_count_once()
    {
        await using var host = await PipelineHost.StartAsync(_azurite.ConnectionString);
        var data = new Dataset(TimeProvider.System);
        var key = await host.CreateKeyAsync("e2e-twice");

        // The client retries the whole batch (same eventIds).
        Assert.Equal(HttpStatusCode.Accepted, (await host.PostAsync(key, data.Body())).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await host.PostAsync(key, data.Body())).StatusCode);
        await host.WaitForProcessingAsync();

        // And every claim-check message is delivered once more.
        var landing = new BlobContainerClient(_azurite.ConnectionString, "landing");
        var queue = host.Get<IProcessingQueue>();
        await foreach (var blob in landing.GetBlobsAsync())
            await queue.EnqueueAsync(new ProcessingMessage(Path.GetFileNameWithoutExtension(blob.Name), blob.Name), CancellationToken.None);
        await host.WaitForProcessingAsync();

        // The store holds each batch once (a redelivered message rewrites its own segments); the two batches'
        // copies of each event id are both stored, in the user's shard, and the rollup counts the first one.
        Assert.Equal(2 * Dataset.EventsOnDay, (await StoredCopiesAsync(host, data.Day)).Count);
        Assert.Equal(Dataset.EventsOnDay, await CountStoredAsync(host, data.Day));
        await host.Get<IServiceProvider>().RunRollupDueAsync(CancellationToken.None);
        var daily = new StoredMetrics(_azurite.ConnectionString);
        var day = data.Day.ToString("yyyy-MM-dd");
        Assert.Equal(Dataset.ExpectedDau, await daily.ValueAsync(day, "users.dau|total|"));
        Assert.Equal(1, await daily.ValueAsync(day, "users.page_views|total|"));
        Assert.Equal(1, await daily.ValueAsync(day, "users.shares|total|"));
        Assert.Equal(1, await daily.ValueAsync(day, "businesses.orders|total|"));
        Assert.Equal(Dataset.ExpectedGmvCny, await daily.ValueAsync(day, "businesses.gmv|currency|CNY"));
    }

    [Fact]
    public async Task A_runner_killed_in_the_middle_of_a_batch_loses_and_doubles_nothing()
    {
        var data = new Dataset(TimeProvider.System);
        await using (var first = await PipelineHost.StartAsync(_azurite.ConnectionString, background: false))
        {
            var key = await first.CreateKeyAsync("e2e-restart");
            Assert.Equal(HttpStatusCode.Accepted, (await first.PostAsync(key, data.Body())).StatusCode);

            // Process the message the way the listener would, but die after the first segment is written.
            var landing = new BlobContainerClient(_azurite.ConnectionString, "landing");
            var blob = await landing.GetBlobsAsync().FirstAsync();
            var dying = new ProcessHandler(first.Get<ILandingStore>(), new DiesAfterOneWrite(first.Get<IEventStore>()),
                first.Get<IDirtyDayLedger>(), first.Get<ReportingCalendar>(), first.Get<PipelineOptions>(), TimeProvider.System, first.Get<IProcessedBatchLedger>());
            await Assert.ThrowsAsync<ProcessKilled>(() => dying.HandleAsync(new ProcessingMessage(Path.GetFileNameWithoutExtension(blob.Name), blob.Name), CancellationToken.None));
            Assert.InRange(await CountStoredAsync(first, data.Day) + await CountStoredAsync(first, data.Day.AddDays(-1)), 1, Dataset.EventsOnDay + Dataset.EventsOnDayBefore - 1);
        }

        // A new runner picks the message up from the queue (it was never completed) and finishes the batch.
        await using var second = await PipelineHost.StartAsync(_azurite.ConnectionString);
        await second.WaitForProcessingAsync();
        Assert.Equal(Dataset.EventsOnDay, await CountStoredAsync(second, data.Day));
        Assert.Equal(Dataset.EventsOnDayBefore, await CountStoredAsync(second, data.Day.AddDays(-1)));
        await second.Get<IServiceProvider>().RunRollupDueAsync(CancellationToken.None);
        Assert.Equal(Dataset.ExpectedDau, await new StoredMetrics(_azurite.ConnectionString).ValueAsync(data.Day.ToString("yyyy-MM-dd"), "users.dau|total|"));
    }

    [Fact]
    public async Task A_trusted_back_end_batch_on_the_inbound_queue_is_ingested()
    {
        await using var host = await PipelineHost.StartAsync(_azurite.ConnectionString);
        var data = new Dataset(TimeProvider.System);
        await host.CreateKeyAsync("payments");

        var inbound = new QueueClient(_azurite.ConnectionString, "events-inbound", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await inbound.SendMessageAsync($$"""{"source":"payments","batch":{{data.Body("p")}}}""");
        await host.WaitForProcessingAsync();

        Assert.Equal(Dataset.EventsOnDay, await CountStoredAsync(host, data.Day));
    }

    /// <summary>
    /// Distinct events (source, eventId) stored for a day: the store keeps every copy a client sent in another
    /// batch (the rollup drops the repeats in the user's shard), and each batch once however often it is processed.
    /// </summary>
    internal static async Task<int> CountStoredAsync(PipelineHost host, DateOnly day) =>
        (await StoredCopiesAsync(host, day)).Distinct().Count();

    /// <summary>Every copy stored for a day, as (source, eventId).</summary>
    internal static async Task<List<(string? Source, string EventId)>> StoredCopiesAsync(PipelineHost host, DateOnly day)
    {
        var store = host.Get<IEventStore>();
        var shards = host.Get<PipelineOptions>().EventStoreShards;
        var copies = new List<(string?, string)>();
        for (var shard = 0; shard < shards; shard++)
            copies.AddRange((await store.ReadAsync(day, shard, CancellationToken.None)).Select(e => (e.Source, e.EventId)));
        return copies;
    }

    private sealed class ProcessKilled() : Exception("simulated kill");

    /// <summary>
    /// Writes one segment for real, then "dies", as a process killed half-way would. Processing writes a
    /// batch's segments at once: the others die only after the first has landed.
    /// </summary>
    private sealed class DiesAfterOneWrite(IEventStore inner) : IEventStore
    {
        private int _writes;
        private readonly TaskCompletionSource _firstWritten = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task WriteAsync(EventSegment segment, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _writes) > 1)
            {
                await _firstWritten.Task;
                throw new ProcessKilled();
            }
            await inner.WriteAsync(segment, cancellationToken);
            _firstWritten.SetResult();
        }

        public Task<IReadOnlyList<PipelineEvent>> ReadAsync(DateOnly day, int shard, CancellationToken cancellationToken) => inner.ReadAsync(day, shard, cancellationToken);
    }
}
