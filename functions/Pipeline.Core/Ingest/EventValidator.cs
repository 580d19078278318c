using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Ingest;

/// <summary>The outcome of one event: accepted (<see cref="Event"/>) or rejected (<see cref="Rejection"/> and the sanitised JSON for operators).</summary>
public readonly record struct EventOutcome(PipelineEvent? Event, Rejection? Rejection, string? RejectedJson);

/// <summary>
/// Validates one event of a batch and builds the accepted <see cref="PipelineEvent"/>. Only the
/// first problem of an event is reported, checking in this order:
/// <list type="number">
/// <item>structure: the entry is a JSON object; no property name repeats in it; <c>props</c>, when
/// present, is an object of at most 64 keys with no repeated name (all <c>invalid_field</c>);</item>
/// <item><c>eventId</c>, <c>type</c> (<c>unknown_type</c> for an unknown one), <c>timestamp</c>,
/// <c>userId</c>, <c>miniProgramId</c>, <c>sessionId</c>, <c>platform</c>;</item>
/// <item>props in document order (named props by their rules; unknown props: string values at most
/// 1024 characters, nesting at most 4), then the type's required props in the contract's order;</item>
/// <item>size (<c>event_too_large</c>), then the time window (<c>timestamp_out_of_range</c>), then
/// whether the source may write the mini-program (<c>forbidden_mini_program</c>).</item>
/// </list>
/// A JSON <c>null</c> is treated as an absent field or named prop (so a required one is
/// <c>missing_field</c>); an unknown prop whose value is null is kept. Unknown top-level fields are
/// ignored (forward compatibility) but may not repeat. Not thread-safe: one instance per batch, so
/// its buffers are reused from event to event.
/// </summary>
internal sealed class EventValidator
{
    private const int EventIdField = 0, TypeField = 1, TimestampField = 2, UserIdField = 3, MiniProgramIdField = 4,
        SessionIdField = 5, PlatformField = 6, PropsField = 7, FieldCount = 8;

    private static readonly string[] FieldNames = ["eventId", "type", "timestamp", "userId", "miniProgramId", "sessionId", "platform", "props"];

    /// <summary>Stored JSON (extra props, rejected events) keeps non-ASCII text readable; it is never embedded in HTML.</summary>
    private static readonly JsonWriterOptions StoredJsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly UserPseudonymizer _pseudonymizer;
    private readonly SourceRegistration _source;
    private readonly long _receivedAtMs;
    private readonly long? _sentAtMs;
    private readonly EventTimeRules _timeRules;
    private readonly JsonElement[] _fields = new JsonElement[FieldCount];
    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _writer;
    private HashSet<string>? _names;
    // userId -> pseudonym within this batch: a batch holds a few events per user, each HMAC computed once.
    private readonly Dictionary<string, string> _pseudonyms = new(StringComparer.Ordinal);
    private string? _eventId; // of the event being validated, once known valid: reported with its rejection

    /// <param name="sentAtMs">The batch's valid <c>sentAt</c>; ignored unless <paramref name="timeRules"/> correct clock skew.</param>
    public EventValidator(UserPseudonymizer pseudonymizer, SourceRegistration source, long receivedAtMs, long? sentAtMs, EventTimeRules timeRules)
    {
        _pseudonymizer = pseudonymizer;
        _source = source;
        _receivedAtMs = receivedAtMs;
        _timeRules = timeRules;
        _sentAtMs = timeRules.CorrectClockSkew ? sentAtMs : null;
        _writer = new Utf8JsonWriter(_buffer, StoredJsonOptions);
    }

    public EventOutcome Validate(JsonElement element, int index)
    {
        PipelineEvent? accepted;
        Failure failure;
        _eventId = null;
        try
        {
            accepted = TryBuild(element, index, out failure);
        }
        catch (InvalidOperationException)
        {
            // JsonElement.GetString throws on invalid UTF-8; the reader does not check it up front.
            accepted = null;
            failure = new(RejectionCodes.InvalidField, "The event contains text that is not valid UTF-8.");
        }
        return accepted is not null
            ? new EventOutcome(accepted, null, null)
            : new EventOutcome(null, new Rejection(index, _eventId, failure.Code, failure.Message), Sanitise(element));
    }

    private readonly record struct Failure(string Code, string Message);

    private static Failure Invalid(string message) => new(RejectionCodes.InvalidField, message);

