namespace Pipeline.Core.Events;

/// <summary>The contract's per-event rejection codes.</summary>
public static class RejectionCodes
{
    public const string MissingField = "missing_field";
    public const string InvalidField = "invalid_field";
    public const string UnknownType = "unknown_type";
    public const string TimestampOutOfRange = "timestamp_out_of_range";
    public const string EventTooLarge = "event_too_large";
    public const string ForbiddenMiniProgram = "forbidden_mini_program";
}

/// <summary>One rejected event in a response: its index in the batch, its id if it had a usable one, the code and a message naming what is wrong.</summary>
public sealed record Rejection(int Index, string? EventId, string Code, string Message);

/// <summary>
/// What an operator can read about the events of a request that were not accepted: the
/// reasons, and each rejected event's JSON with <c>userId</c> replaced by its pseudonym.
/// </summary>
public sealed class RejectedBatch
{
    public required string BatchId { get; init; }
    public required string Source { get; init; }
    public required string KeyId { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    /// <summary>HTTP status answered for the whole request (202 or 400).</summary>
    public required int Status { get; init; }
    /// <summary>Request-level error code when the whole request failed (for example <c>invalid_json</c>); null otherwise.</summary>
    public string? ErrorCode { get; init; }
    public string? ErrorMessage { get; init; }
    /// <summary>How many events the request held (0 when it could not be parsed).</summary>
    public required int ReceivedCount { get; init; }
    public required IReadOnlyList<Rejection> Rejections { get; init; }
    /// <summary>Sanitised JSON of each rejected event, parallel to <see cref="Rejections"/>; null where the event could not be re-serialised.</summary>
    public required IReadOnlyList<string?> Events { get; init; }
}
