namespace Pipeline.Core.Ingest;

/// <summary>
/// The one rule for a <c>miniProgramId</c> (events.md): 1 to 64 characters of <c>[A-Za-z0-9_-]</c>.
/// The validator, the key verbs, the simulator, the key store, the query API and the metric row keys
/// (which split a page value where its id ends) all ask here.
/// </summary>
public static class MiniProgramIds
{
    /// <summary>The rule in words, for error messages.</summary>
    public static readonly string Rule = $"1 to {IngestLimits.MaxMiniProgramIdLength} characters of A-Z, a-z, 0-9, '_' and '-'";

    public static bool IsValid(ReadOnlySpan<char> id)
    {
        if (id.Length is 0 or > IngestLimits.MaxMiniProgramIdLength) return false;
        foreach (var c in id)
        {
            if (!IsIdCharacter(c)) return false;
        }
        return true;
    }

    /// <summary>Whether the character may be in a mini-program id.</summary>
    public static bool IsIdCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-';
}
