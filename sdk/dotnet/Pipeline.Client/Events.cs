using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pipeline.Client;

/// <summary>Platform of the client, as the contract spells it.</summary>
public enum ClientPlatform { Ios, Android, Harmony, Windows, Mac, Devtools, Other }

/// <summary>Where a share went.</summary>
public enum ShareTarget { Chat, Group, Moments }

/// <summary>Kind of an <see cref="ErrorEvent"/>.</summary>
public enum ErrorKind { JsError, Crash, Network, Other }

/// <summary>
/// One event of the ingest contract (version 1). Create one of the sealed types below
/// (<see cref="SessionStart"/>, <see cref="PageView"/>, …, <see cref="CustomEvent"/>) and pass it to
/// <see cref="IPipelineClient.Track"/>.
/// </summary>
/// <remarks>
/// <see cref="EventId"/> is generated once, when the object is created, and travels with the event
/// through every retry, so the pipeline counts it once however often it is sent. Track an object
/// once; create a new object for a new occurrence.
/// </remarks>
public abstract class PipelineEvent
{
    private protected PipelineEvent() { }

    /// <summary>The de-duplication key: 1–64 of <c>A-Z a-z 0-9 _ . : -</c>. Defaults to a new time-ordered GUID (32 hex digits).</summary>
    public string EventId { get; init; } = Guid.CreateVersion7().ToString("N");

    /// <summary>When it happened (the client's clock; the pipeline corrects skew with <c>sentAt</c>). Defaults to the creation time.</summary>
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The user (required for every type but <see cref="MiniProgramPublished"/>); the pipeline pseudonymises it before storing anything.</summary>
    public string? UserId { get; init; }

    /// <summary>The mini-program; when null, <see cref="PipelineClientOptions.MiniProgramId"/> is used.</summary>
    public string? MiniProgramId { get; init; }

    /// <summary>The session (required for session, page, share, error and ad events).</summary>
    public string? SessionId { get; init; }

    /// <summary>The platform; when null, <see cref="PipelineClientOptions.Platform"/> is used (if set).</summary>
    public ClientPlatform? Platform { get; init; }

    /// <summary>Further props, passed through by the pipeline. Names must not repeat the type's own props.</summary>
    public IDictionary<string, JsonNode?>? ExtraProps { get; init; }

    /// <summary>The wire type name (<c>session_start</c>, …, <c>custom.&lt;name&gt;</c>).</summary>
    public abstract string Type { get; }

    internal virtual bool RequiresUserId => true;

    internal virtual bool RequiresSessionId => false;

    internal abstract void WriteProps(Utf8JsonWriter writer);

    internal abstract void ValidateProps(List<string> errors);

    internal abstract IEnumerable<string> PropNames { get; }

    private protected static void Required(List<string> errors, string name, string? value, int max = 1024)
    {
        if (string.IsNullOrEmpty(value)) errors.Add($"props.{name} is required");
        else if (value.Length > max) errors.Add($"props.{name} is longer than {max} characters");
    }

    private protected static void WriteIf(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }

    private protected static void WriteIf(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
    }
}

/// <summary><c>session_start</c>: a session began.</summary>
public sealed class SessionStart : PipelineEvent
{
    public override string Type => "session_start";
    /// <summary>Entry-scene code (for example 1001, 1011, 1007).</summary>
    public required int Scene { get; init; }
    /// <summary>Cold-start time in milliseconds (≥ 0).</summary>
    public long? LoadMs { get; init; }
    public string? ReferrerMiniProgramId { get; init; }
    internal override bool RequiresSessionId => true;
    internal override IEnumerable<string> PropNames => ["scene", "loadMs", "referrerMiniProgramId"];
    internal override void WriteProps(Utf8JsonWriter w)
    {
        w.WriteNumber("scene", Scene);
        WriteIf(w, "loadMs", LoadMs);
        WriteIf(w, "referrerMiniProgramId", ReferrerMiniProgramId);
    }
    internal override void ValidateProps(List<string> errors)
    {
        if (LoadMs < 0) errors.Add("props.loadMs must be >= 0");
    }
}

