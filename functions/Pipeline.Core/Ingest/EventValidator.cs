using System.Buffers;
using System.Runtime.InteropServices;
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
/// 1024 characters, nesting at most 4), then the type's required props in the order of the prop table
/// (<see cref="EventProps"/>, the contract's), then those required with another (<c>currency</c> with <c>revenue</c>);</item>
/// <item>size (<c>event_too_large</c>), then the time window (<c>timestamp_out_of_range</c>), then
/// whether the source may write the mini-program (<c>forbidden_mini_program</c>).</item>
/// </list>
/// A JSON <c>null</c> is treated as an absent field or named prop (so a required one is
/// <c>missing_field</c>); an unknown prop whose value is null is kept. Unknown top-level fields are
/// ignored (forward compatibility) but may not repeat. Not thread-safe: one instance per batch, so
/// its buffers are reused from event to event.
/// <para>One class, one file per concern: this file reads the event's common fields;
/// <c>EventValidator.Props.cs</c> the props, by the table of the contract's named props
/// (<see cref="EventProps"/>, which also says where each is stored and how the event store encodes it);
/// <c>EventValidator.Identifiers.cs</c> the identifier rules; <c>EventValidator.Sanitising.cs</c>
/// the rejected event kept for operators. The batch shape is <see cref="BatchParser"/>'s.</para>
/// </summary>
internal sealed partial class EventValidator
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
        if (!ReadProps(type, typeName, hasProps, props, out var uses, out var present, out var extraProps, out failure)) return null;

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

        var accepted = new PipelineEvent
        {
            EventId = eventId,
            Type = type,
            CustomName = customName,
            TimeMs = corrected,
            UserKey = userId is null ? null : PseudonymOfUser(userId),
            MiniProgramId = miniProgramId,
            SessionId = sessionId,
            Platform = platform,
            ExtraProps = extraProps,
        };
        StoreProps(accepted, uses, present);
        return accepted;
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
}
