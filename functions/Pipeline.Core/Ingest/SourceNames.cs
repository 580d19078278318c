namespace Pipeline.Core.Ingest;

/// <summary>
/// The one rule for the name of a source (and of a reader): 1 to 64 of lowercase letters, digits and
/// <c>-</c>. It names partitions, log fields and rate-limit settings (<c>Pipeline__RateLimit__Sources__NAME</c>),
/// so it is kept to characters that are safe in all of them. The key verbs, the inbound queue's envelope
/// and <c>import</c> all ask here.
/// </summary>
public static class SourceNames
{
    public const int MaxLength = 64;

    /// <summary>The rule in words, for error messages.</summary>
    public static readonly string Rule = $"1 to {MaxLength} of lowercase letters, digits and '-'";

    public static bool IsValid(ReadOnlySpan<char> name)
    {
        if (name.Length is 0 or > MaxLength) return false;
        foreach (var c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')) return false;
        }
        return true;
    }
}
