using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Pipeline.Integration.Tests.Simulation;

/// <summary>
/// A small, independent reading of the ingest contract (docs/ingest-contract.md), written from the spec and not
/// from the simulator or the pipeline: given one event of a body, the rejection code it calls for,
/// or null when the event is valid.
/// </summary>
internal static partial class ContractChecker
{
    private static readonly HashSet<string> BuiltInTypes =
    [
        "session_start", "session_end", "page_view", "share", "order_paid", "order_refunded", "ad_impression", "ad_click",
        "error", "complaint", "permission_denied", "mini_program_published",
    ];

    private static readonly HashSet<string> SessionTypes = ["session_start", "session_end", "page_view", "share", "error", "ad_impression", "ad_click"];
    private static readonly HashSet<string> Platforms = ["ios", "android", "harmony", "windows", "mac", "devtools", "other"];

    [GeneratedRegex("^[A-Za-z0-9_.:-]{1,64}$")]
    private static partial Regex EventIdPattern();

    [GeneratedRegex("^custom\\.[a-z0-9_]{1,64}$")]
    private static partial Regex CustomTypePattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex MiniProgramPattern();

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyPattern();

    [GeneratedRegex("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$")]
    private static partial Regex IsoPattern();

    /// <summary>The code for <paramref name="e"/> received at <paramref name="receivedAt"/> in a body whose <c>sentAt</c> is <paramref name="sentAt"/>.</summary>
    public static string? Check(JsonElement e, DateTimeOffset sentAt, DateTimeOffset receivedAt, IReadOnlyCollection<string>? allowedMiniPrograms = null)
    {
        if (e.ValueKind != JsonValueKind.Object) return "invalid_field";
        if (e.GetRawText().Length > 32 * 1024) return "event_too_large";

        if (!e.TryGetProperty("eventId", out var id)) return "missing_field";
        if (id.ValueKind != JsonValueKind.String || !EventIdPattern().IsMatch(id.GetString()!)) return "invalid_field";

        if (!e.TryGetProperty("type", out var typeElement)) return "missing_field";
        if (typeElement.ValueKind != JsonValueKind.String) return "unknown_type";
        var type = typeElement.GetString()!;
        if (!BuiltInTypes.Contains(type) && !CustomTypePattern().IsMatch(type)) return "unknown_type";

        if (!e.TryGetProperty("timestamp", out var ts)) return "missing_field";
        DateTimeOffset timestamp;
        if (ts.ValueKind == JsonValueKind.Number)
        {
            if (!ts.TryGetInt64(out var ms)) return "invalid_field";
            timestamp = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
        else if (ts.ValueKind == JsonValueKind.String && IsoPattern().IsMatch(ts.GetString()!))
        {
            timestamp = DateTimeOffset.Parse(ts.GetString()!, CultureInfo.InvariantCulture);
        }
        else return "invalid_field";
        var corrected = receivedAt - (sentAt - timestamp);
        if (corrected > receivedAt + TimeSpan.FromMinutes(10) || corrected < receivedAt - TimeSpan.FromDays(30)) return "timestamp_out_of_range";

        if (type != "mini_program_published")
        {
            if (!e.TryGetProperty("userId", out var user)) return "missing_field";
            if (user.ValueKind != JsonValueKind.String || user.GetString()!.Length is < 1 or > 128) return "invalid_field";
        }
        if (!e.TryGetProperty("miniProgramId", out var mp)) return "missing_field";
        if (mp.ValueKind != JsonValueKind.String || !MiniProgramPattern().IsMatch(mp.GetString()!)) return "invalid_field";
        if (allowedMiniPrograms is { Count: > 0 } && !allowedMiniPrograms.Contains(mp.GetString()!)) return "forbidden_mini_program";

        if (e.TryGetProperty("sessionId", out var session))
        {
            if (session.ValueKind != JsonValueKind.String || session.GetString()!.Length == 0) return "invalid_field";
        }
        else if (SessionTypes.Contains(type)) return "missing_field";

        if (e.TryGetProperty("platform", out var platform) && (platform.ValueKind != JsonValueKind.String || !Platforms.Contains(platform.GetString()!)))
            return "invalid_field";

        JsonElement props = default;
        var hasProps = e.TryGetProperty("props", out props);
        if (hasProps && props.ValueKind != JsonValueKind.Object) return "invalid_field";
        if (hasProps && !WithinLimits(props)) return "invalid_field";
        return CheckProps(type, hasProps ? props : (JsonElement?)null);
    }

    private static bool WithinLimits(JsonElement props)
    {
        if (props.EnumerateObject().Count() > 64) return false;
        return Walk(props, 1);

        static bool Walk(JsonElement node, int depth)
        {
            switch (node.ValueKind)
            {
                case JsonValueKind.String: return node.GetString()!.Length <= 1024;
                case JsonValueKind.Object:
                    if (depth > 4) return false;
                    return node.EnumerateObject().All(p => Walk(p.Value, depth + 1));
                case JsonValueKind.Array:
                    if (depth > 4) return false;
                    return node.EnumerateArray().All(v => Walk(v, depth + 1));
                default: return true;
            }
        }
    }

    private static string? CheckProps(string type, JsonElement? props)
    {
        string? Required(string name, Func<JsonElement, bool> valid)
        {
            if (props is not { } p || !p.TryGetProperty(name, out var v)) return "missing_field";
            return valid(v) ? null : "invalid_field";
        }
        string? Optional(string name, Func<JsonElement, bool> valid)
        {
            if (props is not { } p || !p.TryGetProperty(name, out var v)) return null;
            return valid(v) ? null : "invalid_field";
        }
        bool Has(string name) => props is { } p && p.TryGetProperty(name, out _);

        static bool Integer(JsonElement v) => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out _);
        static bool NonNegative(JsonElement v) => Integer(v) && v.GetInt64() >= 0;
        static bool Positive(JsonElement v) => Integer(v) && v.GetInt64() > 0;
        static bool Text(JsonElement v) => v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0;
        static bool Currency(JsonElement v) => v.ValueKind == JsonValueKind.String && CurrencyPattern().IsMatch(v.GetString()!);
        static Func<JsonElement, bool> OneOf(params string[] values) => v => v.ValueKind == JsonValueKind.String && values.Contains(v.GetString());

        return type switch
        {
            "session_start" => Required("scene", Integer) ?? Optional("loadMs", NonNegative) ?? Optional("referrerMiniProgramId", Text),
            "session_end" => Required("durationMs", NonNegative),
            "page_view" => Required("page", v => v.ValueKind == JsonValueKind.String && v.GetString()!.Length is >= 1 and <= 256) ?? Optional("durationMs", NonNegative),
            "share" => Required("target", OneOf("chat", "group", "moments")) ?? Optional("page", Text),
            "order_paid" or "order_refunded" => Required("orderId", Text) ?? Required("amount", Positive) ?? Required("currency", Currency) ?? Required("merchantId", Text),
            "ad_impression" => Required("adUnitId", Text) ?? Optional("revenue", NonNegative) ?? (Has("revenue") ? Required("currency", Currency) : null),
            "ad_click" => Required("adUnitId", Text),
            "error" => Required("kind", OneOf("js_error", "crash", "network", "other")) ?? Optional("message", v => v.ValueKind == JsonValueKind.String),
            "complaint" => Required("reason", Text),
            "permission_denied" => Required("scope", Text),
            "mini_program_published" => Required("developerId", Text) ?? Required("version", Text) ?? Optional("category", Text),
            _ => null, // custom.<name>: anything
        };
    }
}
