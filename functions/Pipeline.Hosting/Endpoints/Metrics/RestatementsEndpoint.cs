using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Ports;
using Pipeline.Core.Query;

namespace Pipeline.Hosting.Endpoints.Metrics;

/// <summary>
/// <c>GET /api/v1/restatements?since=TIMESTAMP[&amp;day=YYYY-MM-DD][&amp;limit=N][&amp;continuation=TOKEN]</c>:
/// the published metric rows that re-rolls changed or removed, recorded at or after <c>since</c>, oldest first,
/// a page at a time (docs/restatements.md).
/// </summary>
/// <remarks>
/// For a read key, like the metrics: the platform's analysts see every restatement, a developer's key only
/// those of its mini-programs' rows (a page may then hold fewer than <c>limit</c> items; follow the token).
/// </remarks>
public sealed partial class RestatementsEndpoint(IRestatementStore restatements, TimeProvider time, ReadKeyAuthenticator readers, RestatementAccess visibility, ILogger<RestatementsEndpoint> logger)
{
    public const string Route = "v1/restatements";

    /// <summary>How far back <c>since</c> may reach.</summary>
    public static readonly TimeSpan MaxLookBack = TimeSpan.FromDays(90);
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 10000;

    public Task<Http.HttpReply> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Http.ReadReplies.GuardAsync(() => AnswerAsync(request, cancellationToken), logger, "Restatements query", cancellationToken);
    }

    private async Task<Http.HttpReply> AnswerAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (access, denied) = await readers.AuthenticateAsync(request.Headers[ReadKeyAuthenticator.Header].FirstOrDefault(), cancellationToken).ConfigureAwait(false);
        if (denied is not null) return Http.ReadReplies.Error(denied);
        var query = request.Query;

        var sinceText = query["since"].FirstOrDefault();
        if (string.IsNullOrEmpty(sinceText))
            return Http.HttpReply.Error(400, "missing_since", "Query parameter 'since' is required: an ISO 8601 timestamp with an offset or Z (2026-11-24T08:00:00Z), or a date (2026-11-24, midnight UTC).", "since");
        if (!TryParseSince(sinceText, out var since))
            return Http.HttpReply.Error(400, "invalid_since", $"'since' must be an ISO 8601 timestamp with an offset or Z (2026-11-24T08:00:00Z, 2026-11-24T16:00:00%2B08:00) or a date (2026-11-24); got '{sinceText}'.", "since");
        var oldest = time.GetUtcNow() - MaxLookBack;
        if (since < oldest)
            return Http.HttpReply.Error(400, "since_too_old", $"'since' may reach back at most {MaxLookBack.TotalDays:0} days (to {oldest.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}); got '{sinceText}'.", "since");

        DateOnly? day = null;
        var dayText = query["day"].FirstOrDefault();
        if (dayText is not null)
        {
            if (!DateOnly.TryParseExact(dayText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
                return Http.HttpReply.Error(400, "invalid_day", $"'day' must be YYYY-MM-DD (a reporting day); got '{dayText}'.", "day");
            day = d;
        }

        var limit = DefaultLimit;
        var limitText = query["limit"].FirstOrDefault();
        if (limitText is not null &&
            (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLimit))
            return Http.HttpReply.Error(400, "invalid_limit", $"'limit' must be a whole number from 1 to {MaxLimit} (default {DefaultLimit}); got '{limitText}'.", "limit");

        var continuation = query["continuation"].FirstOrDefault();
        if (continuation is { Length: 0 }) continuation = null;

        RestatementPage page;
        try
        {
            page = await restatements.ListAsync(since, day, limit, continuation, cancellationToken).ConfigureAwait(false);
        }
        catch (FormatException)
        {
            return Http.HttpReply.Error(400, "invalid_continuation", "'continuation' must be the token a previous page returned, unchanged.", "continuation");
        }
        var (shown, withheld) = await visibility.FilterAsync(page.Restatements, access!, cancellationToken).ConfigureAwait(false);
        var reply = new Http.HttpReply(200, ToJson(since, page with { Restatements = shown }, withheld), Http.HttpReply.Json);
        if (withheld > 0) reply.WithHeader(Http.ReadReplies.WithheldHeader, withheld.ToString(CultureInfo.InvariantCulture));
        return Http.ReadReplies.Finish(request, reply);
    }

    /// <summary>
    /// An ISO 8601 timestamp with <c>Z</c> or an offset, or a date (midnight UTC). A <c>+</c> offset sent
    /// unencoded arrives as a space; it is read as the <c>+</c> it was.
    /// </summary>
    public static bool TryParseSince(string text, out DateTimeOffset since)
    {
        since = default;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            since = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return true;
        }
        var m = UnencodedPlus().Match(text);
        if (m.Success) text = text[..m.Index] + "+" + text[(m.Index + 1)..];
        if (!Timestamp().IsMatch(text)) return false;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out since);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex Timestamp();

    [GeneratedRegex(@" (?=\d{2}:\d{2}$)")]
    private static partial Regex UnencodedPlus();

    private static ReadOnlyMemory<byte> ToJson(DateTimeOffset since, RestatementPage page, int withheld)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("since", since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
            w.WriteNumber("count", page.Restatements.Count);
            w.WriteNumber("withheld", withheld);
            w.WriteStartArray("restatements");
            foreach (var r in page.Restatements)
            {
                w.WriteStartObject();
                w.WriteString("day", r.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                w.WriteString("metric", r.Metric);
                w.WriteString("dimension", r.Dimension);
                w.WriteString("dimensionValue", r.DimensionValue);
                w.WriteNumber("oldValue", r.OldValue);
                if (r.NewValue is { } nv) w.WriteNumber("newValue", nv); else w.WriteNull("newValue");
                w.WriteBoolean("removed", r.Removed);
                if (r.OldNumerator is { } on) w.WriteNumber("oldNumerator", on);
                if (r.OldDenominator is { } od) w.WriteNumber("oldDenominator", od);
                if (r.NewNumerator is { } nn) w.WriteNumber("newNumerator", nn);
                if (r.NewDenominator is { } nd) w.WriteNumber("newDenominator", nd);
                if (r.OldRunId is { } oldRun) w.WriteString("oldRunId", oldRun); else w.WriteNull("oldRunId");
                w.WriteString("newRunId", r.NewRunId);
                if (r.OldComputedAt is { } oldAt) w.WriteString("oldComputedAt", oldAt.ToUniversalTime()); else w.WriteNull("oldComputedAt");
                w.WriteString("restatedAt", r.RestatedAt.ToUniversalTime());
                w.WriteString("reason", r.Reason);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (page.Continuation is { } c) w.WriteString("continuation", c); else w.WriteNull("continuation");
            w.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }
}