    private static Failure Missing(string message) => new(RejectionCodes.MissingField, message);

    private bool Present(uint seen, int field) => (seen & (1u << field)) != 0 && _fields[field].ValueKind != JsonValueKind.Null;

    private PipelineEvent? TryBuild(JsonElement element, int index, out Failure failure)
    {
        failure = default;
        if (element.ValueKind != JsonValueKind.Object)
        {
            failure = Invalid($"events[{index}] must be a JSON object; got {JsonText.KindName(element)}.");
            return null;
        }

        // 1. Structure.
        uint seen = 0;
        string? duplicate = null;
        _names?.Clear();
        foreach (var property in element.EnumerateObject())
        {
            var field = FieldOf(property);
            if (field >= 0)
            {
                if ((seen & (1u << field)) != 0)
                {
                    duplicate ??= FieldNames[field];
                    continue;
                }
                seen |= 1u << field;
                _fields[field] = property.Value;
            }
            else if (!(_names ??= new(StringComparer.Ordinal)).Add(property.Name))
            {
                duplicate ??= property.Name;
            }
        }

        // Report the id with any rejection as soon as it is usable.
        if (Present(seen, EventIdField) && duplicate != FieldNames[EventIdField]
            && _fields[EventIdField].ValueKind == JsonValueKind.String)
        {
            var id = _fields[EventIdField].GetString()!;
            if (IsEventId(id)) _eventId = id;
        }

        if (duplicate is not null)
        {
            failure = Invalid($"The event has the property \"{NameForMessage(duplicate)}\" more than once.");
            return null;
        }

        var hasProps = Present(seen, PropsField);
        var props = _fields[PropsField];
        if (hasProps)
        {
            if (props.ValueKind != JsonValueKind.Object)
            {
                failure = Invalid($"props must be a JSON object; got {JsonText.KindName(props)}.");
                return null;
            }
            var keys = CountProperties(props, IngestLimits.MaxProps + 1);
            if (keys > IngestLimits.MaxProps)
            {
                failure = Invalid($"props has more than {IngestLimits.MaxProps} keys; at most {IngestLimits.MaxProps} are allowed.");
                return null;
            }
            if (FindDuplicateName(props) is { } repeated)
            {
                failure = Invalid($"props has the property \"{NameForMessage(repeated)}\" more than once.");
                return null;
            }
        }

        // 2. Common fields.
        if (!Present(seen, EventIdField))
        {
            failure = Missing("eventId is required.");
            return null;
        }
        if (_eventId is not { } eventId)
        {
            failure = Invalid($"eventId must be 1 to {IngestLimits.MaxEventIdLength} characters of [A-Za-z0-9_.:-]; got {JsonText.Describe(_fields[EventIdField])}.");
            return null;
        }

        if (!Present(seen, TypeField))
        {
            failure = Missing("type is required.");
            return null;
        }
        var typeElement = _fields[TypeField];
        if (typeElement.ValueKind != JsonValueKind.String)
        {
            failure = Invalid($"type must be a string; got {JsonText.Describe(typeElement)}.");
            return null;
        }
        var typeName = typeElement.GetString()!;
        EventType type;
        string? customName = null;
        if (typeName.StartsWith(WireNames.CustomPrefix, StringComparison.Ordinal))
        {
            customName = typeName[WireNames.CustomPrefix.Length..];
            if (!IsCustomName(customName))
            {
                failure = new(RejectionCodes.UnknownType,
                    $"type {JsonText.Describe(typeElement)} is not a known type: a custom type is custom.<name> with a name of 1 to {IngestLimits.MaxCustomNameLength} of [a-z0-9_].");
                return null;
            }
            type = EventType.Custom;
        }
        else if (!WireNames.TryParseType(typeName, out type))
        {
            failure = new(RejectionCodes.UnknownType, $"type {JsonText.Describe(typeElement)} is not a known type.");
            return null;
        }

        if (!Present(seen, TimestampField))
        {
            failure = Missing("timestamp is required.");
            return null;
        }
        if (!ClockSkew.TryParse(_fields[TimestampField], out var timestampMs))
        {
            failure = Invalid($"timestamp must be ISO-8601 with an offset or Z, or integer Unix milliseconds; got {JsonText.Describe(_fields[TimestampField])}.");
            return null;
        }

        string? userId = null;
        if (Present(seen, UserIdField))
        {
            // Never echo the value: it is personal data.
            var userElement = _fields[UserIdField];
            if (userElement.ValueKind != JsonValueKind.String)
            {
                failure = Invalid($"userId must be a string of 1 to {IngestLimits.MaxUserIdLength} characters; got {JsonText.KindName(userElement)}.");
                return null;
            }
            userId = userElement.GetString()!;
            if (userId.Length is 0 or > IngestLimits.MaxUserIdLength)
            {
                failure = Invalid($"userId must be 1 to {IngestLimits.MaxUserIdLength} characters; got {userId.Length}.");
                return null;
            }
        }
        else if (type != EventType.MiniProgramPublished)
        {
            failure = Missing($"userId is required for {typeName}.");
            return null;
        }

        if (!Present(seen, MiniProgramIdField))
        {
            failure = Missing("miniProgramId is required.");
            return null;
        }
        var programElement = _fields[MiniProgramIdField];
        var miniProgramId = programElement.ValueKind == JsonValueKind.String ? programElement.GetString()! : null;
        if (miniProgramId is null || !IsMiniProgramId(miniProgramId))
        {
            failure = Invalid($"miniProgramId must be 1 to {IngestLimits.MaxMiniProgramIdLength} characters of [A-Za-z0-9_-]; got {JsonText.Describe(programElement)}.");
            return null;
        }

        string? sessionId = null;
        if (Present(seen, SessionIdField))
        {
            var sessionElement = _fields[SessionIdField];
            sessionId = sessionElement.ValueKind == JsonValueKind.String ? sessionElement.GetString()! : null;
            if (sessionId is null || sessionId.Length is 0 or > IngestLimits.MaxIdentifierLength)
            {
                failure = Invalid($"sessionId must be a string of 1 to {IngestLimits.MaxIdentifierLength} characters; got {DescribeText(sessionElement)}.");
                return null;
            }
        }
        else if (RequiresSession(type))
        {
            failure = Missing($"sessionId is required for {typeName}.");
            return null;
        }

        var platform = Platform.Unknown;
        if (Present(seen, PlatformField))
        {
            var platformElement = _fields[PlatformField];
            if (platformElement.ValueKind != JsonValueKind.String || !WireNames.TryParsePlatform(platformElement.GetString()!, out platform))
            {
                failure = Invalid($"platform must be one of ios, android, harmony, windows, mac, devtools, other; got {JsonText.Describe(platformElement)}.");
                return null;
            }
        }

        // 3. Props.
        var values = new PropValues();
        if (!ReadProps(type, typeName, hasProps, props, ref values, out var extraProps, out failure)) return null;

        // 4. Size, time window, authorisation.
        var size = JsonMarshal.GetRawUtf8Value(element).Length;
        if (size > IngestLimits.MaxEventBytes)
        {
            failure = new(RejectionCodes.EventTooLarge, $"The event is {size} bytes of JSON; at most {IngestLimits.MaxEventBytes} are allowed.");
            return null;
        }

        var corrected = ClockSkew.Correct(timestampMs, _sentAtMs, _receivedAtMs);
        if (!_timeRules.Accepts(corrected, _receivedAtMs))
        {
            var ahead = corrected > _receivedAtMs;
            var timestamp = $"timestamp{(_sentAtMs is null ? "" : " corrected for clock skew")} is {FormatInstant(corrected)}";
            failure = new(RejectionCodes.TimestampOutOfRange, !ahead && _timeRules.ExtendsHistory(_receivedAtMs)
                ? $"{timestamp}, before {FormatInstant(_timeRules.OldestAcceptedMs(_receivedAtMs))}, the oldest time accepted as history."
                : $"{timestamp}, more than " + (ahead ? "10 minutes ahead of" : "30 days behind")
                    + $" the time the batch was received ({FormatInstant(_receivedAtMs)}).");
            return null;
        }

        if (!_source.Allows(miniProgramId))
        {
            failure = new(RejectionCodes.ForbiddenMiniProgram, $"The source '{_source.Name}' may not send events for miniProgramId \"{miniProgramId}\".");
            return null;
        }

        return new PipelineEvent
        {
            EventId = eventId,
            Type = type,
            CustomName = customName,
            TimeMs = corrected,
            UserKey = userId is null ? null : PseudonymOfUser(userId),
            MiniProgramId = miniProgramId,
            SessionId = sessionId,
            Platform = platform,
            Scene = values.Scene,
            LoadMs = values.LoadMs,
            ReferrerMiniProgramId = values.ReferrerMiniProgramId,
            DurationMs = values.DurationMs,
            Page = values.Page,
            ShareTarget = values.ShareTarget,
            OrderId = values.OrderId,
            Amount = values.Amount,
            Currency = values.Currency,
            MerchantId = values.MerchantId,
            AdUnitId = values.AdUnitId,
            Revenue = values.Revenue,
            ErrorKind = values.ErrorKind,
            Message = values.Message,
            Reason = values.Reason,
            Scope = values.Scope,
            DeveloperId = values.DeveloperId,
            Version = values.Version,
            Category = values.Category,
            ExtraProps = extraProps,
        };
    }

