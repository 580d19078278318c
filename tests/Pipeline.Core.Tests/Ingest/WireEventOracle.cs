using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>The family of contract rules an event broke (<see cref="None"/>: accepted).</summary>
internal enum WireRule
{
    None,
    /// <summary>The entry is not a JSON object, a name repeats in it or in its props, or <c>props</c> is not an object.</summary>
    Structure,
    /// <summary>A string the pipeline reads is not valid Unicode text (invalid UTF-8, a lone surrogate escape).</summary>
    Text,
    EventId,
    Type,
    /// <summary><c>timestamp</c> missing or not ISO-8601 with an offset nor integer Unix milliseconds.</summary>
    Timestamp,
    UserId,
    MiniProgramId,
    SessionId,
    Platform,
    /// <summary>More than 64 keys directly in <c>props</c>.</summary>
    PropCount,
    /// <summary>A string value in <c>props</c> longer than 1024 characters.</summary>
    PropStringLength,
    /// <summary><c>props</c> nested deeper than 4 levels.</summary>
    PropDepth,
    /// <summary>A prop the event's type names has a value its rule refuses.</summary>
    PropValue,
    /// <summary>A prop the event's type requires is absent (or one required together with another).</summary>
    RequiredProp,
    /// <summary>The event's JSON is over 32 KiB.</summary>
    EventSize,
    /// <summary>The corrected time is more than 10 minutes after receipt or more than 30 days before it.</summary>
    TimeWindow,
    /// <summary>The source may not write the event's mini-program.</summary>
    AllowList,
}

/// <summary>The oracle's answer for one event: accepted when <see cref="Rule"/> is <see cref="WireRule.None"/>.</summary>
internal readonly record struct WireVerdict(WireRule Rule, string Why)
{
    public bool Accepted => Rule == WireRule.None;

    public static readonly WireVerdict Accept = new(WireRule.None, "accepted");

    public override string ToString() => Rule + ": " + Why;
}

/// <summary>
/// Whether ingest must accept one event, decided from the wire contract (docs/ingest-contract.md, and the
/// hostile-input section of docs/security.md it links) and written without the product's validator,
/// parser or prop table, so that the fuzz test's "no valid event is lost" oracle is not the code under
/// test. It mirrors <see cref="StoredEventContract"/> (which re-checks the stored form) at the wire level.
/// <para>
/// The numbers are the contract's, stated here: 32 KiB per event; <c>props</c> at most 64 keys, string
/// values at most 1024 characters, nesting at most 4 deep; <c>eventId</c> 1–64 of <c>A-Z a-z 0-9 _ . : -</c>;
/// custom names 1–64 of <c>a-z 0-9 _</c>; <c>userId</c> 1–128 characters; <c>miniProgramId</c> 1–64 of
/// <c>A-Z a-z 0-9 _ -</c>; <c>page</c> 1–256 characters; corrected time from 30 days before receipt to
/// 10 minutes after it; time corrected as <c>receivedAt − (sentAt − timestamp)</c> when <c>sentAt</c> is valid.
/// </para>
/// Where the contract is silent, the product's documented decisions are followed (each noted where it is
/// used): "characters" are UTF-16 code units; identifiers the contract leaves open are 1–128 characters;
/// an "integer" is a JSON number written without fraction or exponent (a <c>scene</c> fits 32 bits, other
/// integers 64); JSON <c>null</c> is an absent field or named prop; props named only for another type are
/// unknown props there; unknown top-level fields are ignored; a name repeating anywhere in the event or its
/// props is refused; <c>currency</c> is 3 ASCII letters of any case; <c>message</c> is cut, never refused
/// for its length. Two copies of one <c>eventId</c> in a batch are both accepted: the contract counts an id
/// once downstream ("counts once, for 30 days"), it does not make ingest refuse the second copy.
/// </summary>
internal static partial class WireEventOracle
{
    private const int MaxEventBytes = 32 * 1024;
    private const int MaxProps = 64;
    private const int MaxPropString = 1024;
    private const int MaxPropsDepth = 4;
    private const int MaxUserId = 128;
    private const int MaxIdentifier = 128; // the product's documented bound for the identifiers the contract leaves open
    private const int MaxPage = 256;
    private static readonly TimeSpan MaxAhead = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan MaxBehind = TimeSpan.FromDays(30);

    private static readonly HashSet<string> BuiltInTypes =
    [
        "session_start", "session_end", "page_view", "share", "order_paid", "order_refunded", "ad_impression",
        "ad_click", "error", "complaint", "permission_denied", "mini_program_published",
    ];

    private static readonly HashSet<string> SessionTypes =
        ["session_start", "session_end", "page_view", "share", "error", "ad_impression", "ad_click"];

    private static readonly HashSet<string> Platforms = ["ios", "android", "harmony", "windows", "mac", "devtools", "other"];

