using System.Buffers;
using System.IO.Hashing;
using System.Text.Json;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;

namespace Pipeline.Core.Import;

/// <summary>Codes of lines an import rejects before validation (the validator's own codes are those of the contract).</summary>
public static class ImportCodes
{
    /// <summary>The line is not one complete JSON value (the contract's <c>invalid_json</c>, for one line instead of a body).</summary>
    public const string InvalidJson = IngestErrorCodes.InvalidJson;

    /// <summary>The line is longer than <see cref="ImportLimits.MaxItemBytes"/>; it is skipped without being read into memory.</summary>
    public const string LineTooLong = "line_too_long";
}

/// <summary>The limits of the import readers.</summary>
public static class ImportLimits
{
    /// <summary>
    /// Longest line of NDJSON, or event of a batch file, that is read (64 KiB: twice the contract's
    /// largest event, so that an event the validator would accept always fits, whatever whitespace
    /// surrounds it, and one between 32 and 64 KiB is rejected by the validator as <c>event_too_large</c>).
    /// </summary>
    public const int MaxItemBytes = 2 * IngestLimits.MaxEventBytes;
}

/// <summary>Something an import reader found: an event to validate, or a line rejected before validation.</summary>
/// <param name="Line">1-based line of the file where it starts.</param>
/// <param name="Ordinal">Its 0-based position in the batch file's <c>events</c>; -1 for NDJSON.</param>
/// <param name="Json">The event's JSON text (valid only until the reader's next read).</param>
/// <param name="IdHash">Hash of its <c>eventId</c> string (0 when it has none), for counting duplicates within the file.</param>
internal readonly record struct ImportItem(long Line, int Ordinal, ReadOnlyMemory<byte> Json, ulong IdHash, string? Code, string? Message)
{
    public bool IsRejected => Code is not null;

    public static ImportItem Event(long line, int ordinal, ReadOnlyMemory<byte> json, ulong idHash) => new(line, ordinal, json, idHash, null, null);

    public static ImportItem Rejected(long line, int ordinal, string code, string message) => new(line, ordinal, default, 0, code, message);
}

/// <summary>A reader of one import format: events in file order, and rejections of what is not an event.</summary>
internal interface IImportReader
{
    /// <summary>The next item; false at the end of the file. Throws <see cref="ImportFileException"/> when the file cannot be read further.</summary>
    bool TryRead(out ImportItem item);
}

/// <summary>The file as a whole cannot be read further (a batch file that is not valid JSON, a corrupt gzip stream).</summary>
public sealed class ImportFileException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Checks that a text is one JSON value, as one entry of a body's <c>events</c> would be, and finds its <c>eventId</c>.</summary>
internal static class ImportScan
{
    /// <summary>
    /// An entry of <c>events</c> sits two levels below the body's root (the root object, the array), so a
    /// value that passes with this depth never makes a whole batch <c>invalid_json</c>.
    /// </summary>
    private static readonly JsonReaderOptions Options = new() { MaxDepth = IngestLimits.MaxJsonDepth - 2 };

    /// <summary>
    /// Null when <paramref name="json"/> is exactly one JSON object (surrounding whitespace allowed), else the
    /// code and message of its rejection. <paramref name="blank"/> is true (and the result null) for a text of
    /// whitespace only. <paramref name="idHash"/> is the hash of its top-level <c>eventId</c> string, or 0.
    /// </summary>
    public static (string Code, string Message)? Check(ReadOnlySpan<byte> json, string what, out bool blank, out ulong idHash)
    {
        blank = false;
        idHash = 0;
        if (json.Trim(" \t\r\n"u8).IsEmpty)
        {
            blank = true;
            return null;
        }
        var reader = new Utf8JsonReader(json, isFinalBlock: true, new JsonReaderState(Options));
        try
        {
            reader.Read(); // there is a token: the text is not blank
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                var kind = reader.TokenType switch
                {
                    JsonTokenType.StartArray => "an array",
                    JsonTokenType.String => "a string",
                    JsonTokenType.Number => "a number",
                    JsonTokenType.True or JsonTokenType.False => "a boolean",
                    _ => "null",
                };
                reader.Skip();
                while (reader.Read()) { } // a second value is invalid JSON, reported as such
                return (RejectionCodes.InvalidField, $"{what} must be one JSON object (an event); got {kind}.");
            }
            while (reader.Read())
            {
                if (idHash == 0 && reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("eventId"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) idHash = HashOf(ref reader);
                    else reader.Skip();
                }
            }
            return null;
        }
        catch (JsonException e)
        {
            idHash = 0;
            return (ImportCodes.InvalidJson, $"{what} is not valid JSON: {Describe(e)}");
        }
    }

    private static ulong HashOf(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped) return Nonzero(XxHash3.HashToUInt64(reader.ValueSpan));
        var buffer = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
        try
        {
            var n = reader.CopyString(buffer);
            return Nonzero(XxHash3.HashToUInt64(buffer.AsSpan(0, n)));
        }
        catch (InvalidOperationException)
        {
            return 0; // not valid UTF-8: the validator rejects the event
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ulong Nonzero(ulong hash) => hash == 0 ? 1 : hash;

    /// <summary>The reader's message without its position suffix (the caller names the line), plus the byte position.</summary>
    internal static string Describe(JsonException e, bool withPosition = true)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut].TrimEnd();
        if (message.EndsWith('.')) message = message[..^1];
        return withPosition && e.BytePositionInLine is { } position ? $"{message} (at byte {position + 1})." : message + ".";
    }
}
