namespace Pipeline.Core.Ingest;

/// <summary>Request-level error codes of the ingest endpoint (the <c>error.code</c> of a non-202 answer).</summary>
public static class IngestErrorCodes
{
    // 400
    /// <summary>The body is not valid gzip (corrupt or truncated) although <c>Content-Encoding: gzip</c> was sent.</summary>
    public const string InvalidBody = "invalid_body";
    /// <summary>The body is not JSON, not a JSON object, or has content after the object.</summary>
    public const string InvalidJson = "invalid_json";
    /// <summary>The body has no <c>events</c> array.</summary>
    public const string MissingEvents = "missing_events";
    /// <summary><c>events</c> is empty.</summary>
    public const string EmptyBatch = "empty_batch";
    /// <summary><c>events</c> has more than <see cref="IngestLimits.MaxEvents"/> entries.</summary>
    public const string TooManyEvents = "too_many_events";
    /// <summary>Every event was rejected; the answer lists why.</summary>
    public const string AllRejected = "all_rejected";

    // 401
    /// <summary>Missing, malformed or unknown <c>X-Api-Key</c>, a wrong secret, or its source is no longer registered.</summary>
    public const string Unauthorized = "unauthorized";
    /// <summary>The right secret of a key that <c>keys revoke</c> revoked (told only to the holder of the secret).</summary>
    public const string KeyRevoked = "key_revoked";
    /// <summary>The right secret of a key replaced by <c>keys rotate</c> whose overlap has ended (told only to the holder of the secret).</summary>
    public const string KeyExpired = "key_expired";
    /// <summary>Inbound queue message naming a source that is not registered.</summary>
    public const string UnknownSource = "unknown_source";

    // 413
    public const string PayloadTooLarge = "payload_too_large";

    // 415
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string UnsupportedEncoding = "unsupported_encoding";

    // 429
    /// <summary>The source is over its rate limit (<see cref="IngestRateLimiter"/>); the answer has <c>Retry-After</c>.</summary>
    public const string RateLimited = "rate_limited";

    // 503
    public const string StorageUnavailable = "storage_unavailable";
}
