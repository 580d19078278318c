using System.Text.Json;

namespace Pipeline.Core.Ingest;

/// <summary>
/// The message format of the inbound queue, where trusted back ends (payments, ads) drop batches
/// without an ingest key:
/// <code>{"source": "&lt;registered source name&gt;", "batch": { "sentAt": "…", "events": [ … ] }}</code>
/// <c>batch</c> is exactly the HTTP request body (plain JSON, never gzip) and obeys the same limits
/// (4 MiB, 1000 events; in practice a Storage queue message is at most 64 KiB). Other top-level
/// properties are ignored; <c>source</c> and <c>batch</c> may each appear once. The source must be
/// registered (else <c>unknown_source</c>); its mini-program list applies as for a key.
/// </summary>
public static class InboundEnvelope
{
    /// <summary>Longest accepted source name.</summary>
    public const int MaxSourceLength = SourceNames.MaxLength;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = IngestLimits.MaxJsonDepth };

    /// <summary>
    /// Splits a queue message into its source and batch body (a copy of the batch's JSON bytes).
    /// False, with <paramref name="error"/> saying why, when the message is not such an envelope; the
    /// batch itself is validated later by <see cref="IngestHandler.HandleTrustedAsync"/>.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out string source, out ReadOnlyMemory<byte> body, out string error)
    {
        source = "";
        body = ReadOnlyMemory<byte>.Empty;
        error = "";
        string? foundSource = null;
        var batchStart = -1;
        var batchEnd = -1;
        if (message.StartsWith("\uFEFF"u8)) message = message[3..];
        try
        {
            var reader = new Utf8JsonReader(message, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "The inbound message must be a JSON object {\"source\": …, \"batch\": {…}}.";
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("source"u8))
                {
                    if (foundSource is not null)
                    {
                        error = "The inbound message has \"source\" twice.";
                        return false;
                    }
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = "\"source\" must be a string.";
                        return false;
                    }
                    foundSource = reader.GetString()!;
                }
                else if (reader.ValueTextEquals("batch"u8))
                {
                    if (batchStart >= 0)
                    {
                        error = "The inbound message has \"batch\" twice.";
                        return false;
                    }
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        error = "\"batch\" must be a JSON object (the same body as POST /api/v1/events).";
                        return false;
                    }
                    batchStart = (int)reader.TokenStartIndex;
                    reader.Skip();
                    batchEnd = (int)reader.BytesConsumed;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = "The inbound message has content after its JSON object.";
                return false;
            }
        }
        catch (JsonException e)
        {
            error = "The inbound message is not valid JSON: " + e.Message;
            return false;
        }
        catch (InvalidOperationException)
        {
            error = "The inbound message's source is not valid UTF-8.";
            return false;
        }

        if (foundSource is null || !SourceNames.IsValid(foundSource))
        {
            error = $"The inbound message needs a \"source\" that is a source name ({SourceNames.Rule}).";
            return false;
        }
        if (batchStart < 0)
        {
            error = "The inbound message has no \"batch\" object.";
            return false;
        }
        source = foundSource;
        body = message[batchStart..batchEnd].ToArray();
        return true;
    }
}
