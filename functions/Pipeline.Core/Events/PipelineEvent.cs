namespace Pipeline.Core.Events;

/// <summary>
/// An accepted event: validated, its time corrected for clock skew and its user pseudonymised.
/// Every stage after ingest (landing blob, event store, rollup) works with this shape, so the
/// raw <c>userId</c> never exists past validation. The contract's named props are typed properties,
/// each the storage of one entry of <see cref="EventProps"/> (which says which types carry it, its rule
/// and its field in the event store), and filled through that entry by the validator, the codec and the
/// Parquet reader; props the contract does not name are kept verbatim in <see cref="ExtraProps"/>.
/// </summary>
public sealed class PipelineEvent
{
    /// <summary>The client's de-duplication key (unique per source for 30 days).</summary>
    public required string EventId { get; init; }

    public required EventType Type { get; init; }

    /// <summary>The <c>&lt;name&gt;</c> of a <c>custom.&lt;name&gt;</c> event; null otherwise.</summary>
    public string? CustomName { get; init; }

    /// <summary>Event time after clock-skew correction, Unix milliseconds (UTC). All "earliest"/"latest" rules compare this.</summary>
    public required long TimeMs { get; init; }

    /// <summary>HMAC-SHA-256 pseudonym of the sent <c>userId</c> (base64url, no padding); null only for <c>mini_program_published</c>.</summary>
    public string? UserKey { get; init; }

    public required string MiniProgramId { get; init; }

    public string? SessionId { get; init; }

    public Platform Platform { get; init; }

    // The named props (EventProps). A new one is a property here and an entry there.

    // session_start
    public int? Scene { get; init; }
    public long? LoadMs { get; init; }
    public string? ReferrerMiniProgramId { get; init; }

    // session_end, page_view
    public long? DurationMs { get; init; }

    // page_view, share
    public string? Page { get; init; }

    // share
    public ShareTarget ShareTarget { get; init; }

    // order_paid, order_refunded (Currency also for ad_impression revenue)
    public string? OrderId { get; init; }
    public long? Amount { get; init; }
    public string? Currency { get; init; }
    public string? MerchantId { get; init; }

    // ad_impression, ad_click
    public string? AdUnitId { get; init; }
    public long? Revenue { get; init; }

    // error
    public ErrorKind ErrorKind { get; init; }
    public string? Message { get; init; }

    // complaint, permission_denied
    public string? Reason { get; init; }
    public string? Scope { get; init; }

    // mini_program_published
    public string? DeveloperId { get; init; }
    public string? Version { get; init; }
    public string? Category { get; init; }

    /// <summary>
    /// The source (ingest key's name) that sent the event; null until the event store stores it with the
    /// batch's source. With <see cref="EventId"/> it is the de-duplication key.
    /// </summary>
    public string? Source { get; init; }

    /// <summary>
    /// When the event's batch was received (Unix milliseconds); null until the event store stores it. Of two
    /// copies of one event id, the one received first counts.
    /// </summary>
    public long? ReceivedMs { get; init; }

    /// <summary>Props the contract does not name (and every prop of a custom event), as the JSON text of an object; null when none.</summary>
    public string? ExtraProps { get; init; }
}
