using System.Buffers;
using System.Text.Json;
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

/// <summary>
/// The answer to an ingest request: the status and UTF-8 JSON body to send (and <c>Retry-After</c>
/// when set), plus what a host should log. Bodies follow the contract:
/// <c>202 {"batchId":"…","accepted":N,"rejected":[…]}</c>, otherwise
/// <c>{"error":{"code":"…","message":"…"}}</c> with <c>"rejected":[…]</c> added when events were
/// rejected one by one (<c>all_rejected</c>).
/// </summary>
public sealed class IngestOutcome
{
    private IngestOutcome(int status, byte[] body, string? errorCode, string? errorMessage, TimeSpan? retryAfter)
    {
        Status = status;
        Body = body;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
        RetryAfter = retryAfter;
    }

    /// <summary>HTTP status: 202, 400, 401, 413, 415, 429 or 503.</summary>
    public int Status { get; }

    /// <summary>The response body, UTF-8 JSON (<c>application/json; charset=utf-8</c>).</summary>
    public byte[] Body { get; }

    /// <summary>Value of the <c>Retry-After</c> header (whole seconds, rounded up) for 429 and 503; null otherwise.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Batch id (also for 400s after authentication, where it names the operator record); null before.</summary>
    public string? BatchId { get; init; }

    /// <summary>The authenticated source; null when authentication failed.</summary>
    public string? Source { get; init; }

    /// <summary>The ingest key id used (or <c>inbound-queue</c>); null when the key was missing or malformed.</summary>
    public string? KeyId { get; init; }

    /// <summary>Events accepted (0 unless 202).</summary>
    public int Accepted { get; init; }

    /// <summary>Events rejected one by one.</summary>
    public int Rejected { get; init; }

    /// <summary>The events rejected one by one (what <c>"rejected"</c> of the body lists), in batch order.</summary>
    public IReadOnlyList<Rejection> Rejections { get; init; } = [];

    /// <summary>The earliest and latest time of the accepted events (202 only; null otherwise).</summary>
    public AcceptedTimeRange? AcceptedTimes { get; init; }

    /// <summary>Request-level code of <see cref="IngestErrorCodes"/>; null for 202.</summary>
    public string? ErrorCode { get; }

    public string? ErrorMessage { get; }

    /// <summary>The storage failure behind a 503, for the host's log; never sent to the client.</summary>
    public Exception? Failure { get; init; }

    /// <summary>A 202 for a landed and enqueued batch.</summary>
    public static IngestOutcome Success(string batchId, int accepted, IReadOnlyList<Rejection> rejected, AcceptedTimeRange? acceptedTimes = null)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        ArgumentNullException.ThrowIfNull(rejected);
        var body = Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("batchId"u8, batchId);
            writer.WriteNumber("accepted"u8, accepted);
            WriteRejections(writer, rejected);
            writer.WriteEndObject();
        });
        return new IngestOutcome(202, body, null, null, null)
        {
            BatchId = batchId, Accepted = accepted, Rejected = rejected.Count, Rejections = rejected, AcceptedTimes = acceptedTimes,
        };
    }

    /// <summary>An error answer. <paramref name="rejected"/>, when given and not empty, is added as <c>"rejected"</c>.</summary>
    public static IngestOutcome Error(int status, string code, string message, IReadOnlyList<Rejection>? rejected = null, TimeSpan? retryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(code);
        ArgumentNullException.ThrowIfNull(message);
        var body = Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error"u8);
            writer.WriteString("code"u8, code);
            writer.WriteString("message"u8, message);
            writer.WriteEndObject();
            if (rejected is { Count: > 0 }) WriteRejections(writer, rejected);
            writer.WriteEndObject();
        });
        return new IngestOutcome(status, body, code, message, retryAfter) { Rejected = rejected?.Count ?? 0, Rejections = rejected ?? [] };
    }

    /// <summary>A copy with the logging fields a handler knows later (the body is shared, not copied).</summary>
    internal IngestOutcome With(string? source, string? keyId, string? batchId, Exception? failure) =>
        new(Status, Body, ErrorCode, ErrorMessage, RetryAfter)
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

    private static void WriteRejections(Utf8JsonWriter writer, IReadOnlyList<Rejection> rejected)
    {
        writer.WriteStartArray("rejected"u8);
        for (var i = 0; i < rejected.Count; i++)
        {
            var r = rejected[i];
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, r.Index);
            if (r.EventId is null) writer.WriteNull("eventId"u8);
            else writer.WriteString("eventId"u8, r.EventId);
            writer.WriteString("code"u8, r.Code);
            writer.WriteString("message"u8, r.Message);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }
}
