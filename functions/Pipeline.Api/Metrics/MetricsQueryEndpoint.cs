using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Pipeline.Core.Export;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Api.Metrics;

/// <summary>
/// <c>GET /api/v1/metrics?date=YYYY-MM-DD[&amp;metric=NAME][&amp;dimension=NAME][&amp;format=json|csv]</c>:
/// one day's rows from <c>DailyMetrics</c>, filtered, as JSON or as the export's CSV.
/// </summary>
public sealed class MetricsQueryEndpoint(IMetricsStore metrics)
{
    public const string Route = "v1/metrics";

    public async Task<Http.HttpReply> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var query = request.Query;
        var dateText = query["date"].FirstOrDefault();
        if (string.IsNullOrEmpty(dateText))
            return Http.HttpReply.Error(400, "missing_date", "Query parameter 'date' is required, as YYYY-MM-DD (a reporting day).");
        if (!DateOnly.TryParseExact(dateText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            return Http.HttpReply.Error(400, "invalid_date", $"'date' must be YYYY-MM-DD; got '{dateText}'.");

        var format = query["format"].FirstOrDefault() ?? "json";
        if (format is not ("json" or "csv"))
            return Http.HttpReply.Error(400, "invalid_format", $"'format' must be json or csv; got '{format}'.");

        var metric = query["metric"].FirstOrDefault();
        var dimension = query["dimension"].FirstOrDefault();

        var all = await metrics.ReadDayAsync(day, cancellationToken).ConfigureAwait(false);
        if (all.Count == 0)
            return Http.HttpReply.Error(404, "not_rolled_up", $"No metrics for {dateText}: the day has not been rolled up (or had no events before the first rolled-up day).");

        var rows = all
            .Where(r => metric is null || r.Metric == metric)
            .Where(r => dimension is null || r.Dimension == dimension)
            .OrderBy(r => r.Metric, StringComparer.Ordinal)
            .ThenBy(r => r.Dimension, StringComparer.Ordinal)
            .ThenBy(r => r.DimensionValue, StringComparer.Ordinal)
            .ToList();

        return format == "csv"
            ? new Http.HttpReply(200, DailyCsv.Write(day, rows), Http.HttpReply.Csv)
            : new Http.HttpReply(200, ToJson(day, rows), Http.HttpReply.Json);
    }

    private static ReadOnlyMemory<byte> ToJson(DateOnly day, IReadOnlyList<MetricRow> rows)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("date", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            w.WriteNumber("count", rows.Count);
            w.WriteStartArray("rows");
            foreach (var r in rows)
            {
                w.WriteStartObject();
                w.WriteString("metric", r.Metric);
                w.WriteString("stakeholder", r.Stakeholder);
                w.WriteString("tier", r.Tier);
                w.WriteString("dimension", r.Dimension);
                w.WriteString("dimensionValue", r.DimensionValue);
                w.WriteNumber("value", r.Value);
                if (r.Numerator is { } n) w.WriteNumber("numerator", n);
                if (r.Denominator is { } d) w.WriteNumber("denominator", d);
                w.WriteString("unit", r.Unit);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }
}