/// <summary><c>session_end</c>: a session ended, after <see cref="DurationMs"/> in the foreground.</summary>
public sealed class SessionEnd : PipelineEvent
{
    public override string Type => "session_end";
    public required long DurationMs { get; init; }
    internal override bool RequiresSessionId => true;
    internal override IEnumerable<string> PropNames => ["durationMs"];
    internal override void WriteProps(Utf8JsonWriter w) => w.WriteNumber("durationMs", DurationMs);
    internal override void ValidateProps(List<string> errors)
    {
        if (DurationMs < 0) errors.Add("props.durationMs must be >= 0");
    }
}

/// <summary><c>page_view</c>: a page was shown (and stayed on for <see cref="DurationMs"/>).</summary>
public sealed class PageView : PipelineEvent
{
    public override string Type => "page_view";
    /// <summary>Page path, 1–256 characters.</summary>
    public required string Page { get; init; }
    public long? DurationMs { get; init; }
    internal override bool RequiresSessionId => true;
    internal override IEnumerable<string> PropNames => ["page", "durationMs"];
    internal override void WriteProps(Utf8JsonWriter w)
    {
        w.WriteString("page", Page);
        WriteIf(w, "durationMs", DurationMs);
    }
    internal override void ValidateProps(List<string> errors)
    {
        Required(errors, "page", Page, 256);
        if (DurationMs < 0) errors.Add("props.durationMs must be >= 0");
    }
}

/// <summary><c>share</c>: the user shared (a page of) the mini-program.</summary>
public sealed class Share : PipelineEvent
{
    public override string Type => "share";
    public required ShareTarget Target { get; init; }
    public string? Page { get; init; }
    internal override bool RequiresSessionId => true;
    internal override IEnumerable<string> PropNames => ["target", "page"];
    internal override void WriteProps(Utf8JsonWriter w)
    {
        w.WriteString("target", Wire.Name(Target));
        WriteIf(w, "page", Page);
    }
    internal override void ValidateProps(List<string> errors)
    {
        if (!Enum.IsDefined(Target)) errors.Add("props.target must be chat, group or moments");
    }
}

/// <summary>Common shape of <see cref="OrderPaid"/> and <see cref="OrderRefunded"/>.</summary>
public abstract class OrderEvent : PipelineEvent
{
    private protected OrderEvent() { }
    public required string OrderId { get; init; }
    /// <summary>Amount in minor units (fen, cents), &gt; 0.</summary>
    public required long Amount { get; init; }
    /// <summary>ISO-4217 code, 3 letters (for example CNY).</summary>
    public required string Currency { get; init; }
    public required string MerchantId { get; init; }
    internal override IEnumerable<string> PropNames => ["orderId", "amount", "currency", "merchantId"];
    internal override void WriteProps(Utf8JsonWriter w)
    {
        w.WriteString("orderId", OrderId);
        w.WriteNumber("amount", Amount);
        w.WriteString("currency", Currency);
        w.WriteString("merchantId", MerchantId);
    }
    internal override void ValidateProps(List<string> errors)
    {
        Required(errors, "orderId", OrderId);
        Required(errors, "merchantId", MerchantId);
        if (Amount <= 0) errors.Add("props.amount must be > 0 (minor units)");
        if (!Wire.IsCurrency(Currency)) errors.Add("props.currency must be an ISO-4217 code of 3 letters");
    }
}

/// <summary><c>order_paid</c>. With a <see cref="PipelineEvent.SessionId"/>, it is attributed to that session's entry channel.</summary>
public sealed class OrderPaid : OrderEvent
{
    public override string Type => "order_paid";
}

/// <summary><c>order_refunded</c>.</summary>
public sealed class OrderRefunded : OrderEvent
{
    public override string Type => "order_refunded";
}

/// <summary><c>ad_impression</c>, with the platform's revenue when known.</summary>
public sealed class AdImpression : PipelineEvent
{
    public override string Type => "ad_impression";
    public required string AdUnitId { get; init; }
    /// <summary>Platform revenue in minor units (≥ 0); needs <see cref="Currency"/>.</summary>
    public long? Revenue { get; init; }
    public string? Currency { get; init; }
    internal override bool RequiresSessionId => true;
    internal override IEnumerable<string> PropNames => ["adUnitId", "revenue", "currency"];
    internal override void WriteProps(Utf8JsonWriter w)
    {
        w.WriteString("adUnitId", AdUnitId);
        WriteIf(w, "revenue", Revenue);
        WriteIf(w, "currency", Currency);
    }
    internal override void ValidateProps(List<string> errors)
    {
        Required(errors, "adUnitId", AdUnitId);
        if (Revenue < 0) errors.Add("props.revenue must be >= 0");
        if (Revenue is not null && !Wire.IsCurrency(Currency)) errors.Add("props.currency is required with revenue (ISO-4217, 3 letters)");
        if (Revenue is null && Currency is not null && !Wire.IsCurrency(Currency)) errors.Add("props.currency must be an ISO-4217 code of 3 letters");
    }
}

