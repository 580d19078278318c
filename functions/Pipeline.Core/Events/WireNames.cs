using System.Collections.Frozen;

namespace Pipeline.Core.Events;

/// <summary>
/// The contract's wire spellings of the event's own enums (type, platform), both ways. The enum props'
/// spellings (<c>target</c>, <c>kind</c>) are their rules in <see cref="EventProps"/>.
/// </summary>
public static class WireNames
{
    public const string CustomPrefix = "custom.";

    private static readonly (EventType Type, string Name)[] Types =
    [
        (EventType.SessionStart, "session_start"),
        (EventType.SessionEnd, "session_end"),
        (EventType.PageView, "page_view"),
        (EventType.Share, "share"),
        (EventType.OrderPaid, "order_paid"),
        (EventType.OrderRefunded, "order_refunded"),
        (EventType.AdImpression, "ad_impression"),
        (EventType.AdClick, "ad_click"),
        (EventType.Error, "error"),
        (EventType.Complaint, "complaint"),
        (EventType.PermissionDenied, "permission_denied"),
        (EventType.MiniProgramPublished, "mini_program_published"),
    ];

    private static readonly FrozenDictionary<string, EventType> TypeByName =
        Types.ToFrozenDictionary(t => t.Name, t => t.Type, StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, Platform> PlatformByName = new Dictionary<string, Platform>
    {
        ["ios"] = Platform.Ios, ["android"] = Platform.Android, ["harmony"] = Platform.Harmony,
        ["windows"] = Platform.Windows, ["mac"] = Platform.Mac, ["devtools"] = Platform.Devtools,
        ["other"] = Platform.Other,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Every built-in type name (not <c>custom.*</c>).</summary>
    public static IEnumerable<string> BuiltInTypeNames => Types.Select(t => t.Name);

    public static bool TryParseType(string name, out EventType type) => TypeByName.TryGetValue(name, out type);

    public static string TypeName(EventType type, string? customName = null) => type switch
    {
        EventType.Custom => CustomPrefix + customName,
        _ => Types.First(t => t.Type == type).Name,
    };

    public static bool TryParsePlatform(string name, out Platform platform) => PlatformByName.TryGetValue(name, out platform);

    /// <summary>Dimension value of a platform: the wire name, or <c>unknown</c>.</summary>
    public static string PlatformName(Platform platform) => platform switch
    {
        Platform.Ios => "ios", Platform.Android => "android", Platform.Harmony => "harmony",
        Platform.Windows => "windows", Platform.Mac => "mac", Platform.Devtools => "devtools",
        Platform.Other => "other", _ => "unknown",
    };
}
