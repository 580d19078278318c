using System.Globalization;

namespace Pipeline.Storage.Blobs;

/// <summary>Blob names of the adapters, in one place.</summary>
internal static class BlobPaths
{
    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary><c>&lt;yyyy&gt;/&lt;MM&gt;/&lt;dd&gt;/&lt;batchId&gt;.json</c> by the UTC date of receipt.</summary>
    public static string Landing(string batchId, DateTimeOffset receivedAt) =>
        $"{receivedAt.UtcDateTime.ToString("yyyy'/'MM'/'dd", CultureInfo.InvariantCulture)}/{CheckName(batchId)}.json";

    public static string Rejected(string batchId, DateTimeOffset receivedAt) =>
        $"{receivedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}/{CheckName(batchId)}.json";

    public static string EventPrefix(DateOnly day, int shard) => $"{Day(day)}/{shard.ToString("D3", CultureInfo.InvariantCulture)}/";

    public static string Events(DateOnly day, int shard, string batchId) => $"{EventPrefix(day, shard)}{CheckName(batchId)}.evb";

    /// <summary>The folder of a day's batch segments (one blob per (day, batch), every shard's events in it): <c>&lt;yyyy-MM-dd&gt;/batches/</c>.</summary>
    public static string BatchPrefix(DateOnly day) => $"{Day(day)}/batches/";

    public static string Batch(DateOnly day, string batchId) => $"{BatchPrefix(day)}{CheckName(batchId)}{BatchExtension}";

    /// <summary>Extension of a batch segment's blob name.</summary>
    public const string BatchExtension = ".evs";

    /// <summary>A shard's window state as of the end of a day.</summary>
    public static string ShardState(DateOnly day, int shard) => $"shards/{Day(day)}/{shard.ToString("D3", CultureInfo.InvariantCulture)}.bin";

    /// <summary>A shard's partial aggregate of a day.</summary>
    public static string Partial(DateOnly day, int shard) => $"partials/{Day(day)}/{shard.ToString("D3", CultureInfo.InvariantCulture)}.bin";

    /// <summary>A shard's de-duplication window (one per shard, rewritten as the shard rolls).</summary>
    public static string IdWindow(int shard) => $"ids/{shard.ToString("D3", CultureInfo.InvariantCulture)}.bin";

    /// <summary>The duplicate copies found in a (day, shard).</summary>
    public static string Duplicates(DateOnly day, int shard) => $"duplicates/{Day(day)}/{shard.ToString("D3", CultureInfo.InvariantCulture)}.bin";

    /// <summary>A part of the ledger (orders-NNN, buyers-NNN, registry) as of the end of a day.</summary>
    public static string Ledger(DateOnly day, string part) => $"ledger/{Day(day)}/{CheckName(part)}.bin";

    /// <summary>Extension of a segment's blob name.</summary>
    public const string SegmentExtension = ".evb";

    /// <summary>The batch id of a segment listed under <see cref="EventPrefix"/>, or null for any other name.</summary>
    public static string? SegmentBatchId(string name, string prefix, string extension = SegmentExtension) =>
        name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(extension, StringComparison.Ordinal)
            && name.Length > prefix.Length + extension.Length && name.IndexOf('/', prefix.Length) < 0
            ? name[prefix.Length..^extension.Length]
            : null;

    /// <summary>The compacted file of a (day, shard): beside its segments' folder, not in it, so that listing the segments never lists it.</summary>
    public static string CompactedEvents(DateOnly day, int shard) => $"{Day(day)}/{shard.ToString("D3", CultureInfo.InvariantCulture)}.evc";

    /// <summary>The analysts' Parquet copy of a compacted (day, shard), Hive-partitioned by date: <c>events/date=&lt;yyyy-MM-dd&gt;/shard=&lt;shard:D3&gt;.parquet</c>.</summary>
    public static string EventExport(DateOnly day, int shard) => $"events/date={Day(day)}/shard={shard.ToString("D3", CultureInfo.InvariantCulture)}.parquet";


    public static string Export(DateOnly day) => $"daily/{Day(day)}.csv";

    /// <summary>A day's metric rows as Parquet, Hive-partitioned by date: <c>parquet/date=&lt;yyyy-MM-dd&gt;/metrics.parquet</c>.</summary>
    public static string ParquetExport(DateOnly day) => $"parquet/date={Day(day)}/metrics.parquet";

    // Batch ids are GUIDs; refuse anything that could step out of its folder.
    private static string CheckName(string batchId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(batchId);
        if (batchId.AsSpan().IndexOfAny('/', '\\') >= 0 || batchId.Contains("..", StringComparison.Ordinal))
            throw new ArgumentException($"Batch id '{batchId}' is not a valid blob name segment.", nameof(batchId));
        return batchId;
    }
}