/// <summary><c>ad_click</c>.</summary>
public sealed class AdClick : PipelineEvent
{
    public override string Type => "ad_click";
    public required string AdUnitId { get; init; }
    internal override bool RequiresSessionId => true;
    internal override IEnumerable<string> PropNames => ["adUnitId"];
    internal override void WriteProps(Utf8JsonWriter w) => w.WriteString("adUnitId", AdUnitId);
    internal override void ValidateProps(List<string> errors) => Required(errors, "adUnitId", AdUnitId);
}

/// <summary><c>error</c>: a script error, crash or network failure seen by the client.</summary>
public sealed class ErrorEvent : PipelineEvent
{
    public override string Type => "error";
    public required ErrorKind Kind { get; init; }
    /// <summary>Cut to 1024 characters when sent.</summary>
    public string? Message { get; init; }
    internal override bool RequiresSessionId => true;
    internal override IEnumerable<string> PropNames => ["kind", "message"];
    internal override void WriteProps(Utf8JsonWriter w)
    {
        w.WriteString("kind", Wire.Name(Kind));
        if (Message is not null) w.WriteString("message", Message.Length > 1024 ? Message[..1024] : Message);
    }
    internal override void ValidateProps(List<string> errors)
    {
        if (!Enum.IsDefined(Kind)) errors.Add("props.kind must be js_error, crash, network or other");
    }
}

/// <summary><c>complaint</c>.</summary>
public sealed class Complaint : PipelineEvent
{
    public override string Type => "complaint";
    public required string Reason { get; init; }
    internal override IEnumerable<string> PropNames => ["reason"];
    internal override void WriteProps(Utf8JsonWriter w) => w.WriteString("reason", Reason);
    internal override void ValidateProps(List<string> errors) => Required(errors, "reason", Reason);
}

/// <summary><c>permission_denied</c>: the user refused a permission scope.</summary>
public sealed class PermissionDenied : PipelineEvent
{
    public override string Type => "permission_denied";
    public required string Scope { get; init; }
    internal override IEnumerable<string> PropNames => ["scope"];
    internal override void WriteProps(Utf8JsonWriter w) => w.WriteString("scope", Scope);
    internal override void ValidateProps(List<string> errors) => Required(errors, "scope", Scope);
}

/// <summary><c>mini_program_published</c> (from the developer console; needs no user).</summary>
public sealed class MiniProgramPublished : PipelineEvent
{
    public override string Type => "mini_program_published";
    public required string DeveloperId { get; init; }
    public required string Version { get; init; }
    public string? Category { get; init; }
    internal override bool RequiresUserId => false;
    internal override IEnumerable<string> PropNames => ["developerId", "version", "category"];
    internal override void WriteProps(Utf8JsonWriter w)
    {
        w.WriteString("developerId", DeveloperId);
        w.WriteString("version", Version);
        WriteIf(w, "category", Category);
    }
    internal override void ValidateProps(List<string> errors)
    {
        Required(errors, "developerId", DeveloperId);
        Required(errors, "version", Version);
    }
}

/// <summary><c>custom.&lt;name&gt;</c>: any event of your own, with any props (in <see cref="PipelineEvent.ExtraProps"/>).</summary>
public sealed class CustomEvent : PipelineEvent
{
    /// <summary>1–64 of <c>a-z 0-9 _</c>; sent as <c>custom.&lt;name&gt;</c>.</summary>
    public required string Name { get; init; }
    public override string Type => "custom." + Name;
    internal override IEnumerable<string> PropNames => [];
    internal override void WriteProps(Utf8JsonWriter w) { }
    internal override void ValidateProps(List<string> errors)
    {
        if (string.IsNullOrEmpty(Name) || Name.Length > 64 || !Name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            errors.Add("name must be 1-64 of a-z, 0-9 and '_'");
    }
}
