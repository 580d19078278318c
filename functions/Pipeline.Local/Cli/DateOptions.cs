using System.CommandLine;
using System.Globalization;

namespace Pipeline.Local.Cli;

internal static class DateOptions
{
    /// <summary>An option holding a reporting day as YYYY-MM-DD, with a clear parse error.</summary>
    public static Option<DateOnly?> Create(string name, string description, bool required) => new(name)
    {
        Description = description + " (YYYY-MM-DD)",
        Required = required,
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)) return day;
            result.AddError($"{name} must be a date as YYYY-MM-DD; got '{text}'.");
            return null;
        },
    };
}
