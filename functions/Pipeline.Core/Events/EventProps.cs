using Pipeline.Core.Ingest;

namespace Pipeline.Core.Events;

/// <summary>
/// The one table of the contract's named props. Each entry says, for one prop: its wire name in
/// <c>props</c>; the event types that carry it and whether each requires it; its value rule; the
/// <see cref="PipelineEvent"/> property that stores it; and its field id and kind in the event store's
/// block format. The validator (<c>Ingest/EventValidator.Props.cs</c>), the stored form's construction
/// (validator, <see cref="EventBlockCodec"/> decode, the Parquet export) and the codec (both its
/// <see cref="PipelineEvent"/> path and the rollup's allocation-free <see cref="BlockEvent"/> path) all
/// read it, so a new prop is one entry here (and its property on <see cref="PipelineEvent"/>, which is
/// what the entry stores into) plus its tests.
/// </summary>
/// <remarks>
/// Adding a prop: give it the next free codec field id (<see cref="EventBlockCodec.NextFreeFieldId"/>; ids
/// are persisted, never reuse or renumber one), an optional carrier unless the contract version says
/// otherwise, and a row in docs/ingest-contract.md and in the Parquet schema of docs/architecture.md
/// (the Parquet export gains a nullable column named after the property, in table order). Props of a
/// type are matched, and missing required ones reported, in table order. Entries are static fields
/// initialised in textual order: keep <see cref="All"/> last.
/// </remarks>
public static class EventProps
{
    private static readonly List<EventProp> Entries = [];

    private const string Milliseconds = "an integer >= 0 (milliseconds)";

    // session_start
    public static readonly EventProp Scene = Add("scene", [Required(EventType.SessionStart)],
        PropRule.Integer(int.MinValue, int.MaxValue, "an integer entry-scene code"), PropStorage.Int32(e => e.Scene), PropCodec.Varint(3));

    public static readonly EventProp LoadMs = Add("loadMs", [Optional(EventType.SessionStart)],
        PropRule.Integer(0, long.MaxValue, Milliseconds), PropStorage.Int64(e => e.LoadMs), PropCodec.Varint(4));

    public static readonly EventProp ReferrerMiniProgramId = Add("referrerMiniProgramId", [Optional(EventType.SessionStart)],
        PropRule.Text(IngestLimits.MaxIdentifierLength), PropStorage.Text(e => e.ReferrerMiniProgramId), PropCodec.Dictionary(5));

    // session_end, page_view
    public static readonly EventProp DurationMs = Add("durationMs", [Required(EventType.SessionEnd), Optional(EventType.PageView)],
        PropRule.Integer(0, long.MaxValue, Milliseconds), PropStorage.Int64(e => e.DurationMs), PropCodec.Varint(6));

    // page_view, share
    public static readonly EventProp Page = Add("page", [Required(EventType.PageView), Optional(EventType.Share)],
        PropRule.Text(IngestLimits.MaxPageLength), PropStorage.Text(e => e.Page), PropCodec.Dictionary(7));

    // share
    public static readonly EventProp Target = Add("target", [Required(EventType.Share)],
        PropRule.OneOf(("chat", ShareTarget.Chat), ("group", ShareTarget.Group), ("moments", ShareTarget.Moments)),
        PropStorage.Enum(e => e.ShareTarget), PropCodec.HeaderByte(2));

    // order_paid, order_refunded (currency also for ad_impression revenue)
    public static readonly EventProp OrderId = Add("orderId", [Required(EventType.OrderPaid), Required(EventType.OrderRefunded)],
        PropRule.Text(IngestLimits.MaxIdentifierLength), PropStorage.Text(e => e.OrderId), PropCodec.Inline(8));

    public static readonly EventProp Amount = Add("amount", [Required(EventType.OrderPaid), Required(EventType.OrderRefunded)],
        PropRule.Integer(1, long.MaxValue, "an integer > 0 (minor units)"), PropStorage.Int64(e => e.Amount), PropCodec.Varint(9));

    public static readonly EventProp Currency = Add("currency",
        [Required(EventType.OrderPaid), Required(EventType.OrderRefunded), RequiredWith(EventType.AdImpression, "revenue")],
        PropRule.Letters(IngestLimits.CurrencyLength, "a 3-letter ISO-4217 code"), PropStorage.Text(e => e.Currency), PropCodec.Dictionary(10));

    public static readonly EventProp MerchantId = Add("merchantId", [Required(EventType.OrderPaid), Required(EventType.OrderRefunded)],
        PropRule.Text(IngestLimits.MaxIdentifierLength), PropStorage.Text(e => e.MerchantId), PropCodec.Dictionary(11));

    // ad_impression, ad_click
    public static readonly EventProp AdUnitId = Add("adUnitId", [Required(EventType.AdImpression), Required(EventType.AdClick)],
        PropRule.Text(IngestLimits.MaxIdentifierLength), PropStorage.Text(e => e.AdUnitId), PropCodec.Dictionary(12));

    public static readonly EventProp Revenue = Add("revenue", [Optional(EventType.AdImpression)],
        PropRule.Integer(0, long.MaxValue, "an integer >= 0 (minor units)"), PropStorage.Int64(e => e.Revenue), PropCodec.Varint(13));

    // error
    public static readonly EventProp Kind = Add("kind", [Required(EventType.Error)],
        PropRule.OneOf(("js_error", ErrorKind.JsError), ("crash", ErrorKind.Crash), ("network", ErrorKind.Network), ("other", ErrorKind.Other)),
        PropStorage.Enum(e => e.ErrorKind), PropCodec.HeaderByte(3));

