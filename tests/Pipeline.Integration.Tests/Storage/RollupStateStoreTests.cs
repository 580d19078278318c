using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage.Blobs;

namespace Pipeline.Integration.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class RollupStateStoreTests(AzuriteFixture azurite)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_shards_window_is_written_only_over_the_version_that_was_read()
    {
        var store = new BlobRollupStateStore(azurite.Blobs, azurite.Tables);
        var shard = Random.Shared.Next(100, 999); // the state container is shared by the collection
        var first = EventIdWindowCodec.Encode(EventIdWindow.Of([new(EventIdHash.Of("s", "a"), 1, 0, 1)]));
        var second = EventIdWindowCodec.Encode(EventIdWindow.Of([new(EventIdHash.Of("s", "b"), 2, 0, 2)]));

        Assert.Equal((null, null), await store.LoadIdWindowAsync(shard, None));
        var v1 = await store.SaveIdWindowAsync(shard, first, expectedVersion: null, None);
        // A second invocation that also read "nothing" loses.
        await Assert.ThrowsAsync<RollupConflictException>(() => store.SaveIdWindowAsync(shard, second, expectedVersion: null, None));

        var (bytes, version) = await store.LoadIdWindowAsync(shard, None);
        Assert.Equal(first, bytes);
        Assert.Equal(v1, version);
        var v2 = await store.SaveIdWindowAsync(shard, second, v1, None);
        // One that read v1 before v2 was written loses too.
        await Assert.ThrowsAsync<RollupConflictException>(() => store.SaveIdWindowAsync(shard, first, v1, None));
        var (latest, latestVersion) = await store.LoadIdWindowAsync(shard, None);
        Assert.Equal(second, latest);
        Assert.Equal(v2, latestVersion);
    }

    [Fact]
    public async Task A_days_duplicates_round_trip()
    {
        var store = new BlobRollupStateStore(azurite.Blobs, azurite.Tables);
        var day = new DateOnly(1900, 1, 1).AddDays(Random.Shared.Next(0, 50_000));

        Assert.Null(await store.LoadDuplicatesAsync(day, 3, None));
        await store.SaveDuplicatesAsync(day, 3, DuplicateCopies.Of([4, 1]).Encode(), None);
        var saved = await store.LoadDuplicatesAsync(day, 3, None);
        Assert.Equal([1L, 4], DuplicateCopies.Decode(saved!).Positions.ToArray());
    }
}