    private enum Kind { Scene, NonNegative, Positive, Identifier, Page, Currency, ShareTarget, ErrorKind, Message }

    /// <summary>The contract's "Types and their props" table: each type's named props, their kind, and whether required.</summary>
    private static readonly Dictionary<string, (string Name, Kind Kind, bool Required)[]> PropsOf = new()
    {
        ["session_start"] = [("scene", Kind.Scene, true), ("loadMs", Kind.NonNegative, false), ("referrerMiniProgramId", Kind.Identifier, false)],
        ["session_end"] = [("durationMs", Kind.NonNegative, true)],
        ["page_view"] = [("page", Kind.Page, true), ("durationMs", Kind.NonNegative, false)],
        ["share"] = [("target", Kind.ShareTarget, true), ("page", Kind.Page, false)],
        ["order_paid"] = Order,
        ["order_refunded"] = Order,
        ["ad_impression"] = [("adUnitId", Kind.Identifier, true), ("revenue", Kind.NonNegative, false), ("currency", Kind.Currency, false)],
        ["ad_click"] = [("adUnitId", Kind.Identifier, true)],
        ["error"] = [("kind", Kind.ErrorKind, true), ("message", Kind.Message, false)],
        ["complaint"] = [("reason", Kind.Identifier, true)],
        ["permission_denied"] = [("scope", Kind.Identifier, true)],
        ["mini_program_published"] = [("developerId", Kind.Identifier, true), ("version", Kind.Identifier, true), ("category", Kind.Identifier, false)],
    };

    private static readonly (string Name, Kind Kind, bool Required)[] NoNamedProps = [];

    private static (string, Kind, bool)[] Order =>
        [("orderId", Kind.Identifier, true), ("amount", Kind.Positive, true), ("currency", Kind.Currency, true), ("merchantId", Kind.Identifier, true)];

    [GeneratedRegex(@"^[A-Za-z0-9_.:\-]{1,64}$")]
    private static partial Regex EventIdPattern();

    [GeneratedRegex(@"^custom\.[a-z0-9_]{1,64}$")]
    private static partial Regex CustomTypePattern();

    [GeneratedRegex(@"^[A-Za-z0-9_\-]{1,64}$")]
    private static partial Regex MiniProgramIdPattern();

    [GeneratedRegex(@"^[A-Za-z]{3}$")]
    private static partial Regex CurrencyPattern();

