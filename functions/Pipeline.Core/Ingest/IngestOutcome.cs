using Pipeline.Core.Events;

namespace Pipeline.Core.Ingest;

/// <summary>The earliest and latest time (Unix milliseconds, UTC) of a batch's accepted events.</summary>
public readonly record struct AcceptedTimeRange(long EarliestMs, long LatestMs);

/// <summary>An ingest request as the hosts see it: the relevant headers and the raw body stream.</summary>
/// <param name="ApiKey">The <c>X-Api-Key</c> header; null when absent.</param>
/// <param name="ContentType">The <c>Content-Type</c> header; null when absent.</param>
/// <param name="ContentEncoding">The <c>Content-Encoding</c> header; null when absent.</param>
/// <param name="Body">The request body as received (compressed when gzip); read once, not disposed.</param>
public sealed record IngestRequest(string? ApiKey, string? ContentType, string? ContentEncoding, Stream Body);

/// <summary>What became of an ingest request, as the domain sees it; the hosts map it to their own terms
/// (the HTTP endpoint to a status and a body, the inbound queue to done, retry or poison).</summary>
public enum IngestResultKind
{
    /// <summary>Stored: at least one event accepted, after the accepted events are durably stored.</summary>
    Accepted,
    /// <summary>The batch is not valid (not JSON, no events, too many), or every event was rejected.</summary>
    Invalid,
    /// <summary>No key, an unknown, revoked or expired key, or an unregistered source.</summary>
    Unauthorized,
    /// <summary>The body is over the contract's size limit.</summary>
    TooLarge,
    /// <summary>The content type or encoding is not the contract's.</summary>
    UnsupportedFormat,
    /// <summary>The source is over its rate limit; nothing was accepted.</summary>
    RateLimited,
    /// <summary>Storage could not be reached; nothing was accepted.</summary>
    Unavailable,
}

/// <summary>
/// The answer to an ingest request: its <see cref="Kind"/>, the contract's error code and message when
/// it is not accepted, the events rejected one by one, <c>Retry-After</c> when set, and what a host
/// should log. How it is written on the wire (status, JSON body) is the endpoint's business
/// (<c>Pipeline.Hosting.Endpoints.Http.IngestReplies</c>): Core knows nothing of HTTP.
/// </summary>
public sealed class IngestOutcome
{
    private IngestOutcome(IngestResultKind kind, string? errorCode, string? errorMessage, TimeSpan? retryAfter)
    {
        Kind = kind;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
        RetryAfter = retryAfter;
    }

    public IngestResultKind Kind { get; }

    /// <summary><c>Retry-After</c> for <see cref="IngestResultKind.RateLimited"/> and <see cref="IngestResultKind.Unavailable"/>; null otherwise.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Batch id (also for rejections after authentication, where it names the operator record); null before.</summary>
    public string? BatchId { get; init; }

    /// <summary>The authenticated source; null when authentication failed.</summary>
    public string? Source { get; init; }

    /// <summary>The ingest key id used (or <c>inbound-queue</c>); null when the key was missing or malformed.</summary>
    public string? KeyId { get; init; }

    /// <summary>Events accepted (0 unless <see cref="IngestResultKind.Accepted"/>).</summary>
    public int Accepted { get; init; }

    /// <summary>Events rejected one by one.</summary>
    public int Rejected { get; init; }

    /// <summary>The events rejected one by one, in batch order.</summary>
    public IReadOnlyList<Rejection> Rejections { get; init; } = [];

    /// <summary>The earliest and latest time of the accepted events (accepted only; null otherwise).</summary>
    public AcceptedTimeRange? AcceptedTimes { get; init; }

    /// <summary>Request-level code of <see cref="IngestErrorCodes"/>; null when accepted.</summary>
    public string? ErrorCode { get; }

    public string? ErrorMessage { get; }

    /// <summary>The storage failure behind <see cref="IngestResultKind.Unavailable"/>, for the host's log; never sent to the client.</summary>
    public Exception? Failure { get; init; }

    /// <summary>A landed and enqueued batch.</summary>
    public static IngestOutcome Success(string batchId, int accepted, IReadOnlyList<Rejection> rejected, AcceptedTimeRange? acceptedTimes = null)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        ArgumentNullException.ThrowIfNull(rejected);
        return new IngestOutcome(IngestResultKind.Accepted, null, null, null)
        {
            BatchId = batchId, Accepted = accepted, Rejected = rejected.Count, Rejections = rejected, AcceptedTimes = acceptedTimes,
        };
    }

    /// <summary>A request that was not accepted, with the contract's code and a message that names what is wrong.</summary>
    public static IngestOutcome Error(IngestResultKind kind, string code, string message, IReadOnlyList<Rejection>? rejected = null, TimeSpan? retryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentNullException.ThrowIfNull(message);
        if (kind == IngestResultKind.Accepted) throw new ArgumentException("An error cannot be Accepted.", nameof(kind));
        return new IngestOutcome(kind, code, message, retryAfter) { Rejected = rejected?.Count ?? 0, Rejections = rejected ?? [] };
    }

    /// <summary>A copy with the logging fields a handler knows later.</summary>
    internal IngestOutcome With(string? source, string? keyId, string? batchId, Exception? failure) =>
        new(Kind, ErrorCode, ErrorMessage, RetryAfter)
        {
            Source = source,
            KeyId = keyId,
            BatchId = batchId ?? BatchId,
            Accepted = Accepted,
            Rejected = Rejected,
            Rejections = Rejections,
            AcceptedTimes = AcceptedTimes,
            Failure = failure ?? Failure,
        };
}