    /// <summary>Cut to its limit, never rejected for length: the contract keeps error events whatever their message.</summary>
    public static readonly EventProp Message = Add("message", [Optional(EventType.Error)],
        PropRule.Truncated(IngestLimits.MaxErrorMessageLength), PropStorage.Text(e => e.Message), PropCodec.Inline(14));

    // complaint, permission_denied
    public static readonly EventProp Reason = Add("reason", [Required(EventType.Complaint)],
        PropRule.Text(IngestLimits.MaxIdentifierLength), PropStorage.Text(e => e.Reason), PropCodec.Dictionary(15));

    public static readonly EventProp Scope = Add("scope", [Required(EventType.PermissionDenied)],
        PropRule.Text(IngestLimits.MaxIdentifierLength), PropStorage.Text(e => e.Scope), PropCodec.Dictionary(16));

    // mini_program_published
    public static readonly EventProp DeveloperId = Add("developerId", [Required(EventType.MiniProgramPublished)],
        PropRule.Text(IngestLimits.MaxIdentifierLength), PropStorage.Text(e => e.DeveloperId), PropCodec.Dictionary(17));

    public static readonly EventProp Version = Add("version", [Required(EventType.MiniProgramPublished)],
        PropRule.Text(IngestLimits.MaxIdentifierLength), PropStorage.Text(e => e.Version), PropCodec.Dictionary(18));

    public static readonly EventProp Category = Add("category", [Optional(EventType.MiniProgramPublished)],
        PropRule.Text(IngestLimits.MaxIdentifierLength), PropStorage.Text(e => e.Category), PropCodec.Dictionary(19));

    // custom.<name>: no named props; every prop is passed through.

    /// <summary>Every named prop, in table order. Declared last: it checks the entries above.</summary>
    public static IReadOnlyList<EventProp> All { get; } = Seal();

    private static readonly PropUse[][] ByType = BuildByType();

    /// <summary>The named props of a type, in table order (the order missing required ones are reported); none for <c>custom.*</c>.</summary>
    public static IReadOnlyList<PropUse> Of(EventType type) => ForType(type);

    internal static PropUse[] ForType(EventType type) => (uint)type < (uint)ByType.Length ? ByType[(int)type] : [];

    /// <summary>The prop of a wire name, or null.</summary>

    private static PropCarrier Required(EventType type) => new(type, true);

    private static PropCarrier Optional(EventType type) => new(type, false);

    /// <summary>Optional, except when the type's prop <paramref name="prop"/> is present.</summary>
    private static PropCarrier RequiredWith(EventType type, string prop) => new(type, false, prop);

    private static EventProp Add(string name, PropCarrier[] carriers, PropRule rule, PropStorage stored, PropCodec codec)
    {
        var prop = new EventProp(Entries.Count, name, carriers, rule, stored, codec);
        Entries.Add(prop);
        return prop;
    }

    private static EventProp[] Seal()
    {
        var all = Entries.ToArray();
        Check(all.Select(p => p.Name), "wire name");
        Check(all.Select(p => p.Stored.Property), "PipelineEvent property");
        Check(all.Select(p => $"{p.Codec.Kind == PropCodecKind.HeaderByte}:{p.Codec.Id}"), "codec field id");
        foreach (var prop in all)
        {
            foreach (var carrier in prop.Carriers)
            {
                if (carrier.RequiredWith is not { } other) continue;
                var with = all.FirstOrDefault(p => p.Name == other)
                    ?? throw new InvalidOperationException($"Prop {prop.Name} is required with '{other}', which is not a named prop.");
                if (!with.Carriers.Any(c => c.Type == carrier.Type))
                    throw new InvalidOperationException($"Prop {prop.Name} is required with {other} on {carrier.Type}, which does not carry {other}.");
            }
        }
        return all;

        static void Check(IEnumerable<string> keys, string what)
        {
            var repeated = keys.GroupBy(k => k, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (repeated is not null) throw new InvalidOperationException($"Two named props have the {what} {repeated.Key}.");
        }
    }

    private static PropUse[][] BuildByType()
    {
        var byType = new PropUse[(int)EventType.Custom + 1][];
        for (var t = 0; t < byType.Length; t++)
        {
            var uses = All.SelectMany(p => p.Carriers.Where(c => (int)c.Type == t).Select(c => (Prop: p, Carrier: c))).ToList();
            if (uses.Count > 32) throw new InvalidOperationException($"{(EventType)t} names {uses.Count} props; the validator tracks at most 32 per type.");
            byType[t] = uses.Select(u => new PropUse(u.Prop, u.Carrier.Required,
                u.Carrier.RequiredWith is { } other ? uses.FindIndex(x => x.Prop.Name == other) : -1,
                u.Carrier.RequiredWith is { } name ? All.First(p => p.Name == name) : null)).ToArray();
        }
        return byType;
    }
}

/// <summary>One event type's use of a named prop: whether it is required, or required only when another prop is present.</summary>
public sealed class PropUse
{
    internal PropUse(EventProp prop, bool required, int requiredWithIndex, EventProp? requiredWith)
    {
        Prop = prop;
        Required = required;
        RequiredWithIndex = requiredWithIndex;
        RequiredWith = requiredWith;
    }

    public EventProp Prop { get; }

    public bool Required { get; }

    /// <summary>The prop whose presence makes this one required (<c>currency</c> of an <c>ad_impression</c> with <c>revenue</c>), or null.</summary>
    public EventProp? RequiredWith { get; }

    /// <summary>Index of <see cref="RequiredWith"/> among the type's props; -1 when none.</summary>
    internal int RequiredWithIndex { get; }
}

/// <summary>An event type that carries a prop, and whether it must.</summary>
/// <param name="RequiredWith">The wire name of a prop of the same type whose presence makes this one required.</param>
public readonly record struct PropCarrier(EventType Type, bool Required, string? RequiredWith = null);
