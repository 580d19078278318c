using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Query;

/// <summary>
/// Who is reading: the <c>X-Api-Key</c> of a read request, checked like an ingest key (constant-time
/// hash comparison, the same cache, revocation and rotation), turned into a <see cref="ReadAccess"/>.
/// An ingest key is refused: a key that writes cannot read, so a leaked SDK key (SDK keys ship inside
/// apps) never exposes metrics.
/// </summary>
public sealed class ReadKeyAuthenticator(IngestKeyCache keys, TimeProvider time)
{
    public const string Header = "X-Api-Key";

    public async Task<(ReadAccess? Access, QueryError? Error)> AuthenticateAsync(string? header, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(header))
            return (null, new QueryError(401, "unauthorized", "The X-Api-Key header is missing: reading metrics needs a read key (mrk_…, from 'keys create --read')."));
        if (IngestKeys.KindOf(header) == ApiKeyKind.Ingest)
            return (null, new QueryError(403, "ingest_key_cannot_read", "The X-Api-Key is an ingest key (mpk_…), which sends events and cannot read metrics; use a read key (mrk_…, from 'keys create --read')."));
        if (!IngestKeys.TryParse(header, ApiKeyKind.Read, out var keyId, out var secret))
            return (null, new QueryError(401, "unauthorized", "The X-Api-Key is not a read key (mrk_<id>_<secret>)."));

        var key = await keys.FindKeyAsync(keyId, ct).ConfigureAwait(false);
        var status = key is null || key.Kind != ApiKeyKind.Read ? IngestKeyStatus.WrongSecret : IngestKeys.Check(key, secret, time.GetUtcNow());
        switch (status)
        {
            case IngestKeyStatus.WrongSecret:
                return (null, new QueryError(401, "unauthorized", "The X-Api-Key is unknown or revoked."));
            case IngestKeyStatus.Revoked:
                return (null, new QueryError(401, "key_revoked", "The X-Api-Key was revoked; ask the platform's operators for a new read key."));
            case IngestKeyStatus.Expired:
                return (null, new QueryError(401, "key_expired", "The X-Api-Key was replaced by a newer key and its overlap has ended; use the new key."));
        }
        var reader = await keys.FindReaderAsync(key!.Source, ct).ConfigureAwait(false);
        if (reader is null)
            return (null, new QueryError(401, "unauthorized", "The X-Api-Key is unknown or revoked."));
        return (new ReadAccess(reader.Name, reader.AllMiniPrograms, reader.MiniProgramIds.ToHashSet(StringComparer.Ordinal)), null);
    }
}
