using System.Collections.Concurrent;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Ingest;

/// <summary>
/// In-memory cache, per instance, of ingest key records and source registrations, so that a request
/// costs no storage round trip for authentication. Entries found live 60 s, so a revoked key or a
/// removed source stops working within 60 s on every instance. Misses live 10 s (so a flood of
/// unknown keys does not reach storage on every request, while a new key works within 10 s even
/// where it was tried too early). Failures are not cached. The cache is cleared when it exceeds
/// <see cref="MaxEntries"/>, which bounds memory under a flood of random key ids.
/// </summary>
public sealed class IngestKeyCache(IIngestKeyStore store, TimeProvider time)
{
    public static readonly TimeSpan HitLifetime = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan MissLifetime = TimeSpan.FromSeconds(10);
    public const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, Entry<IngestKeyRecord>> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry<SourceRegistration>> _sources = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry<SourceRegistration>> _readers = new(StringComparer.Ordinal);

    public ValueTask<IngestKeyRecord?> FindKeyAsync(string keyId, CancellationToken ct) =>
        FindAsync(_keys, keyId, static (s, id, c) => s.FindKeyAsync(id, c), ct);

    public ValueTask<SourceRegistration?> FindSourceAsync(string source, CancellationToken ct) =>
        FindAsync(_sources, source, static (s, name, c) => s.FindSourceAsync(name, c), ct);

    public ValueTask<SourceRegistration?> FindReaderAsync(string reader, CancellationToken ct) =>
        FindAsync(_readers, reader, static (s, name, c) => s.FindReaderAsync(name, c), ct);

    private async ValueTask<T?> FindAsync<T>(
        ConcurrentDictionary<string, Entry<T>> cache, string id,
        Func<IIngestKeyStore, string, CancellationToken, Task<T?>> load, CancellationToken ct)
        where T : class
    {
        var now = time.GetUtcNow();
        if (cache.TryGetValue(id, out var entry) && entry.ExpiresAt > now) return entry.Value;

        var value = await load(store, id, ct).ConfigureAwait(false);
        if (cache.Count >= MaxEntries) cache.Clear();
        cache[id] = new Entry<T>(value, now + (value is null ? MissLifetime : HitLifetime));
        return value;
    }

    private sealed record Entry<T>(T? Value, DateTimeOffset ExpiresAt) where T : class;
}
