namespace Pipeline.Core.Events;

/// <summary>
/// The accepted events of one ingest request (or inbound queue message), as written to the
/// landing blob before the <c>202</c>. The unit of work of processing: one claim-check message
/// names one landing batch.
/// </summary>
public sealed class LandingBatch
{
    /// <summary>Unique id (a version-7 GUID, so ids sort by time), returned to the client.</summary>
    public required string BatchId { get; init; }

    /// <summary>The source (owner of the ingest key) that sent the batch: part of the de-duplication key, and the audit trail.</summary>
    public required string Source { get; init; }

    /// <summary>Id of the ingest key used, or <c>inbound-queue</c> for a trusted back end's queue message.</summary>
    public required string KeyId { get; init; }

    /// <summary>When the pipeline received the batch (the server clock).</summary>
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The batch's <c>sentAt</c>, when present and valid.</summary>
    public DateTimeOffset? SentAt { get; init; }

    /// <summary>How many events the batch held, accepted or not.</summary>
    public required int ReceivedCount { get; init; }

    /// <summary>How many of them were rejected.</summary>
    public required int RejectedCount { get; init; }

    public required IReadOnlyList<PipelineEvent> Events { get; init; }
}

/// <summary>The claim-check message put on the processing queue: small, it names the landing blob.</summary>
public sealed record ProcessingMessage(string BatchId, string LandingPath);
