using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;

namespace Pipeline.Hosting.Endpoints.Http;

/// <summary>
/// The one place an ingest outcome becomes HTTP (docs/ingest-contract.md, "Answers"): its status, and
/// the contract's bodies: <c>202 {"batchId","accepted","rejected":[…]}</c>, or the error envelope of
/// <see cref="HttpReply.Error"/> with <c>"rejected":[…]</c> added when events were rejected one by one;
/// <c>Retry-After</c> in whole seconds, rounded up.
/// </summary>
public static class IngestReplies
{
    public static int StatusOf(IngestResultKind kind) => kind switch
    {
        IngestResultKind.Accepted => 202,
        IngestResultKind.Invalid => 400,
        IngestResultKind.Unauthorized => 401,
        IngestResultKind.TooLarge => 413,
        IngestResultKind.UnsupportedFormat => 415,
        IngestResultKind.RateLimited => 429,
        IngestResultKind.Unavailable => 503,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "An ingest result without an HTTP status."),
    };

    public static HttpReply ToReply(IngestOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var status = StatusOf(outcome.Kind);
        var reply = outcome.Kind == IngestResultKind.Accepted
            ? new HttpReply(status, Accepted(outcome), HttpReply.Json)
            : HttpReply.Error(status, outcome.ErrorCode!, outcome.ErrorMessage!,
                extra: outcome.Rejections.Count > 0 ? writer => WriteRejections(writer, outcome.Rejections) : null);
        if (outcome.RetryAfter is { } retryAfter)
            reply.WithHeader("Retry-After", Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
        return reply;
    }

    private static ReadOnlyMemory<byte> Accepted(IngestOutcome outcome)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("batchId"u8, outcome.BatchId);
            writer.WriteNumber("accepted"u8, outcome.Accepted);
            WriteRejections(writer, outcome.Rejections);
            writer.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }

    private static void WriteRejections(Utf8JsonWriter writer, IReadOnlyList<Rejection> rejected)
    {
        writer.WriteStartArray("rejected"u8);
        foreach (var r in rejected)
        {
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
}
