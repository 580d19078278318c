using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage.Tables;

namespace Pipeline.Integration.Tests.Storage;

/// <summary>
/// The fan-in's cheap reads of table <c>RollupRuns</c>: a shard's own record, whether any shard is behind
/// a day (every shard has a record from the start of the run), and the last day finalised. Its own Azurite
/// (a class fixture): the run in flight is one per account, and these tests start runs.
/// </summary>
public sealed class RollupRunStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateOnly D1 = new(2026, 11, 22), D2 = new(2026, 11, 23);

    private static RollupRun NewRun(int shards) =>
        new(Guid.CreateVersion7().ToString("N"), D1, D2, shards, null, [], "test", DateTimeOffset.UtcNow);

    [Fact]
    public async Task Every_shard_is_behind_from_the_start_until_it_records_the_day()
    {
        var store = new TableRollupRunStore(azurite.Tables, TimeProvider.System);
        var run = NewRun(shards: 250); // three transactions of shard records
        Assert.True((await store.TryStartAsync(run, None)).Started);
        try
        {
            Assert.False(await store.AllShardsDoneAsync(run, D1, None));
            Assert.Null(await store.GetShardDoneAsync(run.RunId, 249, None));
            var progress = await store.GetProgressAsync(run, None);
            Assert.All(progress.ShardDone, Assert.Null);

            for (var shard = 0; shard < run.Shards; shard++)
                if (shard != 137) await store.MarkShardDoneAsync(run.RunId, shard, shard % 2 == 0 ? D2 : D1, 10, None);
            Assert.False(await store.AllShardsDoneAsync(run, D1, None)); // shard 137 has not started
            await store.MarkShardDoneAsync(run.RunId, 137, D1, 10, None);
            Assert.True(await store.AllShardsDoneAsync(run, D1, None));
            Assert.False(await store.AllShardsDoneAsync(run, D2, None)); // the odd shards are at D1

            Assert.Equal(D1, await store.GetShardDoneAsync(run.RunId, 137, None));
            Assert.Equal(D2, await store.GetShardDoneAsync(run.RunId, 248, None));
            Assert.Equal(125, (await store.GetProgressAsync(run, None)).ShardsFinished);
        }
        finally
        {
            await store.CompleteAsync(run.RunId, None);
        }
    }

    [Fact]
    public async Task The_last_day_finalised_is_read_from_its_pointer()
    {
        var store = new TableRollupRunStore(azurite.Tables, TimeProvider.System);
        var run = NewRun(shards: 2);
        Assert.True((await store.TryStartAsync(run, None)).Started);
        try
        {
            Assert.Null(await store.GetFinalisedThroughAsync(run.RunId, None));
            Assert.True(await store.TryMarkFinalisedAsync(run.RunId, new DayOutcome(D1, 5, 10, DateTimeOffset.UtcNow), None));
            Assert.Equal(D1, await store.GetFinalisedThroughAsync(run.RunId, None));
            Assert.False(await store.TryMarkFinalisedAsync(run.RunId, new DayOutcome(D1, 5, 10, DateTimeOffset.UtcNow), None));
            Assert.Equal(D1, (await store.GetProgressAsync(run, None)).FinalisedThrough);
        }
        finally
        {
            await store.CompleteAsync(run.RunId, None);
        }
    }

    [Fact]
    public async Task A_run_that_does_not_start_leaves_the_run_in_flight_alone()
    {
        var store = new TableRollupRunStore(azurite.Tables, TimeProvider.System);
        var first = NewRun(shards: 3);
        Assert.True((await store.TryStartAsync(first, None)).Started);
        try
        {
            await store.MarkShardDoneAsync(first.RunId, 1, D1, 10, None);
            var second = NewRun(shards: 3);
            var (started, active) = await store.TryStartAsync(second, None);

            Assert.False(started);
            Assert.Equal(first.RunId, active.RunId);
            Assert.Equal(D1, await store.GetShardDoneAsync(first.RunId, 1, None));
            Assert.Null(await store.GetShardDoneAsync(second.RunId, 1, None)); // no record for a run that did not start
        }
        finally
        {
            await store.CompleteAsync(first.RunId, None);
        }
    }

    [Fact]
    public async Task Asking_whether_every_shard_is_done_transfers_at_most_one_shard_record()
    {
        var counter = new EntityCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerCall);
        var store = new TableRollupRunStore(new TableServiceClient(azurite.ConnectionString, options), TimeProvider.System);
        var run = NewRun(shards: 300);
        Assert.True((await store.TryStartAsync(run, None)).Started);
        try
        {
            counter.Entities = 0;
            Assert.False(await store.AllShardsDoneAsync(run, D1, None)); // all 300 are behind
            Assert.Equal(1, counter.Entities);

            for (var shard = 0; shard < run.Shards; shard++) await store.MarkShardDoneAsync(run.RunId, shard, D1, 1, None);
            counter.Entities = 0;
            Assert.True(await store.AllShardsDoneAsync(run, D1, None));
            Assert.Equal(0, counter.Entities);

            // The whole progress, for comparison, is every shard's record.
            await store.GetProgressAsync(run, None);
            Assert.True(counter.Entities >= run.Shards);
        }
        finally
        {
            await store.CompleteAsync(run.RunId, None);
        }
    }

    /// <summary>Counts the entities in the table service's query responses (their <c>value</c> arrays).</summary>
    private sealed class EntityCounter : HttpPipelinePolicy
    {
        public int Entities;

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ProcessNext(message, pipeline);
            Count(message);
        }

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            Count(message);
        }

        private void Count(HttpMessage message)
        {
            if (message.Request.Method != RequestMethod.Get || message.Response.Content is not { } content || content.ToMemory().IsEmpty) return;
            using var json = JsonDocument.Parse(content.ToMemory());
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Array)
                Interlocked.Add(ref Entities, value.GetArrayLength());
        }
    }
}