    private static int FieldOf(JsonProperty property)
    {
        if (property.NameEquals("eventId"u8)) return EventIdField;
        if (property.NameEquals("type"u8)) return TypeField;
        if (property.NameEquals("timestamp"u8)) return TimestampField;
        if (property.NameEquals("userId"u8)) return UserIdField;
        if (property.NameEquals("miniProgramId"u8)) return MiniProgramIdField;
        if (property.NameEquals("sessionId"u8)) return SessionIdField;
        if (property.NameEquals("platform"u8)) return PlatformField;
        if (property.NameEquals("props"u8)) return PropsField;
        return -1;
    }

    private static bool RequiresSession(EventType type) => type is EventType.SessionStart or EventType.SessionEnd
        or EventType.PageView or EventType.Share or EventType.Error or EventType.AdImpression or EventType.AdClick;

    // ---- props ----

    private bool ReadProps(EventType type, string typeName, bool hasProps, JsonElement props, ref PropValues values,
        out string? extraProps, out Failure failure)
    {
        extraProps = null;
        failure = default;
        var specs = PropSpec.ForType(type);
        uint present = 0;
        var writingExtra = false;
        if (hasProps)
        {
            foreach (var property in props.EnumerateObject())
            {
                var spec = PropSpec.Match(specs, property);
                if (spec >= 0)
                {
                    if (property.Value.ValueKind == JsonValueKind.Null) continue; // as if absent
                    if (ReadNamed(specs[spec], property.Value, ref values) is { } error)
                    {
                        failure = Invalid(error + ".");
                        return false;
                    }
                    present |= 1u << spec;
                    continue;
                }

                if (CheckUnknown(property) is { } problem)
                {
                    failure = Invalid(problem + ".");
                    return false;
                }
                if (!writingExtra)
                {
                    _buffer.ResetWrittenCount();
                    _writer.Reset(_buffer);
                    _writer.WriteStartObject();
                    writingExtra = true;
                }
                property.WriteTo(_writer);
            }
        }

        for (var i = 0; i < specs.Length; i++)
        {
            if (specs[i].Required && (present & (1u << i)) == 0)
            {
                failure = Missing($"props.{specs[i].Name} is required for {typeName}.");
                return false;
            }
        }
        if (type == EventType.AdImpression && values.Revenue is not null && values.Currency is null)
        {
            failure = Missing("props.currency is required when props.revenue is present.");
            return false;
        }

        if (writingExtra)
        {
            _writer.WriteEndObject();
            _writer.Flush();
            extraProps = Encoding.UTF8.GetString(_buffer.WrittenSpan);
        }
        return true;
    }

