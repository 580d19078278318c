using System.Runtime.InteropServices;
using System.Text.Json;

namespace Pipeline.Core.Ingest;

/// <summary>
/// Event time: parsing the contract's timestamps and the clock-skew correction (the accepted window is
/// <see cref="EventTimeRules"/>).
/// All instants are Unix milliseconds (UTC).
/// </summary>
public static class ClockSkew
{
    private static readonly long MinUnixMs = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxUnixMs = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>
    /// Reads a timestamp: a JSON string in ISO-8601 (extended format, as System.Text.Json reads it)
    /// that carries an explicit offset or <c>Z</c>, or a JSON number that is an integer count of Unix
    /// milliseconds (no fraction or exponent) within the range of <see cref="DateTimeOffset"/>.
    /// A string without an offset is refused: its meaning would depend on the server's zone.
    /// </summary>
    public static bool TryParse(JsonElement value, out long unixMs)
    {
        unixMs = 0;
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                return value.TryGetInt64(out unixMs) && unixMs >= MinUnixMs && unixMs <= MaxUnixMs;
            case JsonValueKind.String:
                if (!value.TryGetDateTimeOffset(out var instant)) return false;
                var raw = JsonMarshal.GetRawUtf8Value(value)[1..^1]; // without the quotes; no allocation
                var explicitOffset = raw.IndexOf((byte)'\\') < 0
                    ? HasExplicitOffset(raw)
                    : HasExplicitOffset(System.Text.Encoding.UTF8.GetBytes(value.GetString()!)); // escaped text: rare
                if (!explicitOffset) return false;
                unixMs = instant.ToUnixTimeMilliseconds();
                return true;
            default:
                return false;
        }
    }

    /// <summary>True when an ISO-8601 text names its offset (<c>Z</c>, <c>+hh:mm</c>, <c>-hh:mm</c>) after its time part.</summary>
    internal static bool HasExplicitOffset(ReadOnlySpan<byte> utf8)
    {
        var t = utf8.IndexOfAny((byte)'T', (byte)'t');
        if (t < 0) return false; // a date alone has no offset
        var time = utf8[(t + 1)..];
        return time.EndsWith((byte)'Z') || time.EndsWith((byte)'z') || time.IndexOfAny((byte)'+', (byte)'-') >= 0;
    }

    /// <summary>
    /// The contract's correction: <c>receivedAt - (sentAt - timestamp)</c> when the batch's
    /// <c>sentAt</c> is present and valid, else the timestamp as sent. (An unparsable <c>sentAt</c>
    /// does not fail the batch; the caller passes null and the timestamps are used as sent.)
    /// </summary>
    public static long Correct(long timestampMs, long? sentAtMs, long receivedAtMs) =>
        sentAtMs is { } sentAt ? receivedAtMs - (sentAt - timestampMs) : timestampMs;
}
