using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Tables;

namespace Pipeline.Integration.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class TableStoreTests(AzuriteFixture azurite)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Ingest_receipts_sum_by_day_and_a_rerecorded_batch_counts_once()
    {
        var ledger = new TableIngestReceiptLedger(azurite.Tables);
        // A day no other test uses: the tables are shared by the collection.
        var day = new DateOnly(1900, 1, 1).AddDays(Random.Shared.Next(0, 50_000));
        Assert.Equal(new IngestTotals(0, 0), await ledger.TotalsAsync(day, None));

        await ledger.RecordAsync(new IngestReceipt("b1", "src", Now, 10, 2), day, None);
        await ledger.RecordAsync(new IngestReceipt("b2", "src", Now, 5, 5), day, None);
        await ledger.RecordAsync(new IngestReceipt("b1", "src", Now, 10, 2), day, None); // a retried write of the same request
        await ledger.RecordAsync(new IngestReceipt("b3", "src", Now, 7, 1), day.AddDays(1), None);

        Assert.Equal(new IngestTotals(15, 7), await ledger.TotalsAsync(day, None));
        Assert.Equal(new IngestTotals(7, 1), await ledger.TotalsAsync(day.AddDays(1), None));
    }

    [Fact]
    public async Task Dirty_day_clear_fails_when_it_was_marked_again()
    {
        var ledger = new TableDirtyDayLedger(azurite.Tables);
        var d1 = AzuriteFixture.UniqueDay();
        var d2 = AzuriteFixture.UniqueDay();

        await ledger.MarkAsync([d2, d1, d1], None);
        var listed = (await ledger.ListAsync(None)).Where(d => d.Day == d1 || d.Day == d2).ToList();
        Assert.Equal([d1, d2], listed.Select(d => d.Day));

        await Task.Delay(20); // ETags carry a timestamp
        await ledger.MarkAsync([d1], None); // late events while d1 was being rolled up
        var stale = listed[0];
        Assert.False(await ledger.ClearAsync(stale, None));
        Assert.Contains(await ledger.ListAsync(None), d => d.Day == d1);

        var current = (await ledger.ListAsync(None)).Single(d => d.Day == d1);
        Assert.NotEqual(stale.Version, current.Version);
        Assert.True(await ledger.ClearAsync(current, None));
        Assert.True(await ledger.ClearAsync(listed[1], None));
        Assert.False(await ledger.ClearAsync(current, None)); // already gone
        Assert.DoesNotContain(await ledger.ListAsync(None), d => d.Day == d1 || d.Day == d2);
    }

    [Fact]
    public async Task Folded_day_marks_are_apart_from_dirty_marks()
    {
        var dirty = new TableDirtyDayLedger(azurite.Tables);
        var folded = new TableFoldedDayLedger(azurite.Tables);
        var day = AzuriteFixture.UniqueDay();

        await folded.MarkAsync([day], None);

        Assert.DoesNotContain(await dirty.ListAsync(None), d => d.Day == day);
        var mark = Assert.Single(await folded.ListAsync(None), d => d.Day == day);
        Assert.True(await folded.ClearAsync(mark, None));
        Assert.DoesNotContain(await folded.ListAsync(None), d => d.Day == day);
    }

    [Fact]
    public async Task Ingest_keys_and_sources_round_trip()
    {
        var store = new TableIngestKeyStore(azurite.Tables);
        var source = new SourceRegistration(AzuriteFixture.Unique("src"), false, ["wx_a", "wx_b"], Now);
        var keyId = AzuriteFixture.Unique("key");
        var key = new IngestKeyRecord(keyId, source.Name, [1, 2, 3, 250], Now, null);

        Assert.Null(await store.FindSourceAsync(source.Name, None));
        Assert.Null(await store.FindKeyAsync(keyId, None));
        Assert.Null(await store.FindKeyAsync("bad/key?", None));

        await store.SaveSourceAsync(source, None);
        await store.SaveKeyAsync(key, None);

        var readSource = await store.FindSourceAsync(source.Name, None);
        Assert.NotNull(readSource);
        Assert.Equal(["wx_a", "wx_b"], readSource.MiniProgramIds);
        Assert.False(readSource.AllMiniPrograms);
        Assert.Equal(Now, readSource.CreatedAt);
        Assert.True(readSource.Allows("wx_b"));

        var readKey = await store.FindKeyAsync(keyId, None);
        Assert.NotNull(readKey);
        Assert.Equal(key.SecretHash, readKey.SecretHash);
        Assert.Equal(source.Name, readKey.Source);
        Assert.Null(readKey.RevokedAt);

        await store.SaveKeyAsync(key with { RevokedAt = Now.AddHours(1) }, None);
        Assert.Equal(Now.AddHours(1), (await store.FindKeyAsync(keyId, None))!.RevokedAt);
        Assert.Contains(await store.ListKeysAsync(None), k => k.KeyId == keyId && k.RevokedAt is not null);

        var stored = (await azurite.Tables.GetTableClient(StorageNames.IngestKeysTable).GetEntityAsync<TableEntity>("key", keyId)).Value;
        Assert.Equal(Convert.ToBase64String(key.SecretHash), stored.GetString("SecretHash"));
        var all = new SourceRegistration(AzuriteFixture.Unique("src"), true, [], Now);
        await store.SaveSourceAsync(all, None);
        Assert.Empty((await store.FindSourceAsync(all.Name, None))!.MiniProgramIds);
    }
}
