using System.Globalization;
using CsvHelper;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Export;

/// <summary>
/// The analysts' daily export, <c>exports/daily/&lt;yyyy-MM-dd&gt;.csv</c> (docs/metric-definitions.md, "Where results go"):
/// RFC 4180 (comma, CRLF, fields quoted when they hold a comma, quote or line break), UTF-8 without
/// a BOM, header <see cref="Header"/>, rows sorted by metric, dimension, dimension value (ordinal).
/// Numbers are written in the invariant culture in their shortest round-trippable form; numerator
/// and denominator are empty cells for rows that are not ratios.
/// </summary>
public static class DailyCsv
{
    public const string Header = "date,stakeholder,tier,metric,dimension,dimension_value,value,numerator,denominator,unit";

    private static readonly string[] Columns = Header.Split(',');

    // Spelled out rather than left to the defaults, since the format is a contract with analysts.
    internal static readonly CsvWriterOptions WriterOptions = CsvWriterOptions.Default with
    {
        Mode = CsvMode.Rfc4180,
        Separator = ',',
        Quoting = CsvQuoting.WhenNeeded,
        NewLine = "\r\n",
        WriteByteOrderMark = false,
        Injection = CsvInjection.None,
        FormatProvider = CultureInfo.InvariantCulture,
    };

    private static readonly CsvReaderOptions ReaderOptions = CsvReaderOptions.Default with
    {
        HasHeader = true,
        FormatProvider = CultureInfo.InvariantCulture,
    };

    public static byte[] Write(DateOnly day, IReadOnlyList<MetricRow> rows)
    {
        var sorted = InExportOrder(rows);

        using var stream = new MemoryStream(256 + sorted.Length * 96);
        using (var csv = CsvWriter.Create(stream, WriterOptions, leaveOpen: true))
        {
            csv.WriteHeader(Columns);
            var date = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            foreach (var r in sorted)
            {
                if (r.Date != day) throw new ArgumentException($"Row {r.Metric}|{r.Dimension}|{r.DimensionValue} is for {r.Date:yyyy-MM-dd}, not {date}.", nameof(rows));
                csv.WriteField(date);
                csv.WriteField(r.Stakeholder);
                csv.WriteField(r.Tier);
                csv.WriteField(r.Metric);
                csv.WriteField(r.Dimension);
                csv.WriteField(r.DimensionValue);
                csv.WriteField(Number(r.Value));
                csv.WriteField(r.Numerator is { } n ? Number(n) : "");
                csv.WriteField(r.Denominator is { } d ? Number(d) : "");
                csv.WriteField(r.Unit);
                csv.EndRecord();
            }
            csv.Flush();
        }
        return stream.ToArray();
    }

    /// <summary>
    /// The rows in the exports' order (the CSV's and the Parquet file's): by metric, dimension, dimension
    /// value, ordinal. A day holds one row per (metric, dimension, value), so the order is total and stable
    /// from one roll-up to the next.
    /// </summary>
    public static MetricRow[] InExportOrder(IReadOnlyList<MetricRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sorted = rows.ToArray();
        Array.Sort(sorted, static (a, b) =>
        {
            var c = string.CompareOrdinal(a.Metric, b.Metric);
            if (c != 0) return c;
            c = string.CompareOrdinal(a.Dimension, b.Dimension);
            return c != 0 ? c : string.CompareOrdinal(a.DimensionValue, b.DimensionValue);
        });
        return sorted;
    }

    /// <summary>Reads an export back (tools and tests). Throws <see cref="InvalidDataException"/> when the header is not the export's.</summary>
    public static IReadOnlyList<MetricRow> Read(byte[] csvBytes)
    {
        ArgumentNullException.ThrowIfNull(csvBytes);
        using var csv = CsvReader.Create(csvBytes, ReaderOptions);
        csv.ReadHeader();
        if (!Columns.SequenceEqual(csv.Headers))
            throw new InvalidDataException($"Not a daily export: the header must be '{Header}'.");
        var rows = new List<MetricRow>();
        while (csv.Read())
        {
            rows.Add(new MetricRow(
                DateOnly.ParseExact(csv.GetString(0), "yyyy-MM-dd", CultureInfo.InvariantCulture),
                csv.GetString(3), csv.GetString(1), csv.GetString(2), csv.GetString(4), csv.GetString(5),
                double.Parse(csv.GetString(6), NumberStyles.Float, CultureInfo.InvariantCulture),
                OptionalNumber(csv.GetString(7)), OptionalNumber(csv.GetString(8)),
                csv.GetString(9)));
        }
        return rows;
    }

    /// <summary>Shortest round-trippable invariant form ("R"): <c>3</c>, <c>0.25</c>, <c>1E-05</c>.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static double? OptionalNumber(string? cell) =>
        string.IsNullOrEmpty(cell) ? null : double.Parse(cell, NumberStyles.Float, CultureInfo.InvariantCulture);
}
