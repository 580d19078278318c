using Pipeline.Core.Events;

namespace Pipeline.Core.Ingest;

/// <summary>
/// What <see cref="BatchParser"/> made of a body: either a batch-level error (<see cref="ErrorCode"/>
/// set, nothing else meaningful) or the outcome of every event: accepted ones in
/// <see cref="Accepted"/> (in batch order), rejected ones in <see cref="Rejections"/> with their
/// sanitised JSON at the same position in <see cref="RejectedEvents"/>.
/// </summary>
public sealed class BatchParseResult
{
    private static readonly IReadOnlyList<PipelineEvent> NoEvents = [];
    private static readonly IReadOnlyList<Rejection> NoRejections = [];
    private static readonly IReadOnlyList<string?> NoJson = [];

    /// <summary>A batch-level code of <see cref="IngestErrorCodes"/> (answered <c>400</c>); null when the events were parsed.</summary>
    public string? ErrorCode { get; init; }

    public string? ErrorMessage { get; init; }

    /// <summary>The batch's <c>sentAt</c> when present and valid (then used for clock-skew correction).</summary>
    public DateTimeOffset? SentAt { get; init; }

    /// <summary>Number of entries of <c>events</c> (0 for a batch-level error).</summary>
    public int ReceivedCount { get; init; }

    public IReadOnlyList<PipelineEvent> Accepted { get; init; } = NoEvents;

    public IReadOnlyList<Rejection> Rejections { get; init; } = NoRejections;

    /// <summary>
    /// Parallel to <see cref="Rejections"/>: the rejected event's JSON for operators, with <c>userId</c>
    /// replaced by its pseudonym; null when the entry was not a JSON object.
    /// </summary>
    public IReadOnlyList<string?> RejectedEvents { get; init; } = NoJson;

    public bool IsBatchError => ErrorCode is not null;

    internal static BatchParseResult Fail(string code, string message) => new() { ErrorCode = code, ErrorMessage = message };
}
