using Parquet;
using Parquet.Schema;
using Pipeline.Core.Export;
using Pipeline.Core.Rollup;

namespace Pipeline.Storage.Blobs;

/// <summary>
/// A day's metric rows as an Apache Parquet file, the Parquet twin of <see cref="DailyCsv"/>: the CSV's
/// columns in the CSV's order and spelling, <c>date</c> a DATE, <c>value</c> a double,
/// <c>numerator</c> and <c>denominator</c> nullable doubles (null where the CSV cell is empty), every
/// other column a non-null string (empty where the CSV cell is empty, as <c>dimension_value</c> of a
/// total); the rows in the CSV's order (<see cref="DailyCsv.InExportOrder"/>), one row group, Snappy.
/// Written at <c>exports/parquet/date=&lt;yyyy-MM-dd&gt;/metrics.parquet</c> so that DuckDB, Spark,
/// Synapse and Fabric read a date range with Hive partitioning. Schema: docs/exports.md.
/// </summary>
public static class MetricsParquet
{
    public const string ContentType = EventParquet.ContentType;

    /// <summary>Key of the file's key-value metadata naming the schema version.</summary>
    public const string SchemaKey = EventParquet.SchemaKey;

    /// <summary>Value of <see cref="SchemaKey"/> written by this build.</summary>
    public const string SchemaVersion = "metrics/1";

    /// <summary>Key of the file's key-value metadata holding its reporting day (<c>yyyy-MM-dd</c>).</summary>
    public const string DateKey = "pipeline.date";

    private static readonly DataField<DateOnly> Date = new("date", nullable: false);
    private static readonly DataField<string> Stakeholder = new("stakeholder", nullable: false);
    private static readonly DataField<string> Tier = new("tier", nullable: false);
    private static readonly DataField<string> Metric = new("metric", nullable: false);
    private static readonly DataField<string> Dimension = new("dimension", nullable: false);
    private static readonly DataField<string> DimensionValue = new("dimension_value", nullable: false);
    private static readonly DataField<double> Value = new("value", nullable: false);
    private static readonly DataField<double> Numerator = new("numerator", nullable: true);
    private static readonly DataField<double> Denominator = new("denominator", nullable: true);
    private static readonly DataField<string> Unit = new("unit", nullable: false);

    /// <summary>The file's schema, in column order (the CSV's header, <see cref="DailyCsv.Header"/>).</summary>
    public static ParquetSchema Schema { get; } = new(Date, Stakeholder, Tier, Metric, Dimension, DimensionValue, Value, Numerator, Denominator, Unit);

    private static readonly ParquetOptions WriteOptions = new() { CompressionMethod = CompressionMethod.Snappy };

    private static readonly ParquetOptions ReadOptions = new() { UseDateOnlyTypeForDates = true };

