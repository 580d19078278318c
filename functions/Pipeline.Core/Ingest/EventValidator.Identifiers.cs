namespace Pipeline.Core.Ingest;

/// <summary>The contract's identifier rules as the validator applies them, and how values are quoted in messages.</summary>
internal sealed partial class EventValidator
{
    internal static bool IsEventId(ReadOnlySpan<char> id)
    {
        if (id.Length is 0 or > IngestLimits.MaxEventIdLength) return false;
        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or ':' or '-')) return false;
        }
        return true;
    }

    internal static bool IsMiniProgramId(ReadOnlySpan<char> id) => MiniProgramIds.IsValid(id);

    internal static bool IsCustomName(ReadOnlySpan<char> name)
    {
        if (name.Length is 0 or > IngestLimits.MaxCustomNameLength) return false;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c != '_') return false;
        }
        return true;
    }

    private static string NameForMessage(string name) => name.Length <= 64 ? name : JsonText.Truncate(name, 64) + "…";

    private static string FormatInstant(long unixMs) =>
        unixMs >= -62135596800000L && unixMs <= 253402300799999L
            ? DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture)
            : unixMs.ToString(System.Globalization.CultureInfo.InvariantCulture) + " ms";
}
