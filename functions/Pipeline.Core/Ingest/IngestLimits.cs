namespace Pipeline.Core.Ingest;

/// <summary>
/// The numeric limits of the ingest contract (spec/events.md, version 1), and the bounds this
/// pipeline chose where the contract leaves a field open. Lengths counted in "characters" are
/// UTF-16 code units (what <see cref="string.Length"/> and JavaScript's <c>length</c> count), so
/// an SDK can check them exactly as the server does.
/// </summary>
public static class IngestLimits
{
    /// <summary>Fewest events in a batch; 0 is answered <c>400 empty_batch</c>.</summary>
    public const int MinEvents = 1;

    /// <summary>Most events in a batch; more is answered <c>400 too_many_events</c>.</summary>
    public const int MaxEvents = 1000;

    /// <summary>Most bytes of a request body after decompression (4 MiB); more is <c>413</c>, decided while reading.</summary>
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    /// <summary>Most UTF-8 bytes of one event's raw JSON text, from its <c>{</c> to its <c>}</c> inclusive (32 KiB); more is <c>event_too_large</c>.</summary>
    public const int MaxEventBytes = 32 * 1024;

    /// <summary>Most keys directly in <c>props</c> (named and unknown props together; keys of nested objects are not counted).</summary>
    public const int MaxProps = 64;

    /// <summary>
    /// Longest string value anywhere inside <c>props</c> (nested ones too). Named props with a tighter
    /// bound (<c>page</c>, identifiers) use theirs; <c>message</c> of <c>error</c> is truncated instead.
    /// </summary>
    public const int MaxPropStringLength = 1024;

    /// <summary>
    /// Deepest nesting inside <c>props</c>. The <c>props</c> object itself is depth 1; every object or
    /// array that is a value inside a container of depth d has depth d + 1; scalars add nothing. So
    /// <c>{"a":{"b":{"c":{"d":1}}}}</c> is depth 4 (accepted) and one more level is 5 (rejected).
    /// </summary>
    public const int MaxPropsDepth = 4;

    /// <summary>
    /// Nesting limit of the whole body's JSON parse. Far above what a valid event needs (root, events,
    /// event, props and 4 levels), so an over-deep event is still rejected on its own
    /// (<c>invalid_field</c>); a body nested deeper than this is <c>invalid_json</c> as a whole.
    /// </summary>
    public const int MaxJsonDepth = 256;

    /// <summary><c>eventId</c>: 1 to 64 of <c>[A-Za-z0-9_.:-]</c>.</summary>
    public const int MaxEventIdLength = 64;

    /// <summary>The <c>&lt;name&gt;</c> of <c>custom.&lt;name&gt;</c>: 1 to 64 of <c>[a-z0-9_]</c>.</summary>
    public const int MaxCustomNameLength = 64;

    /// <summary><c>userId</c>: 1 to 128 characters, any.</summary>
    public const int MaxUserIdLength = 128;

    /// <summary><c>miniProgramId</c>: 1 to 64 of <c>[A-Za-z0-9_-]</c>.</summary>
    public const int MaxMiniProgramIdLength = 64;

    /// <summary><c>props.page</c>: 1 to 256 characters.</summary>
    public const int MaxPageLength = 256;

    /// <summary><c>props.message</c> of <c>error</c> is cut to this many characters (never rejected for length; a surrogate pair is not split).</summary>
    public const int MaxErrorMessageLength = 1024;

    /// <summary>
    /// Bound chosen by this pipeline for identifiers and short texts the contract leaves open:
    /// <c>sessionId</c>, <c>orderId</c>, <c>merchantId</c>, <c>adUnitId</c>, <c>developerId</c>,
    /// <c>version</c>, <c>reason</c>, <c>scope</c>, <c>category</c> and <c>referrerMiniProgramId</c> are
    /// non-empty strings of at most 128 characters (any characters).
    /// </summary>
    public const int MaxIdentifierLength = 128;

    /// <summary>Corrected event time may be at most this far ahead of the receive time (exactly 10 minutes ahead is accepted).</summary>
    public static readonly TimeSpan MaxAhead = TimeSpan.FromMinutes(10);

    /// <summary>Corrected event time may be at most this far behind the receive time (exactly 30 days behind is accepted).</summary>
    public static readonly TimeSpan MaxBehind = TimeSpan.FromDays(30);

    /// <summary>
    /// <c>currency</c>: exactly 3 ASCII letters. Lower- or mixed-case letters are normalised to upper
    /// case (<c>usd</c> is stored as <c>USD</c>); anything else is <c>invalid_field</c>. The code is not
    /// checked against the ISO-4217 list, so a new currency needs no deployment.
    /// </summary>
    public const int CurrencyLength = 3;
}
