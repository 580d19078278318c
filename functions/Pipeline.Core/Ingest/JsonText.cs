using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;

namespace Pipeline.Core.Ingest;

/// <summary>Small JSON helpers for validation messages and length checks.</summary>
internal static class JsonText
{
    private const int MaxEcho = 40;

    public static string KindName(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    /// <summary>A short description of a sent value for a message, echoing at most 40 characters of it. Never use it for <c>userId</c>.</summary>
    public static string Describe(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                var raw = JsonMarshal.GetRawUtf8Value(value); // with its quotes, as sent
                return "string " + Echo(raw);
            case JsonValueKind.Number:
                return Echo(JsonMarshal.GetRawUtf8Value(value));
            default:
                return KindName(value);
        }
    }

    private static string Echo(ReadOnlySpan<byte> raw)
    {
        var text = Encoding.UTF8.GetString(raw.Length > MaxEcho * 4 ? raw[..(MaxEcho * 4)] : raw);
        if (text.Length <= MaxEcho && raw.Length <= MaxEcho * 4) return text;
        var cut = MaxEcho;
        if (char.IsHighSurrogate(text[cut - 1])) cut--;
        return string.Concat(text.AsSpan(0, cut), "…");
    }

    /// <summary>
    /// UTF-16 length of a JSON string value, without allocating it unless it has escapes. Throws
    /// <see cref="InvalidOperationException"/>, as <see cref="JsonElement.GetString"/> does, when the text is
    /// not valid UTF-8 (the reader does not check the bytes inside strings).
    /// </summary>
    public static int StringLength(JsonElement value)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        raw = raw[1..^1];
        if (raw.IndexOf((byte)'\\') >= 0) return value.GetString()!.Length;
        try
        {
            return StrictUtf8.GetCharCount(raw); // one pass: counts and validates
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidOperationException("The text is not valid UTF-8.");
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Checks that a property's name is text, throwing <see cref="InvalidOperationException"/> as
    /// <see cref="JsonProperty.Name"/> does when it is not (invalid UTF-8, or a lone surrogate escape). Names
    /// that are passed through unread must be checked: a writer would store invalid bytes as U+FFFD.
    /// </summary>
    public static void RequireTextName(JsonProperty property)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.IndexOf((byte)'\\') >= 0) _ = property.Name;
        else RequireUtf8(raw);
    }

    private static void RequireUtf8(ReadOnlySpan<byte> raw)
    {
        if (!Utf8.IsValid(raw)) throw new InvalidOperationException("The text is not valid UTF-8.");
    }

    /// <summary>Cuts a text to at most <paramref name="max"/> UTF-16 units without splitting a surrogate pair.</summary>
    public static string Truncate(string text, int max)
    {
        if (text.Length <= max) return text;
        var cut = char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;
        return text[..cut];
    }
}
