namespace Pipeline.Core.Ports;

/// <summary>
/// Storage could not be reached (after the SDK's own retries, or the circuit is open). Ingest
/// answers <c>503</c> with <c>Retry-After</c>; queue handlers let the message be retried.
/// </summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null, TimeSpan? retryAfter = null)
    : Exception(message, inner)
{
    /// <summary>How long a client should wait before retrying.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter ?? TimeSpan.FromSeconds(30);
}
