using System.Globalization;

namespace Pipeline.Hosting;

/// <summary>
/// The culture both hosts run in: the invariant culture with ISO dates (<c>yyyy-MM-dd</c>,
/// <c>yyyy-MM-dd HH:mm:ss</c>), so that a day in a log line, an exception message or a CLI line reads
/// the same whatever the machine's locale (with the machine's culture a log said <c>11/23/2026</c> on one
/// machine and <c>23.11.2026</c> on another; the invariant culture alone still writes <c>11/23/2026</c>).
/// Parsing and the wire formats never depend on it: they name their format and culture explicitly.
/// </summary>
public static class HostCulture
{
    public static CultureInfo IsoInvariant { get; } = Create();

    /// <summary>Makes <see cref="IsoInvariant"/> the culture of this thread and of every thread started later.</summary>
    public static void Apply()
    {
        CultureInfo.DefaultThreadCurrentCulture = IsoInvariant;
        CultureInfo.DefaultThreadCurrentUICulture = IsoInvariant;
        CultureInfo.CurrentCulture = IsoInvariant;
        CultureInfo.CurrentUICulture = IsoInvariant;
    }

    private static CultureInfo Create()
    {
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.DateTimeFormat.ShortDatePattern = "yyyy-MM-dd";
        culture.DateTimeFormat.LongDatePattern = "yyyy-MM-dd";
        culture.DateTimeFormat.ShortTimePattern = "HH:mm";
        culture.DateTimeFormat.LongTimePattern = "HH:mm:ss";
        return CultureInfo.ReadOnly(culture);
    }
}
