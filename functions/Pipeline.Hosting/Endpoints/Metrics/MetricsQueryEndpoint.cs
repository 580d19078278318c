using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Pipeline.Hosting.Endpoints.Http;
using Pipeline.Core.Query;

namespace Pipeline.Hosting.Endpoints.Metrics;

/// <summary>
/// <c>GET /api/v1/metrics</c> (docs/query.md): the rows of a date range, filtered by metric, stakeholder,
/// tier, dimension, value and mini-program, a page at a time, as JSON or CSV; for a read key
/// (<c>X-Api-Key: mrk_…</c>), which decides which rows are visible.
/// </summary>
public sealed class MetricsQueryEndpoint(ReadKeyAuthenticator readers, MetricQueryService queries, ILogger<MetricsQueryEndpoint> logger)
{
    public const string Route = "v1/metrics";

    public Task<HttpReply> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ReadReplies.GuardAsync(() => AnswerAsync(request, cancellationToken), logger, "Metrics query", cancellationToken);
    }

    private async Task<HttpReply> AnswerAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (access, denied) = await readers.AuthenticateAsync(request.Headers[ReadKeyAuthenticator.Header].FirstOrDefault(), cancellationToken).ConfigureAwait(false);
        if (denied is not null) return ReadReplies.Error(denied);

        var parsed = MetricQueryParser.Parse(ReadRequests.Parameters(request));
        if (parsed.Error is not null) return ReadReplies.Error(parsed.Error);

        var (page, error) = await queries.RunAsync(parsed.Query!, access!, cancellationToken).ConfigureAwait(false);
        if (page is null) return ReadReplies.Error(error!);

        var reply = parsed.Format == QueryFormat.Csv
            ? new HttpReply(200, QueryCsv.Write(page.Rows), HttpReply.Csv)
            : new HttpReply(200, ToJson(page), HttpReply.Json);
        // The CSV has no envelope: what the JSON body says besides the rows travels in headers (in both formats).
        if (page.MissingDays.Count > 0) reply.WithHeader("X-Missing-Days", string.Join(',', page.MissingDays.Select(Day)));
        if (page.Continuation is not null) reply.WithHeader("X-Continuation", page.Continuation);
        if (page.Withheld > 0) reply.WithHeader(ReadReplies.WithheldHeader, page.Withheld.ToString(CultureInfo.InvariantCulture));
        return ReadReplies.Finish(request, reply);
    }

    /// <summary>The JSON body of a page (also printed by the CLI's <c>query --format json</c>).</summary>
    public static ReadOnlyMemory<byte> ToJson(QueryPage page)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("from", Day(page.Query.From));
            w.WriteString("to", Day(page.Query.To));
            w.WriteNumber("count", page.Rows.Count);
            // Rows small-cell suppression kept from a developer's key: a short page is not a lack of data.
            w.WriteNumber("withheld", page.Withheld);
            w.WriteStartArray("missingDays");
            foreach (var d in page.MissingDays) w.WriteStringValue(Day(d));
            w.WriteEndArray();
            w.WriteStartArray("rows");
            foreach (var stored in page.Rows)
            {
                var r = stored.Row;
                w.WriteStartObject();
                w.WriteString("date", Day(r.Date));
                w.WriteString("metric", r.Metric);
                w.WriteString("stakeholder", r.Stakeholder);
                w.WriteString("tier", r.Tier);
                w.WriteString("dimension", r.Dimension);
                w.WriteString("dimensionValue", r.DimensionValue);
                w.WriteNumber("value", r.Value);
                if (r.Numerator is { } n) w.WriteNumber("numerator", n);
                if (r.Denominator is { } d) w.WriteNumber("denominator", d);
                w.WriteString("unit", r.Unit);
                if (stored.ComputedAt is { } at) w.WriteString("computedAt", at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                else w.WriteNull("computedAt");
                if (stored.RunId is { } run) w.WriteString("runId", run);
                else w.WriteNull("runId");
                w.WriteBoolean("restated", stored.Restated);
                if (stored.PreviousValue is { } previous) w.WriteNumber("previousValue", previous);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (page.Continuation is { } token) w.WriteString("continuation", token);
            else w.WriteNull("continuation");
            w.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }

    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
