using Quickenshtein;

namespace Pipeline.Core.Query;

/// <summary>
/// The nearest valid names to a misspelt one, for error messages ("did you mean users.dau?").
/// Edit distance from Quickenshtein (a maintained, allocation-free Levenshtein), plus names that
/// contain what was typed, so <c>dau</c> suggests <c>users.dau</c>.
/// </summary>
public static class NameSuggestions
{
    public static IReadOnlyList<string> Nearest(string given, IEnumerable<string> valid, int count = 3)
    {
        ArgumentNullException.ThrowIfNull(given);
        ArgumentNullException.ThrowIfNull(valid);
        var needle = given.Trim().ToLowerInvariant();
        if (needle.Length == 0) return [];
        // More than a third of the name wrong is not a typo any more.
        var maxDistance = Math.Max(2, needle.Length / 3);
        return valid
            .Distinct(StringComparer.Ordinal)
            .Select(name => (name, distance: name.Contains(needle, StringComparison.OrdinalIgnoreCase) ? 0 : Levenshtein.GetDistance(needle, name.ToLowerInvariant())))
            .Where(c => c.distance <= maxDistance)
            .OrderBy(c => c.distance).ThenBy(c => c.name.Length).ThenBy(c => c.name, StringComparer.Ordinal)
            .Take(count)
            .Select(c => c.name)
            .ToList();
    }

    /// <summary>" Did you mean a, b or c?", or "" when nothing is near.</summary>
    public static string DidYouMean(string given, IEnumerable<string> valid)
    {
        var near = Nearest(given, valid);
        return near.Count switch
        {
            0 => "",
            1 => $" Did you mean {near[0]}?",
            _ => $" Did you mean {string.Join(", ", near.Take(near.Count - 1))} or {near[^1]}?",
        };
    }
}
