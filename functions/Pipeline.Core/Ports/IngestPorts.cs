using Pipeline.Core.Events;

namespace Pipeline.Core.Ports;

/// <summary>Durable home of accepted batches: written before the <c>202</c>, read by processing.</summary>
public interface ILandingStore
{
    /// <summary>Writes the batch; returns its path (container-relative blob name) for the claim-check message. Idempotent per batch id.</summary>
    Task<string> WriteAsync(LandingBatch batch, CancellationToken cancellationToken);

    /// <summary>Reads a batch by the path <see cref="WriteAsync"/> returned; null when it does not exist.</summary>
    Task<LandingBatch?> ReadAsync(string path, CancellationToken cancellationToken);
}

/// <summary>The processing queue (claim-check messages).</summary>
public interface IProcessingQueue
{
    Task EnqueueAsync(ProcessingMessage message, CancellationToken cancellationToken);
}

/// <summary>Where rejected events and their reasons are kept for operators.</summary>
public interface IRejectedEventStore
{
    Task WriteAsync(RejectedBatch batch, CancellationToken cancellationToken);
}

/// <summary>A source: who sends, and which mini-programs it may write.</summary>
public sealed record SourceRegistration(string Name, bool AllMiniPrograms, IReadOnlyList<string> MiniProgramIds, DateTimeOffset CreatedAt)
{
    public bool Allows(string miniProgramId) => AllMiniPrograms || MiniProgramIds.Contains(miniProgramId, StringComparer.Ordinal);
}

/// <summary>
/// A key as stored: its public id, the source it writes for (or, for a read key, the reader whose
/// mini-programs it reads), and only the SHA-256 hash of its secret. <see cref="RevokedAt"/> is set by
/// <c>keys revoke</c> (refused from then on); <see cref="ExpiresAt"/> by <c>keys rotate</c> on the keys
/// it replaces (valid until then, refused after). <see cref="Kind"/> says which endpoints accept it.
/// </summary>
public sealed record IngestKeyRecord(string KeyId, string Source, byte[] SecretHash, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt,
    DateTimeOffset? ExpiresAt = null, Pipeline.Core.Ingest.ApiKeyKind Kind = Pipeline.Core.Ingest.ApiKeyKind.Ingest)
{
    /// <summary>Neither revoked nor expired at <paramref name="now"/>.</summary>
    public bool IsActive(DateTimeOffset now) => !(RevokedAt <= now) && !(ExpiresAt <= now);
}

/// <summary>
/// Sources and readers, and their keys. A reader is registered like a source (a name and the
/// mini-programs it may see) but apart from the sources, so that a name never means both.
/// </summary>
public interface IIngestKeyStore
{
    Task<IngestKeyRecord?> FindKeyAsync(string keyId, CancellationToken cancellationToken);
    Task<SourceRegistration?> FindSourceAsync(string source, CancellationToken cancellationToken);
    Task SaveSourceAsync(SourceRegistration source, CancellationToken cancellationToken);
    Task<SourceRegistration?> FindReaderAsync(string reader, CancellationToken cancellationToken);
    Task SaveReaderAsync(SourceRegistration reader, CancellationToken cancellationToken);
    Task SaveKeyAsync(IngestKeyRecord key, CancellationToken cancellationToken);
    Task<IReadOnlyList<IngestKeyRecord>> ListKeysAsync(CancellationToken cancellationToken);
}