    /// <summary>ISO-8601 extended date and time with an explicit offset or <c>Z</c>.</summary>
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex IsoTimestampPattern();

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)$")]
    private static partial Regex IntegerPattern();

    /// <summary>
    /// The verdict on <paramref name="e"/>, one entry of a batch's <c>events</c>, sent with the batch's
    /// <paramref name="sentAt"/> (null when the batch has none) by <paramref name="source"/>, received at
    /// <paramref name="receivedAt"/>. When an event breaks several rules, the one named is the first in the
    /// order of the contract's page (the contract does not rank them; only accepted or not is compared).
    /// </summary>
    public static WireVerdict Check(JsonElement e, JsonElement? sentAt, SourceRegistration source, DateTimeOffset receivedAt)
    {
        if (e.ValueKind != JsonValueKind.Object) return new(WireRule.Structure, "not an object");

        // Names first: a repeated name (anywhere in the event or its props) is refused, so fields can be read by name.
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            if (!TryName(p, out var name)) return new(WireRule.Text, "a field name is not text");
            if (!fields.TryAdd(name, p.Value)) return new(WireRule.Structure, $"\"{name}\" repeats");
        }
        var props = Field(fields, "props");
        if (props is { ValueKind: not JsonValueKind.Object }) return new(WireRule.Structure, "props is not an object");
        if (props is { } pr)
        {
            if (RepeatedOrUnreadableName(pr) is { } nameProblem) return nameProblem;
            if (pr.EnumerateObject().Count() > MaxProps) return new(WireRule.PropCount, "more than 64 props");
        }

        // eventId
        if (Field(fields, "eventId") is not { } idElement) return new(WireRule.EventId, "missing");
        if (idElement.ValueKind != JsonValueKind.String) return new(WireRule.EventId, "not a string");
        if (!TryText(idElement, out var eventId)) return new(WireRule.Text, "eventId");
        if (!EventIdPattern().IsMatch(eventId)) return new(WireRule.EventId, $"'{eventId}'");

        // type
        if (Field(fields, "type") is not { } typeElement) return new(WireRule.Type, "missing");
        if (typeElement.ValueKind != JsonValueKind.String) return new(WireRule.Type, "not a string");
        if (!TryText(typeElement, out var type)) return new(WireRule.Text, "type");
        var custom = CustomTypePattern().IsMatch(type);
        if (!custom && !BuiltInTypes.Contains(type)) return new(WireRule.Type, $"'{type}'");

        // timestamp
        if (Field(fields, "timestamp") is not { } timestampElement) return new(WireRule.Timestamp, "missing");
        var timestamp = UnixMs(timestampElement, out var unreadable);
        if (unreadable) return new(WireRule.Text, "timestamp");
        if (timestamp is null) return new(WireRule.Timestamp, "not a contract timestamp");

        // userId: required except for mini_program_published; when sent, always 1–128 characters.
        if (Field(fields, "userId") is { } userElement)
        {
            if (userElement.ValueKind != JsonValueKind.String) return new(WireRule.UserId, "not a string");
            if (!TryText(userElement, out var userId)) return new(WireRule.Text, "userId");
            if (userId.Length is < 1 or > MaxUserId) return new(WireRule.UserId, $"{userId.Length} characters");
        }
        else if (type != "mini_program_published") return new(WireRule.UserId, "missing");

        // miniProgramId
        if (Field(fields, "miniProgramId") is not { } programElement) return new(WireRule.MiniProgramId, "missing");
        if (programElement.ValueKind != JsonValueKind.String) return new(WireRule.MiniProgramId, "not a string");
        if (!TryText(programElement, out var miniProgramId)) return new(WireRule.Text, "miniProgramId");
        if (!MiniProgramIdPattern().IsMatch(miniProgramId)) return new(WireRule.MiniProgramId, $"'{miniProgramId}'");

        // sessionId: required for the session types; optional otherwise, but valid when sent.
        if (Field(fields, "sessionId") is { } sessionElement)
        {
            if (Identifier(sessionElement) is { } problem) return problem.Rule == WireRule.Text ? problem : new(WireRule.SessionId, problem.Why);
        }
        else if (SessionTypes.Contains(type)) return new(WireRule.SessionId, "missing");

        // platform: optional, one of the contract's names.
        if (Field(fields, "platform") is { } platformElement)
        {
            if (platformElement.ValueKind != JsonValueKind.String) return new(WireRule.Platform, "not a string");
            if (!TryText(platformElement, out var platform)) return new(WireRule.Text, "platform");
            if (!Platforms.Contains(platform)) return new(WireRule.Platform, $"'{platform}'");
        }

        // props: the type's named props by their rules; every other prop by the general limits.
        var named = custom ? NoNamedProps : PropsOf[type];
        var sent = new HashSet<string>(StringComparer.Ordinal);
        if (props is { } propsObject)
        {
            foreach (var p in propsObject.EnumerateObject())
            {
                var rule = Array.FindIndex(named, n => n.Name == p.Name);
                if (rule >= 0)
                {
                    if (p.Value.ValueKind == JsonValueKind.Null) continue; // null is an absent named prop (the product's documented decision)
                    if (Named(named[rule].Kind, p.Value) is { } problem) return problem with { Why = $"props.{p.Name}: {problem.Why}" };
                    sent.Add(p.Name);
                    continue;
                }
                if (Unnamed(p.Value, depth: 2) is { } unnamedProblem) return unnamedProblem with { Why = $"props.{p.Name}: {unnamedProblem.Why}" };
            }
        }
        foreach (var (name, _, required) in named)
            if (required && !sent.Contains(name)) return new(WireRule.RequiredProp, $"props.{name} missing");
        if (type == "ad_impression" && sent.Contains("revenue") && !sent.Contains("currency"))
            return new(WireRule.RequiredProp, "props.revenue without its currency");

        // Size: the event's JSON text as sent, from its { to its }.
        var bytes = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(e).Length;
        if (bytes > MaxEventBytes) return new(WireRule.EventSize, $"{bytes} bytes");

        // Time: corrected by a valid sentAt, then the window, both ends inclusive.
        var received = receivedAt.ToUnixTimeMilliseconds();
        var sentAtMs = sentAt is { } s ? UnixMs(s, out _) : null;
        var time = sentAtMs is { } sentMs ? received - (sentMs - timestamp.Value) : timestamp.Value;
        if (time > received + (long)MaxAhead.TotalMilliseconds) return new(WireRule.TimeWindow, "too far ahead");
        if (time < received - (long)MaxBehind.TotalMilliseconds) return new(WireRule.TimeWindow, "too far behind");

        // The source's allow-list.
        if (!source.AllMiniPrograms && !source.MiniProgramIds.Contains(miniProgramId, StringComparer.Ordinal))
            return new(WireRule.AllowList, $"{source.Name} may not write {miniProgramId}");

        return WireVerdict.Accept;
    }

    /// <summary>A top-level field, or null when absent or JSON null (null is an absent field: the product's documented decision).</summary>
    private static JsonElement? Field(Dictionary<string, JsonElement> fields, string name) =>
        fields.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static WireVerdict? Named(Kind kind, JsonElement value)
    {
        switch (kind)
        {
            case Kind.Scene:
                return Integer(value) is >= int.MinValue and <= int.MaxValue ? null : new(WireRule.PropValue, "not a 32-bit integer");
            case Kind.NonNegative:
                return Integer(value) is >= 0 ? null : new(WireRule.PropValue, "not an integer >= 0");
            case Kind.Positive:
                return Integer(value) is > 0 ? null : new(WireRule.PropValue, "not an integer > 0");
            case Kind.Identifier:
                return Identifier(value) is { } problem ? problem with { Rule = problem.Rule == WireRule.Text ? WireRule.Text : WireRule.PropValue } : null;
        }
        if (value.ValueKind != JsonValueKind.String) return new(WireRule.PropValue, "not a string");
        if (!TryText(value, out var text)) return new(WireRule.Text, "not text");
        var ok = kind switch
        {
            Kind.Page => text.Length is >= 1 and <= MaxPage,
            Kind.Currency => CurrencyPattern().IsMatch(text),
            Kind.ShareTarget => text is "chat" or "group" or "moments",
            Kind.ErrorKind => text is "js_error" or "crash" or "network" or "other",
            _ => true, // message: any string, cut to 1024 characters, never refused for its length
        };
        return ok ? null : new(WireRule.PropValue, $"'{(text.Length > 40 ? text[..40] + "…" : text)}'");
    }

    /// <summary>An unnamed prop (or a value nested in one) at <paramref name="depth"/>, <c>props</c> itself being depth 1.</summary>
    private static WireVerdict? Unnamed(JsonElement value, int depth)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                if (depth > MaxPropsDepth) return new(WireRule.PropDepth, $"depth {depth}");
                foreach (var p in value.EnumerateObject())
                    if (Unnamed(p.Value, depth + 1) is { } problem) return problem;
                return null;
            case JsonValueKind.Array:
                if (depth > MaxPropsDepth) return new(WireRule.PropDepth, $"depth {depth}");
                foreach (var item in value.EnumerateArray())
                    if (Unnamed(item, depth + 1) is { } problem) return problem;
                return null;
            case JsonValueKind.String:
                if (!TryText(value, out var text)) return new(WireRule.Text, "not text");
                return text.Length > MaxPropString ? new(WireRule.PropStringLength, $"{text.Length} characters") : null;
            default:
                return null;
        }
    }

    /// <summary>The first repeated or unreadable name in <paramref name="element"/> or any object nested in it.</summary>
    private static WireVerdict? RepeatedOrUnreadableName(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var p in element.EnumerateObject())
                {
                    if (!TryName(p, out var name)) return new(WireRule.Text, "a prop name is not text");
                    if (!names.Add(name)) return new(WireRule.Structure, $"props name \"{name}\" repeats");
                    if (RepeatedOrUnreadableName(p.Value) is { } problem) return problem;
                }
                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    if (RepeatedOrUnreadableName(item) is { } problem) return problem;
                return null;
            default:
                return null;
        }
    }

    /// <summary>An identifier the contract leaves open: a string of 1 to 128 characters, any characters.</summary>
    private static WireVerdict? Identifier(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String) return new(WireRule.PropValue, "not a string");
        if (!TryText(value, out var text)) return new(WireRule.Text, "not text");
        return text.Length is >= 1 and <= MaxIdentifier ? null : new(WireRule.PropValue, $"{text.Length} characters");
    }

    /// <summary>The value of a JSON number written as an integer (no fraction, no exponent) that fits 64 bits; else null.</summary>
    private static long? Integer(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && IntegerPattern().IsMatch(value.GetRawText())
            && long.TryParse(value.GetRawText(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n
            : null;

    /// <summary>
    /// A contract timestamp in Unix milliseconds: a string in ISO-8601 with an offset or <c>Z</c>, or an
    /// integer count of Unix milliseconds (within the range of dates); null otherwise.
    /// </summary>
    private static long? UnixMs(JsonElement value, out bool unreadable)
    {
        unreadable = false;
        if (value.ValueKind == JsonValueKind.Number)
        {
            return Integer(value) is { } ms && ms >= DateTimeOffset.MinValue.ToUnixTimeMilliseconds() && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
                ? ms
                : null;
        }
        if (value.ValueKind != JsonValueKind.String) return null;
        if (!TryText(value, out var text))
        {
            unreadable = true;
            return null;
        }
        if (!IsoTimestampPattern().IsMatch(text)) return null;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed) ? parsed.ToUnixTimeMilliseconds() : null;
    }

    private static bool TryText(JsonElement value, out string text)
    {
        try
        {
            text = value.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            text = "";
            return false;
        }
    }

    private static bool TryName(JsonProperty property, out string name)
    {
        try
        {
            name = property.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            name = "";
            return false;
        }
    }
}
