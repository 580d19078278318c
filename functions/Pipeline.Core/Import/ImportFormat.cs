using System.Text.Json;
using Pipeline.Core.Ingest;

namespace Pipeline.Core.Import;

/// <summary>What an import file holds.</summary>
public enum ImportFormat
{
    /// <summary>Decide from the file's first JSON value (see <see cref="ImportFormats.Detect"/>).</summary>
    Auto,

    /// <summary>One wire-format event object per line.</summary>
    Ndjson,

    /// <summary>One JSON object with an <c>events</c> array: the body the HTTP endpoint takes, of any length.</summary>
    Batch,
}

public static class ImportFormats
{
    /// <summary>How many bytes of the (decompressed) file <see cref="Detect"/> looks at, at most.</summary>
    public const int HeadBytes = 64 * 1024;

    /// <summary>
    /// A batch file when the file's first JSON value is an object with an <c>events</c> array among its
    /// own properties (seen within <paramref name="head"/>, whether the object is on one line or
    /// pretty-printed over many); NDJSON otherwise (an event object, a line that is not JSON, an empty
    /// file, or an object whose <c>events</c> does not show within the first <see cref="HeadBytes"/>).
    /// </summary>
    /// <param name="head">The first bytes of the decompressed file.</param>
    /// <param name="wholeFile">True when <paramref name="head"/> is the whole file.</param>
    public static ImportFormat Detect(ReadOnlySpan<byte> head, bool wholeFile)
    {
        if (head.StartsWith("\uFEFF"u8)) head = head[3..];
        var reader = new Utf8JsonReader(head, wholeFile, new JsonReaderState(new JsonReaderOptions { MaxDepth = IngestLimits.MaxJsonDepth }));
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return ImportFormat.Ndjson;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0) return ImportFormat.Ndjson;
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("events"u8))
                    return reader.Read() && reader.TokenType == JsonTokenType.StartArray ? ImportFormat.Batch : ImportFormat.Ndjson;
            }
            return ImportFormat.Ndjson;
        }
        catch (JsonException)
        {
            return ImportFormat.Ndjson;
        }
    }
}
