using Pipeline.Core.Ingest;

namespace Pipeline.Core.Tests.Query;

public sealed class ApiKeyKindTests
{
    [Fact]
    public void Read_and_ingest_keys_are_told_apart_by_prefix_and_parse_only_as_their_kind()
    {
        var now = DateTimeOffset.UnixEpoch;
        var (read, readRecord) = IngestKeys.Create("dev-acme", now, ApiKeyKind.Read);
        var (ingest, _) = IngestKeys.Create("sdk", now);

        Assert.StartsWith("mrk_", read);
        Assert.StartsWith("mpk_", ingest);
        Assert.Equal(ApiKeyKind.Read, readRecord.Kind);
        Assert.Equal(ApiKeyKind.Read, IngestKeys.KindOf(read));
        Assert.Equal(ApiKeyKind.Ingest, IngestKeys.KindOf(ingest));
        Assert.Null(IngestKeys.KindOf("Bearer x"));

        Assert.False(IngestKeys.TryParse(read, out _, out _));                     // not an ingest key
        Assert.True(IngestKeys.TryParse(read, ApiKeyKind.Read, out var id, out var secret));
        Assert.Equal(readRecord.KeyId, id);
        Assert.Equal(IngestKeyStatus.Valid, IngestKeys.Check(readRecord, secret, now));
        Assert.False(IngestKeys.TryParse(ingest, ApiKeyKind.Read, out _, out _));
    }
}
