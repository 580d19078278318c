using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pipeline.Local.Simulation;

/// <summary>How an event's <c>timestamp</c> is written: SDKs differ, and the contract takes all three.</summary>
public enum TimestampStyle
{
    /// <summary>ISO-8601 in UTC with <c>Z</c>.</summary>
    IsoUtc,
    /// <summary>ISO-8601 with the local offset (<c>+08:00</c>).</summary>
    IsoOffset,
    /// <summary>Integer Unix milliseconds.</summary>
    UnixMs,
}

/// <summary>The one defect of an injected invalid event.</summary>
public enum InvalidEventKind
{
    UnknownType,
    MissingRequiredProp,
    WrongPropType,
    BadEventIdCharset,
    TimestampInFuture,
    TimestampTooOld,
    ForbiddenMiniProgram,
}

/// <summary>
/// One event as the simulator sends it. Valid events carry the moment they happened in
/// <see cref="Time"/>; invalid ones carry their defect and the rejection code the contract
/// prescribes for it. Events are immutable: a retry is a new instance with the same eventId.
/// </summary>
public sealed class SimulatedEvent
{
    public required string EventId { get; init; }

    /// <summary>The wire type name (<c>session_start</c>, <c>custom.add_to_cart</c>, …).</summary>
    public required string Type { get; init; }

    /// <summary>When it happened, as the <c>timestamp</c> says (with the offset it is written in).</summary>
    public required DateTimeOffset Time { get; init; }

    public TimestampStyle Style { get; init; }

    public string? UserId { get; init; }

    public required string MiniProgramId { get; init; }

    public string? SessionId { get; init; }

    public string? Platform { get; init; }

    public required JsonObject Props { get; init; }

    /// <summary>The defect, for an injected invalid event; null for a valid one.</summary>
    public InvalidEventKind? Invalid { get; init; }

    /// <summary>The rejection code the contract prescribes for <see cref="Invalid"/>.</summary>
    public string? ExpectedRejection { get; init; }

    /// <summary>When set, <c>timestamp</c> is written as <c>sentAt</c> plus this (out-of-range events must be out of range at send).</summary>
    public TimeSpan? TimestampFromSentAt { get; init; }

    /// <summary>For a client retry: the event first sent with this eventId.</summary>
    public SimulatedEvent? RetryOf { get; init; }

    /// <summary>Placed a few ms after a local midnight so that its retry (a few ms earlier) lands on the day before.</summary>
    public bool NearMidnight { get; init; }

    public bool IsValid => Invalid is null;

    /// <summary>A client retry of this event: same eventId and content, the timestamp moved by <paramref name="shift"/>.</summary>
    public SimulatedEvent RetryShiftedBy(TimeSpan shift) => new()
    {
        EventId = EventId, Type = Type, Time = Time + shift, Style = Style, UserId = UserId, MiniProgramId = MiniProgramId,
        SessionId = SessionId, Platform = Platform, Props = Props, Invalid = Invalid, ExpectedRejection = ExpectedRejection,
        TimestampFromSentAt = TimestampFromSentAt, RetryOf = RetryOf ?? this,
    };

    /// <summary>The <c>timestamp</c> as written in a batch sent at <paramref name="sentAt"/>.</summary>
    public DateTimeOffset TimestampAt(DateTimeOffset sentAt) => TimestampFromSentAt is { } offset ? (sentAt + offset).ToOffset(Time.Offset) : Time;

    public void WriteTo(Utf8JsonWriter writer, DateTimeOffset sentAt)
    {
        writer.WriteStartObject();
        writer.WriteString("eventId", EventId);
        writer.WriteString("type", Type);
        var timestamp = TimestampAt(sentAt);
        switch (Style)
        {
            case TimestampStyle.UnixMs:
                writer.WriteNumber("timestamp", timestamp.ToUnixTimeMilliseconds());
                break;
            case TimestampStyle.IsoOffset:
                writer.WriteString("timestamp", timestamp.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture));
                break;
            default:
                writer.WriteString("timestamp", FormatUtc(timestamp));
                break;
        }
        if (UserId is not null) writer.WriteString("userId", UserId);
        writer.WriteString("miniProgramId", MiniProgramId);
        if (SessionId is not null) writer.WriteString("sessionId", SessionId);
        if (Platform is not null) writer.WriteString("platform", Platform);
        writer.WritePropertyName("props");
        Props.WriteTo(writer);
        writer.WriteEndObject();
    }

    public override string ToString() => $"{Type} {EventId} at {FormatUtc(Time)}{(Invalid is { } kind ? $" (invalid: {kind})" : "")}";

    internal static string FormatUtc(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
