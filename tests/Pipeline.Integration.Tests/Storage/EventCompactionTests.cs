using System.Collections.Concurrent;
using System.Reflection;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Parquet;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;
using Xunit.Abstractions;

namespace Pipeline.Integration.Tests.Storage;

/// <summary>
/// Compaction of the event store against Azurite: every test checks the events read back as a
/// multiset (each event's every field), before and after, so a segment lost or counted twice fails.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class EventCompactionTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int Shard = 5;
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Compaction_folds_every_segment_into_one_file_and_reads_back_the_same_events()
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var segments = await WriteSegmentsAsync(store, day, "a", 30);
        var before = await store.ReadAsync(day, Shard, None);
        AssertSameEvents(segments.SelectMany(s => s.Events), before);

        var result = await store.CompactAsync(day, Shard, None);

        Assert.Equal(new CompactionResult(day, Shard, 1, 30, before.Count, before.Count, 30), result);
        Assert.Equal([$"{day:yyyy-MM-dd}/{Shard:D3}.evc"], await ListAsync(StorageNames.EventsContainer, $"{day:yyyy-MM-dd}/"));
        AssertSameEvents(before, await store.ReadAsync(day, Shard, None));

        // The encoded blocks are the same events too (the compacted file's blocks).
        var blocks = await store.ReadBlocksAsync(day, Shard, None);
        AssertSameEvents(before, blocks.SelectMany(b => EventBlockCodec.Decode(b.Span)));

        // Compacting again changes nothing.
        Assert.Equal(new CompactionResult(day, Shard, 1, 0, 0, before.Count, 0), await store.CompactAsync(day, Shard, None));
        AssertSameEvents(before, await store.ReadAsync(day, Shard, None));

        // Other shards and days are untouched.
        Assert.Empty(await store.ReadAsync(day, Shard + 1, None));
        Assert.Equal(CompactionResult.Nothing(day.AddDays(1), Shard), await store.CompactAsync(day.AddDays(1), Shard, None));
    }

    [Fact]
    public async Task Compacted_events_keep_their_batch_source_and_receipt_time_and_their_positions_across_folds()
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var received = new DateTimeOffset(2026, 11, 23, 1, 2, 3, 456, TimeSpan.Zero);
        PipelineEvent E(string id) => new() { EventId = id, Type = EventType.PageView, TimeMs = 1, UserKey = "u", MiniProgramId = "wx" };
        await store.WriteAsync(new EventSegment(day, Shard, "b1", "payments", [E("x1"), E("x2")], received), None);
        await store.CompactAsync(day, Shard, None);
        var first = (await store.ReadCompactedBlocksAsync(day, Shard, None)).SelectMany(b => EventBlockCodec.Decode(b.Span)).ToList();

        // A later batch is folded after the first one's events, which keep their positions.
        await store.WriteAsync(new EventSegment(day, Shard, "b0", "ads", [E("y1")], received.AddSeconds(1)), None);
        Assert.Equal(2, (await store.ReadCompactedBlocksAsync(day, Shard, None)).Sum(b => EventBlockCodec.Decode(b.Span).Count)); // not folded yet: not read
        await store.CompactAsync(day, Shard, None);
        var second = (await store.ReadCompactedBlocksAsync(day, Shard, None)).SelectMany(b => EventBlockCodec.Decode(b.Span)).ToList();

        Assert.Equal(["x1", "x2"], first.Select(e => e.EventId));
        Assert.Equal(["x1", "x2", "y1"], second.Select(e => e.EventId));
        Assert.Equal(["payments", "payments", "ads"], second.Select(e => e.Source));
        Assert.Equal([received.ToUnixTimeMilliseconds(), received.ToUnixTimeMilliseconds(), received.AddSeconds(1).ToUnixTimeMilliseconds()], second.Select(e => e.ReceivedMs!.Value));
        Assert.Equal(["payments", "payments", "ads"], (await ReadExportAsync(day, 2)).Select(e => e.Source));
    }

    [Fact]
    public async Task A_fold_writes_the_compacted_file_only_and_the_next_compaction_finishes_it()
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var segments = await WriteSegmentsAsync(store, day, "f", 5);
        var all = segments.SelectMany(s => s.Events).ToList();

        var fold = await store.FoldAsync(day, Shard, None);

        Assert.Equal(new CompactionResult(day, Shard, 1, 5, all.Count, all.Count, 0, FinishPending: true), fold);
        Assert.Equal(6, (await ListAsync(StorageNames.EventsContainer, $"{day:yyyy-MM-dd}/")).Count); // 5 segments beside the file
        Assert.Empty(await ListAsync(StorageNames.ExportsContainer, $"events/date={day:yyyy-MM-dd}/"));
        AssertSameEvents(all, await store.ReadAsync(day, Shard, None)); // folded segments are not read twice
        AssertSameEvents(all, (await store.ReadCompactedBlocksAsync(day, Shard, None)).SelectMany(b => EventBlockCodec.Decode(b.Span)));

        // Folding again finds nothing new, but the work is still pending.
        Assert.True((await store.FoldAsync(day, Shard, None)).FinishPending);

        var finish = await store.CompactAsync(day, Shard, None);
        Assert.Equal(new CompactionResult(day, Shard, 1, 0, 0, all.Count, 5), finish);
        Assert.Equal([$"{day:yyyy-MM-dd}/{Shard:D3}.evc"], await ListAsync(StorageNames.EventsContainer, $"{day:yyyy-MM-dd}/"));
        AssertSameEvents(all, await ReadExportAsync(day, 1));
        Assert.False((await store.FoldAsync(day, Shard, None)).FinishPending);
    }

    [Fact]
    public async Task A_late_segment_is_read_beside_the_compacted_file_and_folded_by_the_next_compaction()
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var first = await WriteSegmentsAsync(store, day, "a", 10);
        await store.CompactAsync(day, Shard, None);

        var late = await WriteSegmentsAsync(store, day, "b", 2);
        var all = first.Concat(late).SelectMany(s => s.Events).ToList();
        AssertSameEvents(all, await store.ReadAsync(day, Shard, None));
        Assert.Equal(2, (await ListAsync(StorageNames.EventsContainer, $"{day:yyyy-MM-dd}/{Shard:D3}/")).Count);

        var result = await store.CompactAsync(day, Shard, None);

        Assert.Equal(2, result.Generation);
        Assert.Equal(2, result.SegmentsFolded);
        Assert.Equal(late.Sum(s => s.Events.Count), result.EventsFolded);
        Assert.Equal(all.Count, result.EventsCompacted);
        Assert.Empty(await ListAsync(StorageNames.EventsContainer, $"{day:yyyy-MM-dd}/{Shard:D3}/"));
        AssertSameEvents(all, await store.ReadAsync(day, Shard, None));
    }

    [Fact]
    public async Task A_redelivered_segment_rewritten_after_it_was_folded_and_deleted_is_not_counted_twice()
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var segments = await WriteSegmentsAsync(store, day, "a", 8);
        var all = segments.SelectMany(s => s.Events).ToList();
        await store.CompactAsync(day, Shard, None);

        // Processing redelivers batch a-003: its segment is written again, under the same name.
        await store.WriteAsync(segments[3], None);
        Assert.Equal([$"{day:yyyy-MM-dd}/{Shard:D3}/{segments[3].BatchId}.evb"], await ListAsync(StorageNames.EventsContainer, $"{day:yyyy-MM-dd}/{Shard:D3}/"));
        AssertSameEvents(all, await store.ReadAsync(day, Shard, None));
        AssertSameEvents(all, (await store.ReadBlocksAsync(day, Shard, None)).SelectMany(b => EventBlockCodec.Decode(b.Span)));

        // The next compaction folds nothing and deletes the stale copy.
        Assert.Equal(new CompactionResult(day, Shard, 1, 0, 0, all.Count, 1), await store.CompactAsync(day, Shard, None));
        Assert.Empty(await ListAsync(StorageNames.EventsContainer, $"{day:yyyy-MM-dd}/{Shard:D3}/"));
        AssertSameEvents(all, await store.ReadAsync(day, Shard, None));
    }

    [Theory]
    [InlineData("listed")]
    [InlineData("compacted-read")]
    [InlineData("segments-downloaded")]
    [InlineData("compacted-written")]
    [InlineData("exported")]
    public async Task A_compaction_that_dies_after_any_step_leaves_a_store_that_reads_the_same_and_compacts_cleanly(string step)
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var first = await WriteSegmentsAsync(store, day, "a", 6);
        await store.CompactAsync(day, Shard, None);
        var late = await WriteSegmentsAsync(store, day, "b", 4);
        var all = first.Concat(late).SelectMany(s => s.Events).ToList();

        var dying = new BlobEventStore(azurite.Blobs) { AfterStep = s => s == step ? throw new HostKilled(step) : Task.CompletedTask };
        await Assert.ThrowsAsync<HostKilled>(() => dying.CompactAsync(day, Shard, None));

        var segmentsLeft = await ListAsync(StorageNames.EventsContainer, $"{day:yyyy-MM-dd}/{Shard:D3}/");
        Assert.Equal(4, segmentsLeft.Count); // nothing deleted yet, whichever step it died after
        AssertSameEvents(all, await store.ReadAsync(day, Shard, None));

        var again = await store.CompactAsync(day, Shard, None);
        var writtenBeforeDeath = step is "compacted-written" or "exported";
        Assert.Equal(2, again.Generation);
        Assert.Equal(writtenBeforeDeath ? 0 : 4, again.SegmentsFolded);
        Assert.Equal(4, again.SegmentsDeleted);
        Assert.Empty(await ListAsync(StorageNames.EventsContainer, $"{day:yyyy-MM-dd}/{Shard:D3}/"));
        AssertSameEvents(all, await store.ReadAsync(day, Shard, None));
        AssertSameEvents(all, await ReadExportAsync(day, generation: 2));
    }

    [Fact]
    public async Task A_segment_rewritten_between_the_compacted_write_and_the_deletes_is_counted_once()
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var segments = await WriteSegmentsAsync(store, day, "a", 5);
        var racing = new BlobEventStore(azurite.Blobs)
        {
            AfterStep = async s => { if (s == "compacted-written") await store.WriteAsync(segments[2], None); },
        };

        await racing.CompactAsync(day, Shard, None);

        AssertSameEvents(segments.SelectMany(s => s.Events), await store.ReadAsync(day, Shard, None));
    }

    [Fact]
    public async Task Concurrent_compactions_writes_and_reads_lose_and_double_nothing()
    {
        var day = AzuriteFixture.UniqueDay();
        var writer = new BlobEventStore(azurite.Blobs);
        var early = await WriteSegmentsAsync(writer, day, "a", 40);
        var earlyIds = early.SelectMany(s => s.Events).Select(e => e.EventId).ToHashSet();

        // Four compactors that all list and download before any of them writes: three must lose the race.
        const int compactors = 4;
        var allDownloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        var attempts = 0;
        var stores = Enumerable.Range(0, compactors).Select(_ =>
        {
            var waited = 0;
            return new BlobEventStore(azurite.Blobs)
            {
                AfterStep = async s =>
                {
                    if (s == "listed") Interlocked.Increment(ref attempts);
                    if (s != "segments-downloaded" || Interlocked.Exchange(ref waited, 1) == 1) return;
                    if (Interlocked.Increment(ref arrived) == compactors) allDownloaded.SetResult();
                    await allDownloaded.Task.WaitAsync(TimeSpan.FromSeconds(30));
                },
            };
        }).ToList();

        var late = new ConcurrentBag<EventSegment>();
        var writing = Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                late.Add(await WriteSegmentAsync(writer, day, $"b-{i:D3}"));
                await Task.Delay(5);
            }
        });
        var reads = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 5; i++)
            {
                var events = await writer.ReadAsync(day, Shard, None);
                var ids = events.Select(e => e.EventId).ToList();
                Assert.Equal(ids.Count, ids.Distinct().Count()); // nothing doubled
                Assert.Subset(ids.ToHashSet(), earlyIds); // nothing written before the read lost
            }
        })).ToList();
        var results = await Task.WhenAll(stores.Select(s => s.CompactAsync(day, Shard, None)));
        await writing;
        await Task.WhenAll(reads);

        Assert.True(attempts > compactors, $"Only {attempts} compaction attempts: the race was not exercised.");

        var final = await writer.CompactAsync(day, Shard, None);
        var all = early.Concat(late).SelectMany(s => s.Events).ToList();
        // Each segment was folded by exactly one compaction (each generation is written by one of them).
        Assert.Equal(early.Count + late.Count, results.Sum(r => r.SegmentsFolded) + final.SegmentsFolded);
        Assert.Equal(all.Count, final.EventsCompacted);
        Assert.Empty(await ListAsync(StorageNames.EventsContainer, $"{day:yyyy-MM-dd}/{Shard:D3}/"));
        AssertSameEvents(all, await writer.ReadAsync(day, Shard, None));
        AssertSameEvents(all, await ReadExportAsync(day, final.Generation));
        output.WriteLine($"{attempts} compaction attempts by {compactors} compactors; generations {string.Join(", ", results.Select(r => r.Generation))}, final {final.Generation}");
    }

    [Theory]
    [InlineData("read-listed", 1)]
    [InlineData("read-compacted-read", 2)]
    public async Task A_read_overtaken_by_a_compaction_counts_every_event_once(string step, int expectedListings)
    {
        var day = AzuriteFixture.UniqueDay();
        var writer = new BlobEventStore(azurite.Blobs);
        var segments = await WriteSegmentsAsync(writer, day, "a", 10);

        // The reader stalls after the step while a compaction folds and deletes every segment it listed.
        // After the listing it then reads the new generation (which names them all); after reading the
        // old generation it finds the segments gone and starts again.
        var listings = 0;
        var compacted = false;
        var reader = new BlobEventStore(azurite.Blobs)
        {
            AfterStep = async s =>
            {
                if (s == "read-listed") listings++;
                if (s != step || compacted) return;
                compacted = true;
                Assert.Equal(10, (await writer.CompactAsync(day, Shard, None)).SegmentsDeleted);
            },
        };

        AssertSameEvents(segments.SelectMany(s => s.Events), await reader.ReadAsync(day, Shard, None));
        Assert.Equal(expectedListings, listings);
    }

    [Fact]
    public async Task A_slow_compaction_never_overwrites_a_newer_generation_written_meanwhile()
    {
        var day = AzuriteFixture.UniqueDay();
        var writer = new BlobEventStore(azurite.Blobs);
        var early = await WriteSegmentsAsync(writer, day, "a", 10);

        // The slow compactor lists and downloads a-*, then stalls; meanwhile b-000 arrives and a fast
        // compactor folds a-* and b-000 and deletes them. Written unconditionally, the slow one's
        // generation (without b-000) would replace the fast one's and b-000 would be lost.
        EventSegment? late = null;
        var slow = new BlobEventStore(azurite.Blobs)
        {
            AfterStep = async s =>
            {
                if (s != "segments-downloaded" || late is not null) return;
                late = await WriteSegmentAsync(writer, day, "b-000");
                var fast = await writer.CompactAsync(day, Shard, None);
                Assert.Equal((1L, 11), (fast.Generation, fast.SegmentsFolded));
            },
        };
        var result = await slow.CompactAsync(day, Shard, None);

        Assert.Equal(1, result.Generation); // it lost the race, started again and found nothing fresh
        Assert.Equal(0, result.SegmentsFolded);
        var all = early.Append(late!).SelectMany(s => s.Events).ToList();
        AssertSameEvents(all, await writer.ReadAsync(day, Shard, None));
        AssertSameEvents(all, await ReadExportAsync(day, generation: 1));
    }

    [Fact]
    public async Task The_Parquet_copy_round_trips_the_compacted_events_and_has_the_documented_schema()
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var segments = await WriteSegmentsAsync(store, day, "a", 12);
        var all = segments.SelectMany(s => s.Events).ToList();
        await store.CompactAsync(day, Shard, None);

        AssertSameEvents(all, await ReadExportAsync(day, generation: 1));

        // Read with Parquet.Net's own API, as any tool would: columns, types, nulls, key-value metadata.
        var blob = azurite.Blobs.GetBlobContainerClient(StorageNames.ExportsContainer).GetBlobClient($"events/date={day:yyyy-MM-dd}/shard={Shard:D3}.parquet");
        var properties = (await blob.GetPropertiesAsync()).Value;
        Assert.Equal(EventParquet.ContentType, properties.ContentType);
        Assert.Equal(all.Count.ToString(), properties.Metadata["eventCount"]);
        using var stream = new MemoryStream((await blob.DownloadContentAsync()).Value.Content.ToArray());
        await using var reader = await ParquetReader.CreateAsync(stream);
        Assert.Equal(
            ["event_id", "type", "custom_name", "time", "user_id", "mini_program_id", "session_id", "platform", "scene", "load_ms",
             "referrer_mini_program_id", "duration_ms", "page", "share_target", "order_id", "amount", "currency", "merchant_id",
             "ad_unit_id", "revenue", "error_kind", "message", "reason", "scope", "developer_id", "version", "category", "extra_props",
             "source", "received_at"],
            reader.Schema.GetDataFields().Select(f => f.Name));
        Assert.Equal($"{day:yyyy-MM-dd}", reader.CustomMetadata["pipeline.date"]);
        Assert.Equal(Shard.ToString(), reader.CustomMetadata["pipeline.shard"]);
        var fields = reader.Schema.GetDataFields().ToDictionary(f => f.Name);
        Assert.False(fields["event_id"].IsNullable);
        Assert.True(fields["user_id"].IsNullable);
        Assert.Equal(typeof(DateTime), fields["time"].ClrType);
        Assert.Equal(typeof(long), fields["amount"].ClrType);

        var group = reader.OpenRowGroupReader(0);
        var n = (int)group.RowCount;
        Assert.Equal(all.Count, n);
        var ids = new string?[n];
        var users = new string?[n];
        var types = new string?[n];
        var times = new DateTime[n];
        await group.ReadAsync(fields["event_id"], ids.AsMemory());
        await group.ReadAsync(fields["user_id"], users.AsMemory());
        await group.ReadAsync(fields["type"], types.AsMemory());
        await group.ReadAsync<DateTime>(fields["time"], times.AsMemory());
        var byId = all.ToDictionary(e => e.EventId);
        for (var i = 0; i < n; i++)
        {
            var e = byId[ids[i]!];
            Assert.Equal(e.UserKey, users[i]);
            Assert.Equal(WireNames.TypeName(e.Type, e.CustomName), types[i]);
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(e.TimeMs).UtcDateTime, times[i]);
        }
    }

    [Fact]
    public async Task A_read_costs_one_listing_and_one_download_per_segment_before_compaction_and_one_download_after()
    {
        var (blobs, counter) = RequestCounter.Client(azurite.ConnectionString);
        var store = new BlobEventStore(blobs);
        var day = AzuriteFixture.UniqueDay();
        const int segments = 50;
        await WriteSegmentsAsync(new BlobEventStore(azurite.Blobs), day, "a", segments);

        counter.Reset();
        await store.ReadAsync(day, Shard, None);
        var before = counter.Snapshot();

        await store.CompactAsync(day, Shard, None);
        counter.Reset();
        await store.ReadAsync(day, Shard, None);
        var after = counter.Snapshot();

        await WriteSegmentsAsync(new BlobEventStore(azurite.Blobs), day, "b", 2);
        counter.Reset();
        await store.ReadAsync(day, Shard, None);
        var withLate = counter.Snapshot();

        output.WriteLine($"before: {before}; after: {after}; after + 2 late segments: {withLate}");
        // Two listings: the shard's per-shard segments and the day's batch segments (none here).
        Assert.Equal((Lists: 2, Gets: segments + 1), before); // the compacted file's 404, then every segment
        Assert.Equal((Lists: 2, Gets: 1), after);
        Assert.Equal((Lists: 2, Gets: 3), withLate);
    }

    // ---- helpers ----

    private async Task<List<EventSegment>> WriteSegmentsAsync(BlobEventStore store, DateOnly day, string prefix, int count)
    {
        var segments = new List<EventSegment>();
        for (var i = 0; i < count; i++) segments.Add(await WriteSegmentAsync(store, day, $"{prefix}-{i:D3}"));
        return segments;
    }

    private static async Task<EventSegment> WriteSegmentAsync(BlobEventStore store, DateOnly day, string batchId)
    {
        var random = new Random(batchId.Aggregate(17, (h, c) => unchecked(h * 31 + c)));
        var events = Enumerable.Range(0, random.Next(1, 9)).Select(i => RandomEvent(random, $"{batchId}-{i}")).ToList();
        var segment = new EventSegment(day, Shard, batchId, "src", events);
        await store.WriteAsync(segment, None);
        return segment;
    }

    private async Task<List<string>> ListAsync(string container, string prefix)
    {
        var names = new List<string>();
        await foreach (var item in azurite.Blobs.GetBlobContainerClient(container).GetBlobsAsync(new GetBlobsOptions { Prefix = prefix })) names.Add(item.Name);
        return names;
    }

    private async Task<List<PipelineEvent>> ReadExportAsync(DateOnly day, long generation)
    {
        var blob = azurite.Blobs.GetBlobContainerClient(StorageNames.ExportsContainer).GetBlobClient($"events/date={day:yyyy-MM-dd}/shard={Shard:D3}.parquet");
        var download = (await blob.DownloadContentAsync()).Value;
        Assert.Equal(generation.ToString(), download.Details.Metadata["generation"]);
        using var stream = new MemoryStream(download.Content.ToArray());
        return (await EventParquet.ReadAsync(stream, None)).Events;
    }

    private static readonly PropertyInfo[] Properties = typeof(PipelineEvent).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    /// <summary>
    /// Every field of every event, compared as multisets; the segment's source and receipt time, which the store
    /// adds to events written without them, are compared only where the expected event has them.
    /// </summary>
    internal static void AssertSameEvents(IEnumerable<PipelineEvent> expected, IEnumerable<PipelineEvent> actual)
    {
        var expectedList = expected.ToList();
        var stampedBy = new HashSet<string>(expectedList.Where(e => e.Source is null).Select(e => e.EventId), StringComparer.Ordinal);
        List<string> Describe(IEnumerable<PipelineEvent> events) =>
            events.Select(e => string.Join("|", Properties
                    .Where(p => !(stampedBy.Contains(e.EventId) && p.Name is nameof(PipelineEvent.Source) or nameof(PipelineEvent.ReceivedMs)))
                    .Select(p => $"{p.Name}={p.GetValue(e)}")))
                .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Describe(expected), Describe(actual));
    }

    /// <summary>An event of any type with a random selection of its optional fields.</summary>
    internal static PipelineEvent RandomEvent(Random r, string id)
    {
        string? Maybe(params string[] pool) => r.Next(3) == 0 ? null : pool[r.Next(pool.Length)];
        long? MaybeLong() => r.Next(3) == 0 ? null : r.NextInt64(-1_000_000, 1_000_000_000);
        var type = (EventType)r.Next(1, 14);
        return new PipelineEvent
        {
            EventId = id,
            Type = type,
            CustomName = type == EventType.Custom ? Maybe("coupon_used", "quiz.done") : null,
            TimeMs = 4_102_444_800_000 + r.Next(86_400_000),
            UserKey = type == EventType.MiniProgramPublished ? null : Maybe("u_AbC-1", "u_xyz", "ü-用户", ""),
            MiniProgramId = Maybe("wx_a", "wx_shop") ?? "wx_b",
            SessionId = Maybe("s1", "s2"),
            Platform = (Platform)r.Next(0, 8),
            Scene = r.Next(3) == 0 ? null : r.Next(1000, 1200),
            LoadMs = MaybeLong(),
            ReferrerMiniProgramId = Maybe("wx_ref"),
            DurationMs = MaybeLong(),
            Page = Maybe("/pages/index", "/页面/详情?x=1"),
            ShareTarget = (ShareTarget)r.Next(0, 4),
            OrderId = r.Next(2) == 0 ? null : "o-" + id,
            Amount = MaybeLong(),
            Currency = Maybe("CNY", "USD"),
            MerchantId = Maybe("m-1"),
            AdUnitId = Maybe("adu-1"),
            Revenue = MaybeLong(),
            ErrorKind = (ErrorKind)r.Next(0, 5),
            Message = r.Next(3) == 0 ? null : $"boom {r.Next()} 例外",
            Reason = Maybe("spam"),
            Scope = Maybe("scope.userLocation"),
            DeveloperId = Maybe("dev-1"),
            Version = Maybe("1.2.3"),
            Category = Maybe("shopping"),
            ExtraProps = r.Next(2) == 0 ? null : $$"""{"k":{{r.Next()}}}""",
        };
    }

    private sealed class HostKilled(string step) : Exception($"killed after {step}");

    /// <summary>Counts blob listings and downloads (GET and HEAD of a blob, including 404s).</summary>
    internal sealed class RequestCounter : HttpPipelineSynchronousPolicy
    {
        private int _lists, _gets;

        /// <summary>A blob client whose every request this counter counts.</summary>
        public static (BlobServiceClient Blobs, RequestCounter Counter) Client(string connectionString)
        {
            var counter = new RequestCounter();
            var options = new BlobClientOptions();
            options.AddPolicy(counter, HttpPipelinePosition.PerCall);
            return (new BlobServiceClient(connectionString, options), counter);
        }

        public void Reset()
        {
            _lists = 0;
            _gets = 0;
        }

        public (int Lists, int Gets) Snapshot() => (_lists, _gets);

        public override void OnSendingRequest(HttpMessage message)
        {
            var request = message.Request;
            if (request.Method != RequestMethod.Get && request.Method != RequestMethod.Head) return;
            if (request.Uri.Query.Contains("comp=list", StringComparison.Ordinal)) Interlocked.Increment(ref _lists);
            else Interlocked.Increment(ref _gets);
        }
    }
}
