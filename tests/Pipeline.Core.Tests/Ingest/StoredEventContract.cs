using System.Text.Json;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>
/// The contract's rules re-checked on an event as it is stored (written independently of
/// <see cref="EventValidator"/>, from docs/ingest-contract.md), so that the hostile-input and fuzz tests
/// can tell that nothing invalid ever reaches storage.
/// </summary>
internal static class StoredEventContract
{
    private static readonly EventType[] NeedSession =
        [EventType.SessionStart, EventType.SessionEnd, EventType.PageView, EventType.Share, EventType.Error, EventType.AdImpression, EventType.AdClick];

    public static List<string> Problems(PipelineEvent e, SourceRegistration source, DateTimeOffset receivedAt)
    {
        var p = new List<string>();
        void Require(bool ok, string what)
        {
            if (!ok) p.Add(what);
        }

        Require(e.EventId is { Length: >= 1 and <= 64 } && e.EventId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-'), "eventId");
        Require(Enum.IsDefined(e.Type), "type");
        Require(e.Type == EventType.Custom
            ? e.CustomName is { Length: >= 1 and <= 64 } && e.CustomName.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')
            : e.CustomName is null, "custom name");
        var received = receivedAt.ToUnixTimeMilliseconds();
        Require(e.TimeMs <= received + (long)IngestLimits.MaxAhead.TotalMilliseconds && e.TimeMs >= received - (long)IngestLimits.MaxBehind.TotalMilliseconds, "time");
        // A pseudonym: base64url of a 32-byte HMAC, never what was sent.
        Require(e.Type == EventType.MiniProgramPublished
            ? e.UserKey is null || IsPseudonym(e.UserKey)
            : e.UserKey is not null && IsPseudonym(e.UserKey), "userKey");
        Require(e.MiniProgramId is { Length: >= 1 and <= 64 } && e.MiniProgramId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'), "miniProgramId");
        Require(source.Allows(e.MiniProgramId), "allow-list");
        Require(NeedSession.Contains(e.Type) ? Id(e.SessionId) : e.SessionId is null || Id(e.SessionId), "sessionId");
        Require(Enum.IsDefined(e.Platform), "platform");

        switch (e.Type)
        {
            case EventType.SessionStart:
                Require(e.Scene is not null && e.LoadMs is null or >= 0 && (e.ReferrerMiniProgramId is null || Id(e.ReferrerMiniProgramId)), "session_start props");
                break;
            case EventType.SessionEnd:
                Require(e.DurationMs is >= 0, "durationMs");
                break;
            case EventType.PageView:
                Require(e.Page is { Length: >= 1 and <= 256 } && e.DurationMs is null or >= 0, "page_view props");
                break;
            case EventType.Share:
                Require(e.ShareTarget is ShareTarget.Chat or ShareTarget.Group or ShareTarget.Moments && (e.Page is null || e.Page.Length is >= 1 and <= 256), "share props");
                break;
            case EventType.OrderPaid or EventType.OrderRefunded:
                Require(Id(e.OrderId) && e.Amount is > 0 && IsCurrency(e.Currency) && Id(e.MerchantId), "order props");
                break;
            case EventType.AdImpression:
                Require(Id(e.AdUnitId) && (e.Revenue is null ? e.Currency is null || IsCurrency(e.Currency) : e.Revenue >= 0 && IsCurrency(e.Currency)), "ad_impression props");
                break;
            case EventType.AdClick:
                Require(Id(e.AdUnitId), "adUnitId");
                break;
            case EventType.Error:
                Require(e.ErrorKind is ErrorKind.JsError or ErrorKind.Crash or ErrorKind.Network or ErrorKind.Other
                    && (e.Message is null || e.Message.Length <= IngestLimits.MaxErrorMessageLength), "error props");
                break;
            case EventType.Complaint:
                Require(Id(e.Reason), "reason");
                break;
            case EventType.PermissionDenied:
                Require(Id(e.Scope), "scope");
                break;
            case EventType.MiniProgramPublished:
                Require(Id(e.DeveloperId) && Id(e.Version) && (e.Category is null || Id(e.Category)), "mini_program_published props");
                break;
        }

        if (e.ExtraProps is not null)
        {
            try
            {
                using var doc = JsonDocument.Parse(e.ExtraProps);
                Require(doc.RootElement.ValueKind == JsonValueKind.Object, "extra props an object");
                Require(doc.RootElement.EnumerateObject().Count() <= IngestLimits.MaxProps, "at most 64 props");
                Require(WithinLimits(doc.RootElement, 1), "extra props depth and string length");
            }
            catch (JsonException)
            {
                p.Add("extra props JSON");
            }
        }
        return p;
    }

    private static bool Id(string? value) => value is { Length: >= 1 and <= IngestLimits.MaxIdentifierLength };

    private static bool IsCurrency(string? value) => value is { Length: 3 } && value.All(char.IsAsciiLetterUpper);

    private static bool IsPseudonym(string value) => value.Length == 43 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static bool WithinLimits(JsonElement element, int depth) => element.ValueKind switch
    {
        JsonValueKind.Object => depth <= IngestLimits.MaxPropsDepth
            && element.EnumerateObject().All(p => WithinLimits(p.Value, depth + 1)),
        JsonValueKind.Array => depth <= IngestLimits.MaxPropsDepth && element.EnumerateArray().All(v => WithinLimits(v, depth + 1)),
        JsonValueKind.String => element.GetString()!.Length <= IngestLimits.MaxPropStringLength,
        _ => true,
    };
}
