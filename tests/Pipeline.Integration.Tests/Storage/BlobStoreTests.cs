using System.Text.Json;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;

namespace Pipeline.Integration.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class BlobStoreTests(AzuriteFixture azurite)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Landing_batch_round_trips_with_path_by_UTC_date_and_audit_metadata()
    {
        var store = new BlobLandingStore(azurite.Blobs);
        var batch = new LandingBatch
        {
            BatchId = Guid.CreateVersion7().ToString(),
            Source = AzuriteFixture.Unique("src"),
            KeyId = "k1",
            // 23:30 at UTC+8 on the 24th is the 23rd in UTC.
            ReceivedAt = new DateTimeOffset(2026, 11, 24, 7, 30, 0, TimeSpan.FromHours(8)),
            SentAt = new DateTimeOffset(2026, 11, 23, 23, 29, 0, TimeSpan.Zero),
            ReceivedCount = 3,
            RejectedCount = 1,
            Events = [TestEvents.PageView("e1"), TestEvents.OrderPaid("e2")],
        };

        var path = await store.WriteAsync(batch, None);
        Assert.Equal($"2026/11/23/{batch.BatchId}.json", path);
        Assert.Equal(path, await store.WriteAsync(batch, None)); // idempotent overwrite

        var read = await store.ReadAsync(path, None);
        Assert.NotNull(read);
        Assert.Equal(batch.BatchId, read.BatchId);
        Assert.Equal(batch.Source, read.Source);
        Assert.Equal(batch.ReceivedAt, read.ReceivedAt);
        Assert.Equal(batch.SentAt, read.SentAt);
        Assert.Equal(3, read.ReceivedCount);
        Assert.Equal(1, read.RejectedCount);
        Assert.Equal(2, read.Events.Count);
        Assert.Equal(EventType.OrderPaid, read.Events[1].Type);
        Assert.Equal("""{"coupon":"X1"}""", read.Events[1].ExtraProps);
        Assert.Equal(9_900, read.Events[1].Amount);
        Assert.Null(read.Events[0].OrderId);
        Assert.NotNull(await store.ReadAsync("landing/" + path, None));

        var blob = azurite.Blobs.GetBlobContainerClient(StorageNames.LandingContainer).GetBlobClient(path);
        var properties = (await blob.GetPropertiesAsync()).Value;
        Assert.Equal(batch.Source, properties.Metadata["source"]);
        Assert.Equal("k1", properties.Metadata["keyId"]);
        Assert.Equal("2", properties.Metadata["eventCount"]);

        // camelCase, enums by name, nulls omitted.
        var json = (await blob.DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains("\"batchId\"", json);
        Assert.Contains("\"PageView\"", json);
        Assert.DoesNotContain("null", json);
    }

    [Fact]
    public async Task Landing_blob_is_byte_for_byte_the_serializers_json_for_a_batch_larger_than_the_pooled_buffer()
    {
        // Written through a pooled buffer (64 KiB to start, grown as needed): the bytes must equal
        // JsonSerializer.SerializeToUtf8Bytes, which processing and earlier landing blobs rely on.
        var events = Enumerable.Range(0, 1000).Select(i => i % 2 == 0 ? TestEvents.PageView($"e{i}") : TestEvents.OrderPaid($"e{i}")).ToList();
        var batch = new LandingBatch
        {
            BatchId = Guid.CreateVersion7().ToString(),
            Source = AzuriteFixture.Unique("src"),
            KeyId = "k1",
            ReceivedAt = new DateTimeOffset(2026, 11, 24, 7, 30, 0, TimeSpan.Zero),
            ReceivedCount = 1000,
            RejectedCount = 0,
            Events = events,
        };
        var expected = JsonSerializer.SerializeToUtf8Bytes(batch, StorageJsonContext.Default.LandingBatch);
        Assert.True(expected.Length > 64 * 1024);

        var path = await new BlobLandingStore(azurite.Blobs).WriteAsync(batch, None);

        var blob = azurite.Blobs.GetBlobContainerClient(StorageNames.LandingContainer).GetBlobClient(path);
        Assert.Equal(expected, (await blob.DownloadContentAsync()).Value.Content.ToArray());
    }

    [Fact]
    public async Task Missing_landing_blob_reads_as_null()
    {
        Assert.Null(await new BlobLandingStore(azurite.Blobs).ReadAsync("1999/01/01/none.json", None));
    }

    [Fact]
    public async Task Rejected_batch_is_written_under_the_UTC_day()
    {
        var store = new BlobRejectedEventStore(azurite.Blobs);
        var batch = new RejectedBatch
        {
            BatchId = Guid.CreateVersion7().ToString(),
            Source = "s",
            KeyId = "k",
            ReceivedAt = new DateTimeOffset(2026, 11, 24, 1, 0, 0, TimeSpan.FromHours(8)),
            Status = 202,
            ReceivedCount = 2,
            Rejections = [new Rejection(1, "e2", RejectionCodes.InvalidField, "amount must be an integer")],
            Events = ["""{"eventId":"e2"}"""],
        };

        await store.WriteAsync(batch, None);

        var blob = azurite.Blobs.GetBlobContainerClient(StorageNames.RejectedContainer).GetBlobClient($"2026-11-23/{batch.BatchId}.json");
        Assert.True((await blob.ExistsAsync()).Value);
        var read = await store.ReadAsync(batch.BatchId, batch.ReceivedAt, None);
        Assert.NotNull(read);
        Assert.Equal("amount must be an integer", Assert.Single(read.Rejections).Message);
        Assert.Equal("""{"eventId":"e2"}""", Assert.Single(read.Events));
    }

    [Fact]
    public async Task Event_segments_are_idempotent_and_read_across_batches_of_one_shard()
    {
        var store = new BlobEventStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        var a = new EventSegment(day, 7, "batch-a", "src", [TestEvents.PageView("a1"), TestEvents.PageView("a2")]);
        var b = new EventSegment(day, 7, "batch-b", "src", [TestEvents.OrderPaid("b1")]);
        var otherShard = new EventSegment(day, 8, "batch-a", "src", [TestEvents.PageView("x1")]);

        await store.WriteAsync(a, None);
        await store.WriteAsync(a, None); // a redelivery
        await store.WriteAsync(b, None);
        await store.WriteAsync(otherShard, None);

        var events = await store.ReadAsync(day, 7, None);
        Assert.Equal(["a1", "a2", "b1"], events.Select(e => e.EventId).Order());
        Assert.Equal(9_900, events.Single(e => e.EventId == "b1").Amount);

        var container = azurite.Blobs.GetBlobContainerClient(StorageNames.EventsContainer);
        var names = new List<string>();
        await foreach (var item in container.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = $"{day:yyyy-MM-dd}/007/" })) names.Add(item.Name);
        Assert.Equal([$"{day:yyyy-MM-dd}/007/batch-a.evb", $"{day:yyyy-MM-dd}/007/batch-b.evb"], names);

        Assert.Empty(await store.ReadAsync(day, 9, None));
    }

    [Fact]
    public async Task Export_round_trips_as_utf8_csv()
    {
        var store = new BlobExportStore(azurite.Blobs);
        var day = AzuriteFixture.UniqueDay();
        Assert.Null(await store.ReadDailyAsync(day, None));

        var csv = "date,metric\n2100-01-01,dau\n"u8.ToArray();
        await store.WriteDailyAsync(day, csv, None);
        await store.WriteDailyAsync(day, csv, None);

        Assert.Equal(csv, await store.ReadDailyAsync(day, None));
        Assert.Equal($"exports/daily/{day:yyyy-MM-dd}.csv", store.DescribeDaily(day));
        var properties = (await azurite.Blobs.GetBlobContainerClient("exports").GetBlobClient($"daily/{day:yyyy-MM-dd}.csv").GetPropertiesAsync()).Value;
        Assert.Equal("text/csv; charset=utf-8", properties.ContentType);
    }

    [Fact]
    public async Task Rollup_state_and_cursor_round_trip()
    {
        var store = new BlobRollupStateStore(azurite.Blobs, azurite.Tables);
        var day = AzuriteFixture.UniqueDay();
        Assert.Null(await store.LoadLedgerPartAsync(day, "orders-003", None));
        Assert.Null(await store.LoadShardStateAsync(day, 3, None));
        Assert.Null(await store.LoadPartialAsync(day, 3, None));
        await store.SaveLedgerPartAsync(day, "orders-003", new byte[] { 1, 2, 3 }, None);
        await store.SaveShardStateAsync(day, 3, new byte[] { 4, 5 }, None);
        await store.SavePartialAsync(day, 3, new byte[] { 6 }, None);
        Assert.Equal(new byte[] { 1, 2, 3 }, await store.LoadLedgerPartAsync(day, "orders-003", None));
        Assert.Null(await store.LoadLedgerPartAsync(day, "registry", None));
        Assert.Equal(new byte[] { 4, 5 }, await store.LoadShardStateAsync(day, 3, None));
        Assert.Equal(new byte[] { 6 }, await store.LoadPartialAsync(day, 3, None));
        Assert.Null(await store.LoadShardStateAsync(day, 2, None)); // per shard, not per day

        var first = new Pipeline.Core.Rollup.RollupCursor(day, day.AddDays(1));
        await store.SetCursorAsync(first, None);
        Assert.Equal(first, await store.GetCursorAsync(None));

        // Concurrent writers: every write lands (conflicts are retried), the last one read back is one of them.
        var cursors = Enumerable.Range(0, 8).Select(i => new Pipeline.Core.Rollup.RollupCursor(day, day.AddDays(i))).ToList();
        await Task.WhenAll(cursors.Select(c => store.SetCursorAsync(c, None)));
        Assert.Contains(await store.GetCursorAsync(None), cursors);
    }
}