    private static string? ReadNamed(PropSpec spec, JsonElement value, ref PropValues values)
    {
        switch (spec.Field)
        {
            case PropField.Scene:
                if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var scene))
                {
                    values.Scene = scene;
                    return null;
                }
                return $"props.scene must be an integer entry-scene code; got {JsonText.Describe(value)}";
            case PropField.LoadMs:
                return ReadInteger(value, "props.loadMs", 0, "an integer >= 0 (milliseconds)", out values.LoadMs);
            case PropField.DurationMs:
                return ReadInteger(value, "props.durationMs", 0, "an integer >= 0 (milliseconds)", out values.DurationMs);
            case PropField.Amount:
                return ReadInteger(value, "props.amount", 1, "an integer > 0 (minor units)", out values.Amount);
            case PropField.Revenue:
                return ReadInteger(value, "props.revenue", 0, "an integer >= 0 (minor units)", out values.Revenue);
            case PropField.Page:
                return ReadText(value, "props.page", IngestLimits.MaxPageLength, out values.Page);
            case PropField.ReferrerMiniProgramId:
                return ReadText(value, "props.referrerMiniProgramId", IngestLimits.MaxIdentifierLength, out values.ReferrerMiniProgramId);
            case PropField.OrderId:
                return ReadText(value, "props.orderId", IngestLimits.MaxIdentifierLength, out values.OrderId);
            case PropField.MerchantId:
                return ReadText(value, "props.merchantId", IngestLimits.MaxIdentifierLength, out values.MerchantId);
            case PropField.AdUnitId:
                return ReadText(value, "props.adUnitId", IngestLimits.MaxIdentifierLength, out values.AdUnitId);
            case PropField.Reason:
                return ReadText(value, "props.reason", IngestLimits.MaxIdentifierLength, out values.Reason);
            case PropField.Scope:
                return ReadText(value, "props.scope", IngestLimits.MaxIdentifierLength, out values.Scope);
            case PropField.DeveloperId:
                return ReadText(value, "props.developerId", IngestLimits.MaxIdentifierLength, out values.DeveloperId);
            case PropField.Version:
                return ReadText(value, "props.version", IngestLimits.MaxIdentifierLength, out values.Version);
            case PropField.Category:
                return ReadText(value, "props.category", IngestLimits.MaxIdentifierLength, out values.Category);
            case PropField.Currency:
                if (value.ValueKind == JsonValueKind.String && NormaliseCurrency(value.GetString()!) is { } currency)
                {
                    values.Currency = currency;
                    return null;
                }
                return $"props.currency must be a 3-letter ISO-4217 code; got {JsonText.Describe(value)}";
            case PropField.Target:
                if (value.ValueKind == JsonValueKind.String && WireNames.TryParseShareTarget(value.GetString()!, out var target))
                {
                    values.ShareTarget = target;
                    return null;
                }
                return $"props.target must be one of chat, group, moments; got {JsonText.Describe(value)}";
            case PropField.Kind:
                if (value.ValueKind == JsonValueKind.String && WireNames.TryParseErrorKind(value.GetString()!, out var kind))
                {
                    values.ErrorKind = kind;
                    return null;
                }
                return $"props.kind must be one of js_error, crash, network, other; got {JsonText.Describe(value)}";
            case PropField.Message:
                if (value.ValueKind == JsonValueKind.String)
                {
                    // Truncated, never rejected: the contract keeps error events whatever their message.
                    values.Message = JsonText.Truncate(value.GetString()!, IngestLimits.MaxErrorMessageLength);
                    return null;
                }
                return $"props.message must be a string; got {JsonText.Describe(value)}";
            default:
                throw new InvalidOperationException($"No rule for prop {spec.Field}.");
        }
    }

    private static string? ReadInteger(JsonElement value, string name, long min, string rule, out long? result)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= min)
        {
            result = number;
            return null;
        }
        result = null;
        return $"{name} must be {rule}; got {JsonText.Describe(value)}";
    }

    private static string? ReadText(JsonElement value, string name, int max, out string? result)
    {
        result = null;
        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString()!;
            if (text.Length is > 0 && text.Length <= max)
            {
                result = text;
                return null;
            }
        }
        return $"{name} must be a string of 1 to {max} characters; got {DescribeText(value)}";
    }

    /// <summary>A value for a length message: strings by their length (an empty or huge string echoes badly).</summary>
    private static string DescribeText(JsonElement value) => value.ValueKind != JsonValueKind.String
        ? JsonText.Describe(value)
        : JsonText.StringLength(value) switch
        {
            0 => "an empty string",
            var n => $"a string of {n} characters",
        };

    private static string? NormaliseCurrency(string text)
    {
        if (text.Length != IngestLimits.CurrencyLength) return null;
        foreach (var c in text)
        {
            if (!char.IsAsciiLetter(c)) return null;
        }
        foreach (var c in text)
        {
            if (char.IsAsciiLetterLower(c)) return text.ToUpperInvariant();
        }
        return text;
    }

    /// <summary>Rules every unknown prop obeys: string values at most 1024 characters, containers at most depth 4.</summary>
    private string? CheckUnknown(JsonProperty property)
    {
        var value = property.Value;
        return value.ValueKind switch
        {
            JsonValueKind.String => JsonText.StringLength(value) is var n && n > IngestLimits.MaxPropStringLength
                ? $"props.{NameForMessage(property.Name)} is {n} characters; string values in props are at most {IngestLimits.MaxPropStringLength}"
                : null,
            JsonValueKind.Object or JsonValueKind.Array => CheckContainer(value, 2, property),
            _ => null,
        };
    }

    /// <summary>Checks a container at <paramref name="depth"/> (props itself is depth 1) and everything inside it.</summary>
    private string? CheckContainer(JsonElement container, int depth, JsonProperty top)
    {
        if (depth > IngestLimits.MaxPropsDepth)
            return $"props.{NameForMessage(top.Name)} nests deeper than {IngestLimits.MaxPropsDepth} levels (props itself is level 1)";
        if (container.ValueKind == JsonValueKind.Object)
        {
            if (FindDuplicateName(container) is { } repeated)
                return $"props.{NameForMessage(top.Name)} has an object with the property \"{NameForMessage(repeated)}\" more than once";
            foreach (var inner in container.EnumerateObject())
            {
                if (CheckNested(inner.Value, depth, top) is { } problem) return problem;
            }
        }
        else
        {
            foreach (var item in container.EnumerateArray())
            {
                if (CheckNested(item, depth, top) is { } problem) return problem;
            }
        }
        return null;
    }

    private string? CheckNested(JsonElement value, int parentDepth, JsonProperty top) => value.ValueKind switch
    {
        JsonValueKind.String => JsonText.StringLength(value) is var n && n > IngestLimits.MaxPropStringLength
            ? $"props.{NameForMessage(top.Name)} contains a string of {n} characters; string values in props are at most {IngestLimits.MaxPropStringLength}"
            : null,
        JsonValueKind.Object or JsonValueKind.Array => CheckContainer(value, parentDepth + 1, top),
        _ => null,
    };

    private static int CountProperties(JsonElement obj, int stopAt)
    {
        var count = 0;
        foreach (var _ in obj.EnumerateObject())
        {
            if (++count >= stopAt) break;
        }
        return count;
    }

    /// <summary>
    /// The first name that repeats in an object, or null. Small objects (the common case) are
    /// compared pairwise on raw UTF-8 names without allocating; large ones, and names with escapes
    /// (so that <c>"a"</c> and <c>"\u0061"</c> count as the same name), go through a set of strings.
    /// </summary>
    private static string? FindDuplicateName(JsonElement obj)
    {
        const int PairwiseLimit = 16;
        var count = CountProperties(obj, PairwiseLimit + 1);
        if (count <= 1) return null;
        if (count <= PairwiseLimit)
        {
            var i = 0;
            var escaped = false;
            foreach (var property in obj.EnumerateObject())
            {
                var name = JsonMarshal.GetRawUtf8PropertyName(property);
                if (name.IndexOf((byte)'\\') >= 0)
                {
                    escaped = true;
                    break;
                }
                var j = 0;
                foreach (var earlier in obj.EnumerateObject())
                {
                    if (j++ == i) break;
                    if (name.SequenceEqual(JsonMarshal.GetRawUtf8PropertyName(earlier))) return property.Name;
                }
                i++;
            }
            if (!escaped) return null;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in obj.EnumerateObject())
        {
            if (!names.Add(property.Name)) return property.Name;
        }
        return null;
    }

    // ---- identifiers ----

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

    // ---- rejected events for operators ----

    /// <summary>
    /// The rejected event as sent, except that every top-level <c>userId</c> (whatever its JSON type)
    /// is replaced by its pseudonym. Null when the entry is not an object or cannot be re-written.
    /// </summary>
    private string? Sanitise(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object) return null;
        try
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            _writer.WriteStartObject();
            foreach (var property in element.EnumerateObject())
            {
                _writer.WritePropertyName(property.Name);
                if (property.NameEquals("userId"u8) && property.Value.ValueKind != JsonValueKind.Null)
                    _writer.WriteStringValue(PseudonymOf(property.Value));
                else
                    _writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(property.Value), skipInputValidation: true);
            }
            _writer.WriteEndObject();
            _writer.Flush();
            return Encoding.UTF8.GetString(_buffer.WrittenSpan);
        }
        catch (InvalidOperationException)
        {
            return null; // a property name that is not valid UTF-8
        }
    }

    /// <summary>The pseudonym of a <c>userId</c>, hashed once per batch.</summary>
    private string PseudonymOfUser(string userId)
    {
        ref var pseudonym = ref CollectionsMarshal.GetValueRefOrAddDefault(_pseudonyms, userId, out _);
        return pseudonym ??= _pseudonymizer.Pseudonymize(userId);
    }

    private string PseudonymOf(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            try
            {
                return PseudonymOfUser(value.GetString()!); // same pseudonym as an accepted event would carry
            }
            catch (InvalidOperationException)
            {
                // not valid UTF-8: hash the bytes as sent
            }
        }
        return _pseudonymizer.Pseudonymize(JsonMarshal.GetRawUtf8Value(value));
    }

    // ---- the contract's named props ----

    private enum PropField : byte
    {
        Scene, LoadMs, ReferrerMiniProgramId, DurationMs, Page, Target, OrderId, Amount, Currency, MerchantId,
        AdUnitId, Revenue, Kind, Message, Reason, Scope, DeveloperId, Version, Category,
    }

    private struct PropValues
    {
        public int? Scene;
        public long? LoadMs;
        public string? ReferrerMiniProgramId;
        public long? DurationMs;
        public string? Page;
        public ShareTarget ShareTarget;
        public string? OrderId;
        public long? Amount;
        public string? Currency;
        public string? MerchantId;
        public string? AdUnitId;
        public long? Revenue;
        public ErrorKind ErrorKind;
        public string? Message;
        public string? Reason;
        public string? Scope;
        public string? DeveloperId;
        public string? Version;
        public string? Category;
    }

    /// <summary>A prop the contract names for a type, in the contract's table order (the order missing ones are reported).</summary>
    private sealed class PropSpec(PropField field, string name, bool required)
    {
        public PropField Field { get; } = field;
        public string Name { get; } = name;
        public byte[] Utf8Name { get; } = Encoding.UTF8.GetBytes(name);
        public bool Required { get; } = required;

        private static readonly PropSpec[][] ByType = Build();

        public static PropSpec[] ForType(EventType type) => ByType[(int)type];

        public static int Match(PropSpec[] specs, JsonProperty property)
        {
            for (var i = 0; i < specs.Length; i++)
            {
                if (property.NameEquals(specs[i].Utf8Name)) return i;
            }
            return -1;
        }

        private static PropSpec[][] Build()
        {
            static PropSpec R(PropField f, string n) => new(f, n, true);
            static PropSpec O(PropField f, string n) => new(f, n, false);
            var byType = new PropSpec[(int)EventType.Custom + 1][];
            Array.Fill(byType, []);
            byType[(int)EventType.SessionStart] = [R(PropField.Scene, "scene"), O(PropField.LoadMs, "loadMs"), O(PropField.ReferrerMiniProgramId, "referrerMiniProgramId")];
            byType[(int)EventType.SessionEnd] = [R(PropField.DurationMs, "durationMs")];
            byType[(int)EventType.PageView] = [R(PropField.Page, "page"), O(PropField.DurationMs, "durationMs")];
            byType[(int)EventType.Share] = [R(PropField.Target, "target"), O(PropField.Page, "page")];
            byType[(int)EventType.OrderPaid] = [R(PropField.OrderId, "orderId"), R(PropField.Amount, "amount"), R(PropField.Currency, "currency"), R(PropField.MerchantId, "merchantId")];
            byType[(int)EventType.OrderRefunded] = [R(PropField.OrderId, "orderId"), R(PropField.Amount, "amount"), R(PropField.Currency, "currency"), R(PropField.MerchantId, "merchantId")];
            byType[(int)EventType.AdImpression] = [R(PropField.AdUnitId, "adUnitId"), O(PropField.Revenue, "revenue"), O(PropField.Currency, "currency")];
            byType[(int)EventType.AdClick] = [R(PropField.AdUnitId, "adUnitId")];
            byType[(int)EventType.Error] = [R(PropField.Kind, "kind"), O(PropField.Message, "message")];
            byType[(int)EventType.Complaint] = [R(PropField.Reason, "reason")];
            byType[(int)EventType.PermissionDenied] = [R(PropField.Scope, "scope")];
            byType[(int)EventType.MiniProgramPublished] = [R(PropField.DeveloperId, "developerId"), R(PropField.Version, "version"), O(PropField.Category, "category")];
            // custom.<name>: no named props; every prop is passed through.
            return byType;
        }
    }
}
