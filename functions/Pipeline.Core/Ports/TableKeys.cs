using System.Text;

namespace Pipeline.Core.Ports;

/// <summary>
/// The one rule for table keys (PartitionKey and RowKey), shared by Core's key builders
/// (<see cref="Rollup.MetricRowKeys"/>) and Storage's tables: which strings Table Storage accepts as
/// a key (<see cref="IsValid"/>), and the escaping that makes any value one (<see cref="Escape"/>).
/// </summary>
/// <remarks>
/// Table Storage forbids <c>/ \ # ?</c> and control characters in keys, and a key is at most 1 KiB
/// (512 UTF-16 units). The catalog's keys use <c>|</c> as separator and <c>%</c> as escape, so
/// <see cref="Escape"/> writes those, the forbidden characters and every control character as
/// <c>%XX</c> (upper-case hex of each UTF-8 byte); other characters, non-ASCII ones included, stay.
/// </remarks>
public static class TableKeys
{
    /// <summary>Longest key Table Storage accepts, in UTF-16 units.</summary>
    public const int MaxLength = 512;

    /// <summary>Whether Table Storage accepts the string as a key as it is (non-empty, short enough, no forbidden character).</summary>
    public static bool IsValid(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= MaxLength && value.AsSpan().IndexOfAny("/\\#?") < 0 && !value.Any(char.IsControl);

    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!NeedsEscape(value)) return value;
        var sb = new StringBuilder(value.Length + 8);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in value.EnumerateRunes())
        {
            if (rune.IsAscii && !IsReserved((char)rune.Value))
            {
                sb.Append((char)rune.Value);
                continue;
            }
            if (!rune.IsAscii && !Rune.IsControl(rune))
            {
                sb.Append(rune.ToString());
                continue;
            }
            var n = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < n; i++) sb.Append('%').Append(utf8[i].ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private static bool NeedsEscape(string value)
    {
        foreach (var c in value)
            if (IsReserved(c) || char.IsControl(c)) return true;
        return false;
    }

    private static bool IsReserved(char c) => c is '%' or '|' or '/' or '\\' or '#' or '?' || char.IsControl(c);
}
