using Pipeline.Core.Ports;

namespace Pipeline.Core.Ingest;

/// <summary>
/// What operators do with ingest keys (the <c>keys</c> verbs of the CLI): create, list, revoke and
/// rotate. Secrets are shown once, at creation, and never again: only their hashes are stored.
/// </summary>
/// <remarks>
/// Ingest instances cache key records for <see cref="IngestKeyCache.HitLifetime"/>, so a revocation
/// (or an expiry moved earlier) reaches every instance within that time; an expiry that is already in
/// a cached record is exact, because it is compared with the clock on every request.
/// </remarks>
public sealed class IngestKeyLifecycle(IIngestKeyStore store, TimeProvider time)
{
    /// <summary>The longest overlap <see cref="RotateAsync"/> accepts: a replaced key must not live on forever.</summary>
    public static readonly TimeSpan MaxOverlap = TimeSpan.FromDays(90);

    /// <summary>
    /// Registers (or updates) <paramref name="source"/> (a source for an ingest key, a reader for a read key)
    /// and stores a new key for it; returns the plaintext key.
    /// </summary>
    public async Task<string> CreateAsync(SourceRegistration source, CancellationToken ct, ApiKeyKind kind = ApiKeyKind.Ingest)
    {
        ArgumentNullException.ThrowIfNull(source);
        await SaveRegistrationAsync(kind, source, ct).ConfigureAwait(false);
        var (plaintext, record) = IngestKeys.Create(source.Name, time.GetUtcNow(), kind);
        await store.SaveKeyAsync(record, ct).ConfigureAwait(false);
        return plaintext;
    }

    /// <summary>Every key with its source's (or reader's) registration (null when it is gone), ingest keys first, by name then creation time.</summary>
    public async Task<IReadOnlyList<IngestKeyListing>> ListAsync(CancellationToken ct)
    {
        var keys = await store.ListKeysAsync(ct).ConfigureAwait(false);
        var registrations = new Dictionary<(ApiKeyKind, string), SourceRegistration?>();
        foreach (var (kind, name) in keys.Select(k => (k.Kind, k.Source)).Distinct())
            registrations[(kind, name)] = await FindRegistrationAsync(kind, name, ct).ConfigureAwait(false);
        var now = time.GetUtcNow();
        return keys
            .OrderBy(k => k.Kind).ThenBy(k => k.Source, StringComparer.Ordinal).ThenBy(k => k.CreatedAt).ThenBy(k => k.KeyId, StringComparer.Ordinal)
            .Select(k => new IngestKeyListing(k, registrations[(k.Kind, k.Source)], StateOf(k, now)))
            .ToList();
    }

    /// <summary>
    /// Revokes <paramref name="keyId"/> now (ingest refuses it with <c>401 key_revoked</c>); a key revoked
    /// before keeps its first revocation time. Null when there is no such key.
    /// </summary>
    public async Task<IngestKeyRecord?> RevokeAsync(string keyId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        var key = await store.FindKeyAsync(keyId, ct).ConfigureAwait(false);
        if (key is null) return null;
        if (key.RevokedAt is not null) return key;
        var revoked = key with { RevokedAt = time.GetUtcNow() };
        await store.SaveKeyAsync(revoked, ct).ConfigureAwait(false);
        return revoked;
    }

    /// <summary>
    /// Issues a new key for a registered <paramref name="source"/> and makes every other active key of
    /// the source expire after <paramref name="overlap"/> (a key already due to expire sooner keeps its
    /// time). Until then both work, so senders can switch without losing a batch; after, the old keys
    /// are refused with <c>401 key_expired</c>. The new key is stored before any old one is shortened,
    /// so an interrupted rotation never leaves a source without a working key.
    /// </summary>
    /// <exception cref="InvalidOperationException">The source is not registered.</exception>
    public async Task<IngestKeyRotation> RotateAsync(string source, TimeSpan overlap, CancellationToken ct, ApiKeyKind kind = ApiKeyKind.Ingest)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(overlap, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(overlap, MaxOverlap);
        if (await FindRegistrationAsync(kind, source, ct).ConfigureAwait(false) is null)
            throw new InvalidOperationException(kind == ApiKeyKind.Read
                ? $"The reader '{source}' is not registered; create its first key with 'keys create --read'."
                : $"The source '{source}' is not registered; create its first key with 'keys create'.");

        var now = time.GetUtcNow();
        var existing = (await store.ListKeysAsync(ct).ConfigureAwait(false))
            .Where(k => k.Kind == kind && string.Equals(k.Source, source, StringComparison.Ordinal) && k.IsActive(now))
            .ToList();
        var (plaintext, record) = IngestKeys.Create(source, now, kind);
        await store.SaveKeyAsync(record, ct).ConfigureAwait(false);

        var expiresAt = now + overlap;
        var retiring = new List<IngestKeyRecord>();
        foreach (var old in existing)
        {
            var retired = old.ExpiresAt is { } sooner && sooner <= expiresAt ? old : old with { ExpiresAt = expiresAt };
            if (!ReferenceEquals(retired, old)) await store.SaveKeyAsync(retired, ct).ConfigureAwait(false);
            retiring.Add(retired);
        }
        return new IngestKeyRotation(plaintext, record, retiring);
    }

    private Task<SourceRegistration?> FindRegistrationAsync(ApiKeyKind kind, string name, CancellationToken ct) =>
        kind == ApiKeyKind.Read ? store.FindReaderAsync(name, ct) : store.FindSourceAsync(name, ct);

    private Task SaveRegistrationAsync(ApiKeyKind kind, SourceRegistration registration, CancellationToken ct) =>
        kind == ApiKeyKind.Read ? store.SaveReaderAsync(registration, ct) : store.SaveSourceAsync(registration, ct);

    /// <summary>The state of <paramref name="key"/> at <paramref name="now"/>.</summary>
    public static IngestKeyState StateOf(IngestKeyRecord key, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.RevokedAt <= now) return IngestKeyState.Revoked;
        if (key.ExpiresAt <= now) return IngestKeyState.Expired;
        return key.ExpiresAt is null ? IngestKeyState.Active : IngestKeyState.Expiring;
    }
}

/// <summary>A key as <c>keys list</c> shows it (never its secret, which is not stored).</summary>
public sealed record IngestKeyListing(IngestKeyRecord Key, SourceRegistration? Source, IngestKeyState State);

/// <summary>The result of <see cref="IngestKeyLifecycle.RotateAsync"/>: the new key (plaintext shown once) and the keys it replaces.</summary>
public sealed record IngestKeyRotation(string Plaintext, IngestKeyRecord NewKey, IReadOnlyList<IngestKeyRecord> Retiring);

public enum IngestKeyState
{
    /// <summary>Accepted, with no end set.</summary>
    Active,
    /// <summary>Accepted until its <see cref="IngestKeyRecord.ExpiresAt"/> (replaced by a rotation).</summary>
    Expiring,
    /// <summary>Refused: its rotation overlap has ended.</summary>
    Expired,
    /// <summary>Refused: revoked.</summary>
    Revoked,
}
