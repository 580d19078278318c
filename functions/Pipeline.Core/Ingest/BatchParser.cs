using System.Text.Json;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Ingest;

/// <summary>
/// Parses and validates a request body (already read and decompressed) against the ingest contract.
/// The batch is parsed once into a <see cref="JsonDocument"/> (no copy of the body); each event is
/// then checked and turned into a <see cref="PipelineEvent"/> or a <see cref="Rejection"/>. See
/// <see cref="EventValidator"/> for the per-event rules and their order. Thread-safe: per-batch state
/// lives in the <see cref="EventValidator"/> created for each call.
/// </summary>
public sealed class BatchParser(UserPseudonymizer pseudonymizer)
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = IngestLimits.MaxJsonDepth,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>
    /// Parses <paramref name="body"/>. Batch-level failures (answered <c>400</c> as a whole):
    /// <c>invalid_json</c> (not JSON, trailing content, not an object, a duplicate <c>events</c> or
    /// <c>sentAt</c>, or nested deeper than <see cref="IngestLimits.MaxJsonDepth"/>),
    /// <c>missing_events</c> (no <c>events</c>, or not an array), <c>empty_batch</c>,
    /// <c>too_many_events</c>. A leading UTF-8 byte-order mark is skipped. Properties of the body
    /// other than <c>events</c> and <c>sentAt</c> are ignored. <c>all_rejected</c> is the caller's
    /// decision (no event in <see cref="BatchParseResult.Accepted"/>).
    /// </summary>
    public BatchParseResult Parse(ReadOnlyMemory<byte> body, SourceRegistration source, DateTimeOffset receivedAt) =>
        Parse(body, source, receivedAt, EventTimeRules.Contract);

    /// <summary>
    /// Parses <paramref name="body"/> as above, with <paramref name="timeRules"/> deciding the events' time
    /// and the accepted window (<see cref="EventTimeRules.Contract"/> for every request; a bulk import
    /// may accept history). <see cref="BatchParseResult.SentAt"/> reports a valid <c>sentAt</c> either way.
    /// </summary>
    public BatchParseResult Parse(ReadOnlyMemory<byte> body, SourceRegistration source, DateTimeOffset receivedAt, EventTimeRules timeRules)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(timeRules);
        if (body.Span.StartsWith("\uFEFF"u8)) body = body[3..];

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException e)
        {
            return BatchParseResult.Fail(IngestErrorCodes.InvalidJson, "The body is not valid JSON: " + e.Message);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return BatchParseResult.Fail(IngestErrorCodes.InvalidJson, $"The body must be a JSON object; got {JsonText.KindName(root)}.");

            JsonElement events = default, sentAt = default;
            bool hasEvents = false, hasSentAt = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("events"u8))
                {
                    if (hasEvents) return BatchParseResult.Fail(IngestErrorCodes.InvalidJson, "The body has the property \"events\" twice.");
                    hasEvents = true;
                    events = property.Value;
                }
                else if (property.NameEquals("sentAt"u8))
                {
                    if (hasSentAt) return BatchParseResult.Fail(IngestErrorCodes.InvalidJson, "The body has the property \"sentAt\" twice.");
                    hasSentAt = true;
                    sentAt = property.Value;
                }
            }

            if (!hasEvents || events.ValueKind == JsonValueKind.Null)
                return BatchParseResult.Fail(IngestErrorCodes.MissingEvents, "The body has no \"events\" array.");
            if (events.ValueKind != JsonValueKind.Array)
                return BatchParseResult.Fail(IngestErrorCodes.MissingEvents, $"\"events\" must be an array; got {JsonText.KindName(events)}.");
            var count = events.GetArrayLength();
            if (count < IngestLimits.MinEvents)
                return BatchParseResult.Fail(IngestErrorCodes.EmptyBatch, $"The batch has no events; send {IngestLimits.MinEvents} to {IngestLimits.MaxEvents}.");
            if (count > IngestLimits.MaxEvents)
                return BatchParseResult.Fail(IngestErrorCodes.TooManyEvents, $"The batch has {count} events; at most {IngestLimits.MaxEvents} are allowed.");

            // An unusable sentAt does not fail the batch: the timestamps are then used as sent.
            long? sentAtMs = hasSentAt && TryParseSentAt(sentAt, out var ms) ? ms : null;
            var receivedAtMs = receivedAt.ToUnixTimeMilliseconds();

            var validator = new EventValidator(pseudonymizer, source, receivedAtMs, sentAtMs, timeRules);
            var accepted = new List<PipelineEvent>(count);
            List<Rejection>? rejections = null;
            List<string?>? rejectedEvents = null;
            var index = 0;
            foreach (var element in events.EnumerateArray())
            {
                var outcome = validator.Validate(element, index);
                if (outcome.Event is not null)
                {
                    accepted.Add(outcome.Event);
                }
                else
                {
                    (rejections ??= []).Add(outcome.Rejection!);
                    (rejectedEvents ??= []).Add(outcome.RejectedJson);
                }
                index++;
            }

            return new BatchParseResult
            {
                SentAt = sentAtMs is { } s ? DateTimeOffset.FromUnixTimeMilliseconds(s) : null,
                ReceivedCount = count,
                Accepted = accepted,
                Rejections = rejections ?? [],
                RejectedEvents = rejectedEvents ?? [],
            };
        }
    }

    private static bool TryParseSentAt(JsonElement value, out long unixMs)
    {
        try
        {
            return ClockSkew.TryParse(value, out unixMs);
        }
        catch (InvalidOperationException)
        {
            unixMs = 0; // not valid UTF-8
            return false;
        }
    }
}
