using System.Globalization;
using CsvHelper;
using Pipeline.Core.Export;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Query;

/// <summary>
/// A query page as CSV: the daily export's columns and format (<see cref="DailyCsv"/>), then
/// <c>computed_at</c>, <c>run_id</c> and <c>restated</c>, so a spreadsheet shows when each number was
/// computed and whether it replaced a published one.
/// </summary>
public static class QueryCsv
{
    public const string Header = DailyCsv.Header + ",computed_at,run_id,restated";

    private static readonly string[] Columns = Header.Split(',');

    public static byte[] Write(IReadOnlyList<StoredMetricRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        using var stream = new MemoryStream(256 + rows.Count * 128);
        using (var csv = CsvWriter.Create(stream, DailyCsv.WriterOptions, leaveOpen: true))
        {
            csv.WriteHeader(Columns);
            foreach (var stored in rows)
            {
                var r = stored.Row;
                csv.WriteField(r.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                csv.WriteField(r.Stakeholder);
                csv.WriteField(r.Tier);
                csv.WriteField(r.Metric);
                csv.WriteField(r.Dimension);
                csv.WriteField(r.DimensionValue);
                csv.WriteField(DailyCsv.Number(r.Value));
                csv.WriteField(r.Numerator is { } n ? DailyCsv.Number(n) : "");
                csv.WriteField(r.Denominator is { } d ? DailyCsv.Number(d) : "");
                csv.WriteField(r.Unit);
                csv.WriteField(stored.ComputedAt is { } at ? at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) : "");
                csv.WriteField(stored.RunId ?? "");
                csv.WriteField(stored.Restated ? "true" : "false");
                csv.EndRecord();
            }
            csv.Flush();
        }
        return stream.ToArray();
    }
}