    /// <summary>Writes <paramref name="rows"/>, every one of <paramref name="day"/>, as one Parquet file in the exports' order.</summary>
    /// <exception cref="ArgumentException">A row is of another day.</exception>
    public static async Task WriteAsync(Stream output, DateOnly day, IReadOnlyList<MetricRow> rows, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var sorted = DailyCsv.InExportOrder(rows);
        var n = sorted.Length;
        var dates = new DateOnly[n];
        var stakeholders = new string[n];
        var tiers = new string[n];
        var metrics = new string[n];
        var dimensions = new string[n];
        var dimensionValues = new string[n];
        var values = new double[n];
        var numerators = new double?[n];
        var denominators = new double?[n];
        var units = new string[n];
        for (var i = 0; i < n; i++)
        {
            var r = sorted[i];
            if (r.Date != day) throw new ArgumentException($"Row {r.Metric}|{r.Dimension}|{r.DimensionValue} is for {r.Date:yyyy-MM-dd}, not {day:yyyy-MM-dd}.", nameof(rows));
            dates[i] = r.Date;
            stakeholders[i] = r.Stakeholder ?? "";
            tiers[i] = r.Tier ?? "";
            metrics[i] = r.Metric ?? "";
            dimensions[i] = r.Dimension ?? "";
            dimensionValues[i] = r.DimensionValue ?? "";
            values[i] = r.Value;
            numerators[i] = r.Numerator;
            denominators[i] = r.Denominator;
            units[i] = r.Unit ?? "";
        }

        await using var writer = await ParquetWriter.CreateAsync(Schema, output, WriteOptions, append: false, cancellationToken).ConfigureAwait(false);
        writer.CustomMetadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SchemaKey] = SchemaVersion,
            [DateKey] = day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        };
        using var group = writer.CreateRowGroup();
        await group.WriteAsync<DateOnly>(Date, dates, cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(Stakeholder, stakeholders).ConfigureAwait(false);
        await group.WriteAsync(Tier, tiers).ConfigureAwait(false);
        await group.WriteAsync(Metric, metrics).ConfigureAwait(false);
        await group.WriteAsync(Dimension, dimensions).ConfigureAwait(false);
        await group.WriteAsync(DimensionValue, dimensionValues).ConfigureAwait(false);
        await group.WriteAsync<double>(Value, values, cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.WriteAsync<double>(Numerator, numerators, cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.WriteAsync<double>(Denominator, denominators, cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(Unit, units).ConfigureAwait(false);
        group.CompleteValidate();
    }

    /// <summary>The file as bytes (what the store uploads).</summary>
    public static async Task<byte[]> EncodeAsync(DateOnly day, IReadOnlyList<MetricRow> rows, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(4096 + (rows?.Count ?? 0) * 48);
        await WriteAsync(stream, day, rows!, cancellationToken).ConfigureAwait(false);
        return stream.ToArray();
    }

    /// <summary>The rows of a file written by <see cref="WriteAsync"/>, in file order (tools and tests).</summary>
    /// <exception cref="InvalidDataException">The file is not a metrics export of this schema.</exception>
    public static async Task<List<MetricRow>> ReadAsync(Stream input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            await using var reader = await ParquetReader.CreateAsync(input, ReadOptions, leaveStreamOpen: true, cancellationToken).ConfigureAwait(false);
            if (!reader.CustomMetadata.TryGetValue(SchemaKey, out var schema) || schema != SchemaVersion)
                throw new InvalidDataException($"Not a metrics export of schema {SchemaVersion} (key-value metadata {SchemaKey} is '{schema}').");
            var rows = new List<MetricRow>();
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                var n = checked((int)group.RowCount);
                var dates = new DateOnly[n];
                var values = new double[n];
                var numerators = new double?[n];
                var denominators = new double?[n];
                await group.ReadAsync<DateOnly>(Date, dates, cancellationToken: cancellationToken).ConfigureAwait(false);
                var stakeholders = await StringsAsync(group, Stakeholder, n, cancellationToken).ConfigureAwait(false);
                var tiers = await StringsAsync(group, Tier, n, cancellationToken).ConfigureAwait(false);
                var metrics = await StringsAsync(group, Metric, n, cancellationToken).ConfigureAwait(false);
                var dimensions = await StringsAsync(group, Dimension, n, cancellationToken).ConfigureAwait(false);
                var dimensionValues = await StringsAsync(group, DimensionValue, n, cancellationToken).ConfigureAwait(false);
                await group.ReadAsync<double>(Value, values, cancellationToken: cancellationToken).ConfigureAwait(false);
                await group.ReadAsync<double>(Numerator, numerators, cancellationToken: cancellationToken).ConfigureAwait(false);
                await group.ReadAsync<double>(Denominator, denominators, cancellationToken: cancellationToken).ConfigureAwait(false);
                var units = await StringsAsync(group, Unit, n, cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < n; i++)
                    rows.Add(new MetricRow(dates[i], metrics[i], stakeholders[i], tiers[i], dimensions[i], dimensionValues[i], values[i], numerators[i], denominators[i], units[i]));
            }
            return rows;
        }
        catch (Exception ex) when (ex is ParquetException or IOException or ArgumentException or InvalidOperationException && ex is not InvalidDataException)
        {
            throw new InvalidDataException($"Not a readable metrics export: {ex.Message}", ex);
        }
    }

    private static async Task<string[]> StringsAsync(ParquetRowGroupReader group, DataField<string> field, int n, CancellationToken cancellationToken)
    {
        var values = new string[n];
        await group.ReadAsync(field, values, cancellationToken: cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < n; i++)
            if (values[i] is null) throw new InvalidDataException($"Metrics export is corrupt: required column {field.Name} is null in row {i}.");
        return values;
    }
}
