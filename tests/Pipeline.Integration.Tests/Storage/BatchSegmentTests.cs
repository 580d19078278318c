using System.Collections.Concurrent;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;
using Xunit.Abstractions;
using static Pipeline.Integration.Tests.Storage.EventCompactionTests;

namespace Pipeline.Integration.Tests.Storage;

/// <summary>
/// Batch segments against Azurite: processing's one object per (day, batch) holding every shard's block. Each
/// test compares every shard's events read back (each field, as multisets) with what was written, so a block
/// lost, read by the wrong shard or counted twice fails.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class BatchSegmentTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int Shards = 4;
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_batch_is_one_blob_per_day_whose_metadata_indexes_its_shards_and_each_shard_reads_only_its_events()
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var batch = await WriteBatchAsync(store, day, "a-000", shards: [0, 2, 3]);

        var names = await ListAsync($"{day:yyyy-MM-dd}/");
        Assert.Equal([$"{day:yyyy-MM-dd}/batches/a-000.evs"], names);
        var blob = azurite.Blobs.GetBlobContainerClient(StorageNames.EventsContainer).GetBlobClient(names[0]);
        var properties = (await blob.GetPropertiesAsync()).Value;
        Assert.Equal(batch.Sum(s => s.Events.Count).ToString(), properties.Metadata["eventCount"]);
        var index = EventBatchFile.ParseIndex(properties.Metadata["shards"])!;
        Assert.Equal([0, 2, 3], index.Select(s => s.Shard));
        Assert.Equal(EventBatchFile.ReadIndex((await blob.DownloadContentAsync()).Value.Content.ToArray()), index);

        foreach (var segment in batch) AssertSameEvents(segment.Events, await store.ReadAsync(day, segment.Shard, None));
        Assert.Empty(await store.ReadAsync(day, 1, None));
        Assert.Equal(["src"], (await store.ReadAsync(day, 2, None)).Select(e => e.Source).Distinct());
    }

    [Fact]
    public async Task The_segments_of_one_batch_file_must_share_day_batch_and_source()
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        PipelineEvent E(string id) => new() { EventId = id, Type = EventType.PageView, TimeMs = 1, UserKey = "u", MiniProgramId = "wx" };

        var mixed = await Assert.ThrowsAsync<ArgumentException>(() => store.WriteBatchAsync(
            [new EventSegment(day, 0, "b", "src", [E("1")]), new EventSegment(day.AddDays(1), 1, "b", "src", [E("2")])], None));
        Assert.Contains("share day, batch, source", mixed.Message);
        Assert.Contains("strictly ascending", (await Assert.ThrowsAsync<ArgumentException>(() => store.WriteBatchAsync(
            [new EventSegment(day, 1, "b", "src", [E("1")]), new EventSegment(day, 1, "b", "src", [E("2")])], None))).Message);
        Assert.Empty(await ListAsync($"{day:yyyy-MM-dd}/"));
    }

    [Fact]
    public async Task A_shards_fold_reads_its_block_of_each_batch_and_leaves_the_batches_to_the_day_compaction()
    {
        var (store, counter, day, batches) = await CountedBatchesAsync(10);
        // Batches 0, 3, 6 and 9 hold no events of shard 1.
        var shard1 = batches.SelectMany(b => b).Where(s => s.Shard == 1).ToList();

        counter.Reset();
        var fold = await store.FoldAsync(day, 1, None);
        var cost = counter.Snapshot();

        Assert.Equal(new CompactionResult(day, 1, 1, shard1.Count, shard1.Sum(s => s.Events.Count), shard1.Sum(s => s.Events.Count), 0, FinishPending: true), fold);
        output.WriteLine($"fold of shard 1: {cost}");
        Assert.Equal((Lists: 2, Gets: 1 + shard1.Count), cost); // the compacted file's 404, then one ranged read per batch holding shard 1
        Assert.Equal(10, (await ListAsync($"{day:yyyy-MM-dd}/batches/")).Count);
        AssertSameEvents(shard1.SelectMany(s => s.Events), (await store.ReadCompactedBlocksAsync(day, 1, None)).SelectMany(b => EventBlockCodec.Decode(b.Span)));
        for (var shard = 0; shard < Shards; shard++)
            AssertSameEvents(EventsOf(batches, shard), await store.ReadAsync(day, shard, None));
    }

    [Fact]
    public async Task Fold_and_read_returns_the_compacted_events_with_one_download_of_the_file_whether_or_not_there_was_anything_to_fold()
    {
        var (store, counter, day, batches) = await CountedBatchesAsync(10);
        var shard1 = batches.SelectMany(b => b).Where(s => s.Shard == 1).ToList();

        // Batches pending: the fold's own result, its blocks from the file it wrote (no download of it after).
        counter.Reset();
        var (fold, blocks) = await store.FoldAndReadAsync(day, 1, None);
        Assert.Equal((Lists: 2, Gets: 1 + shard1.Count), counter.Snapshot());
        Assert.Equal(new CompactionResult(day, 1, 1, shard1.Count, shard1.Sum(s => s.Events.Count), shard1.Sum(s => s.Events.Count), 0, FinishPending: true), fold);
        AssertSameEvents(shard1.SelectMany(s => s.Events), blocks.SelectMany(b => EventBlockCodec.Decode(b.Span)));

        // Nothing left to fold (the day compaction deleted the batches): the file read once, as it is.
        await store.CompactDayAsync(day, Shards, None);
        counter.Reset();
        var (again, same) = await store.FoldAndReadAsync(day, 1, None);
        Assert.Equal((Lists: 2, Gets: 1), counter.Snapshot());
        Assert.Equal(0, again.SegmentsFolded);
        Assert.False(again.FinishPending);
        Assert.Equal((await store.ReadCompactedBlocksAsync(day, 1, None)).Select(b => b.ToArray()), same.Select(b => b.ToArray()));
        AssertSameEvents(shard1.SelectMany(s => s.Events), same.SelectMany(b => EventBlockCodec.Decode(b.Span)));

        // A (day, shard) without events: no file, no blocks.
        var (none, empty) = await store.FoldAndReadAsync(AzuriteFixture.UniqueDay(), 1, None);
        Assert.Equal(0, none.Generation);
        Assert.Empty(empty);
    }

    [Fact]
    public async Task A_day_compaction_reads_each_batch_once_folds_every_shard_and_deletes_the_batches()
    {
        var (store, counter, day, batches) = await CountedBatchesAsync(12);

        counter.Reset();
        var result = await store.CompactDayAsync(day, Shards, None);
        var cost = counter.Snapshot();

        output.WriteLine($"day compaction: {cost}");
        Assert.Equal(12, result.BatchSegmentsDeleted);
        Assert.Equal(batches.Sum(b => b.Count), result.SegmentsFolded);
        Assert.Equal(batches.Sum(b => b.Sum(s => s.Events.Count)), result.EventsFolded);
        Assert.Equal(Enumerable.Range(0, Shards), result.Shards.Select(s => s.Shard));
        // One listing of the batches, one of each shard's per-shard segments; per shard its compacted file (404) and its
        // Parquet copy's properties (404); and each batch read once for all the shards.
        Assert.Equal((Lists: 1 + Shards, Gets: (2 * Shards) + 12), cost);
        Assert.Empty(await ListAsync($"{day:yyyy-MM-dd}/batches/"));
        for (var shard = 0; shard < Shards; shard++)
        {
            AssertSameEvents(EventsOf(batches, shard), await store.ReadAsync(day, shard, None));
            AssertSameEvents(EventsOf(batches, shard), await ReadExportAsync(day, shard));
        }

        // Nothing left: a second compaction changes nothing.
        var again = await store.CompactDayAsync(day, Shards, None);
        Assert.Equal((0, 0L, 0), (again.SegmentsFolded, again.EventsFolded, again.BatchSegmentsDeleted));
    }

    [Theory]
    [InlineData("day-listed")]
    [InlineData("listed")]
    [InlineData("compacted-read")]
    [InlineData("segments-downloaded")]
    [InlineData("compacted-written")]
    [InlineData("exported")]
    [InlineData("deleted")]
    [InlineData("day-compacted")]
    public async Task A_day_compaction_killed_after_any_step_loses_and_doubles_nothing_and_the_next_one_finishes(string step)
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var first = await WriteBatchesAsync(store, day, "a", 6);
        await store.CompactDayAsync(day, Shards, None);
        var late = await WriteBatchesAsync(store, day, "b", 5);
        var all = first.Concat(late).ToList();

        var killed = 0;
        var dying = new BlobEventStore(azurite.Blobs)
        {
            GroupBytes = 1, // one group per shard: the kill lands between groups too
            // Steps of one shard's compaction die at the second shard's; the day's own steps at once.
            AfterStep = s => s == step && Interlocked.Increment(ref killed) == (step is "day-listed" or "day-compacted" ? 1 : 2)
                ? throw new HostKilledException(step) : Task.CompletedTask,
        };
        await Assert.ThrowsAsync<HostKilledException>(() => dying.CompactDayAsync(day, Shards, None));

        Assert.Equal(5, (await ListAsync($"{day:yyyy-MM-dd}/batches/")).Count); // no batch is deleted before every shard folded it
        for (var shard = 0; shard < Shards; shard++) AssertSameEvents(EventsOf(all, shard), await store.ReadAsync(day, shard, None));

        var again = await store.CompactDayAsync(day, Shards, None);
        Assert.Equal(5, again.BatchSegmentsDeleted);
        Assert.Empty(await ListAsync($"{day:yyyy-MM-dd}/batches/"));
        for (var shard = 0; shard < Shards; shard++)
        {
            AssertSameEvents(EventsOf(all, shard), await store.ReadAsync(day, shard, None));
            AssertSameEvents(EventsOf(all, shard), await ReadExportAsync(day, shard));
        }
    }

    [Fact]
    public async Task A_batch_rewritten_after_it_was_folded_and_deleted_is_not_counted_again_and_is_deleted_next_time()
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var batches = await WriteBatchesAsync(store, day, "a", 5);
        await store.CompactDayAsync(day, Shards, None);

        await store.WriteBatchAsync(batches[2], None); // processing redelivers batch a-002

        for (var shard = 0; shard < Shards; shard++) AssertSameEvents(EventsOf(batches, shard), await store.ReadAsync(day, shard, None));
        var again = await store.CompactDayAsync(day, Shards, None);
        Assert.Equal((0, 1), (again.SegmentsFolded, again.BatchSegmentsDeleted));
        for (var shard = 0; shard < Shards; shard++) AssertSameEvents(EventsOf(batches, shard), await store.ReadAsync(day, shard, None));
    }

    [Fact]
    public async Task A_batch_stored_both_per_shard_and_as_a_batch_segment_is_counted_once()
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var batch = await WriteBatchAsync(store, day, "x", shards: [0, 1, 2, 3]);
        foreach (var segment in batch) await store.WriteAsync(segment, None); // the same batch as an earlier build wrote it

        for (var shard = 0; shard < Shards; shard++) AssertSameEvents(batch[shard].Events, await store.ReadAsync(day, shard, None));
        var result = await store.CompactDayAsync(day, Shards, None);

        Assert.Equal(Shards, result.SegmentsFolded);
        Assert.Equal(Shards, result.Shards.Sum(s => s.SegmentsDeleted));
        Assert.Equal(1, result.BatchSegmentsDeleted);
        Assert.Equal([.. Enumerable.Range(0, Shards).Select(s => $"{day:yyyy-MM-dd}/{s:D3}.evc")], await ListAsync($"{day:yyyy-MM-dd}/"));
        for (var shard = 0; shard < Shards; shard++) AssertSameEvents(batch[shard].Events, await store.ReadAsync(day, shard, None));
    }

    [Fact]
    public async Task Without_the_index_in_its_metadata_a_batch_is_read_through_its_own_header()
    {
        var writer = new BlobEventStore(azurite.Blobs) { MaxIndexMetadata = 0 };
        var day = AzuriteFixture.UniqueDay();
        var batches = await WriteBatchesAsync(writer, day, "h", 4);
        var blob = azurite.Blobs.GetBlobContainerClient(StorageNames.EventsContainer).GetBlobClient($"{day:yyyy-MM-dd}/batches/h-000.evs");
        Assert.False((await blob.GetPropertiesAsync()).Value.Metadata.ContainsKey("shards"));

        var store = new BlobEventStore(azurite.Blobs);
        for (var shard = 0; shard < Shards; shard++) AssertSameEvents(EventsOf(batches, shard), await store.ReadAsync(day, shard, None));
        Assert.Equal(4, (await store.CompactDayAsync(day, Shards, None)).BatchSegmentsDeleted);
        for (var shard = 0; shard < Shards; shard++) AssertSameEvents(EventsOf(batches, shard), await store.ReadAsync(day, shard, None));
    }

    [Fact]
    public async Task Day_compactions_folds_writes_and_reads_at_once_lose_and_double_nothing()
    {
        var day = AzuriteFixture.UniqueDay();
        var writer = new BlobEventStore(azurite.Blobs);
        var early = await WriteBatchesAsync(writer, day, "a", 20);

        var late = new ConcurrentBag<IReadOnlyList<EventSegment>>();
        var writing = Task.Run(async () =>
        {
            for (var i = 0; i < 15; i++)
            {
                late.Add(await WriteBatchAsync(writer, day, $"b-{i:D3}", ShardsOf(i)));
                await Task.Delay(5);
            }
        });
        // Two day compactions (one in a group per shard), and every shard folded as the rollup does, all at once.
        var compactions = new[]
        {
            writer.CompactDayAsync(day, Shards, None),
            new BlobEventStore(azurite.Blobs) { GroupBytes = 1 }.CompactDayAsync(day, Shards, None),
        };
        var folds = Enumerable.Range(0, Shards).Select(shard => writer.FoldAsync(day, shard, None)).ToList();
        var reads = Enumerable.Range(0, Shards).Select(shard => Task.Run(async () =>
        {
            var expected = EventsOf(early, shard).Select(e => e.EventId).ToHashSet();
            for (var i = 0; i < 4; i++)
            {
                var ids = (await writer.ReadAsync(day, shard, None)).Select(e => e.EventId).ToList();
                Assert.Equal(ids.Count, ids.Distinct().Count()); // nothing doubled
                Assert.Subset(ids.ToHashSet(), expected); // nothing written before the read lost
            }
        })).ToList();
        await Task.WhenAll(compactions);
        await Task.WhenAll(folds);
        await writing;
        await Task.WhenAll(reads);

        var final = await writer.CompactDayAsync(day, Shards, None);
        var all = early.Concat(late).ToList();
        Assert.Equal(all.Sum(b => b.Count), compactions.Sum(c => c.Result.SegmentsFolded) + folds.Sum(f => f.Result.SegmentsFolded) + final.SegmentsFolded);
        Assert.Empty(await ListAsync($"{day:yyyy-MM-dd}/batches/"));
        for (var shard = 0; shard < Shards; shard++)
        {
            AssertSameEvents(EventsOf(all, shard), await writer.ReadAsync(day, shard, None));
            AssertSameEvents(EventsOf(all, shard), await ReadExportAsync(day, shard));
        }
    }

    // ---- helpers ----

    /// <summary>The shards batch <paramref name="i"/> holds events of: all but one, a different one each time (batch 0 misses shard 1).</summary>
    private static int[] ShardsOf(int i) => [.. Enumerable.Range(0, Shards).Where(s => s != (i + 1) % 3)];

    /// <summary>A store whose blob requests are counted, and <paramref name="count"/> batches written on a day of their own.</summary>
    private async Task<(BlobEventStore Store, RequestCounter Counter, DateOnly Day, List<IReadOnlyList<EventSegment>> Batches)> CountedBatchesAsync(int count)
    {
        var (blobs, counter) = RequestCounter.Client(azurite.ConnectionString);
        var store = new BlobEventStore(blobs);
        var day = AzuriteFixture.UniqueDay();
        return (store, counter, day, await WriteBatchesAsync(store, day, "a", count));
    }

    private static async Task<List<IReadOnlyList<EventSegment>>> WriteBatchesAsync(BlobEventStore store, DateOnly day, string prefix, int count)
    {
        var batches = new List<IReadOnlyList<EventSegment>>();
        for (var i = 0; i < count; i++) batches.Add(await WriteBatchAsync(store, day, $"{prefix}-{i:D3}", ShardsOf(i)));
        return batches;
    }

    private static async Task<IReadOnlyList<EventSegment>> WriteBatchAsync(BlobEventStore store, DateOnly day, string batchId, int[] shards)
    {
        var random = new Random(batchId.Aggregate(17, (h, c) => unchecked((h * 31) + c)));
        var received = new DateTimeOffset(2026, 11, 23, 1, 2, 3, TimeSpan.Zero).AddSeconds(random.Next(1000));
        var segments = shards.Select(shard => new EventSegment(day, shard, batchId, "src",
            Enumerable.Range(0, random.Next(1, 9)).Select(i => RandomEvent(random, $"{batchId}-{shard}-{i}")).ToList(), received)).ToList();
        await store.WriteBatchAsync(segments, None);
        return segments;
    }

    private static List<PipelineEvent> EventsOf(IEnumerable<IReadOnlyList<EventSegment>> batches, int shard) =>
        batches.SelectMany(b => b).Where(s => s.Shard == shard).SelectMany(s => s.Events).ToList();

    private async Task<List<string>> ListAsync(string prefix)
    {
        var names = new List<string>();
        await foreach (var item in azurite.Blobs.GetBlobContainerClient(StorageNames.EventsContainer).GetBlobsAsync(new GetBlobsOptions { Prefix = prefix })) names.Add(item.Name);
        return names;
    }

    private async Task<List<PipelineEvent>> ReadExportAsync(DateOnly day, int shard)
    {
        var blob = azurite.Blobs.GetBlobContainerClient(StorageNames.ExportsContainer).GetBlobClient($"events/date={day:yyyy-MM-dd}/shard={shard:D3}.parquet");
        using var stream = new MemoryStream((await blob.DownloadContentAsync()).Value.Content.ToArray());
        return (await EventParquet.ReadAsync(stream, None)).Events;
    }

    private sealed class HostKilledException(string step) : Exception($"killed after {step}");
}
