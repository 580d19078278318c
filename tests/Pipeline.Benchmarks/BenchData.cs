using System.Buffers;
using System.IO.Compression;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Pipeline.Local.Simulation;

namespace Pipeline.Benchmarks;

/// <summary>
/// Realistic inputs for the benchmarks, from the local runner's simulator (sessions of users in
/// mini-programs with page views, shares, orders, ads, errors, releases…), with every fault
/// injection turned off so that every event is valid. Deterministic for a given seed.
/// </summary>
internal static class BenchData
{
    public const string PseudonymisationKey = "benchmark-pseudonymisation-key-0123456789abcdef";

    /// <summary>The end of the simulated day: local midnight in Asia/Shanghai, so all events are on <see cref="Day"/>.</summary>
    public static readonly DateTimeOffset End = new(2026, 11, 23, 16, 0, 0, TimeSpan.Zero);

    public static readonly DateOnly Day = new(2026, 11, 23);

    public static readonly SourceRegistration Source = new("bench", AllMiniPrograms: true, [], End.AddDays(-60));

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static SimulationOptions Options(int users, int seed, int days = 1, DateTimeOffset? end = null) => new()
    {
        Days = days,
        Users = users,
        MiniPrograms = 40,
        Seed = seed,
        EndTime = end ?? End,
        DuplicateBatchRate = 0,
        RetryRate = 0,
        InvalidEventRate = 0,
        LateRate = 0,
        SendInvalidRequests = false,
        GzipRate = 0,
    };

    /// <summary>One simulated day of valid events, in time order.</summary>
    public static List<SimulatedEvent> Simulated(int users, int seed = 42) =>
        TrafficGenerator.Generate(Options(users, seed)).Requests
            .Where(r => r.Kind == PlannedRequestKind.Batch)
            .SelectMany(r => r.Events)
            .Where(e => e.IsValid)
            .OrderBy(e => e.Time.UtcTicks)
            .ToList();

    /// <summary>A request body as an SDK sends it (<c>{"sentAt":…,"events":[…]}</c>).</summary>
    public static byte[] Body(IEnumerable<SimulatedEvent> events, DateTimeOffset sentAt)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("sentAt", sentAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
            writer.WriteStartArray("events");
            foreach (var e in events) e.WriteTo(writer, sentAt);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }

    /// <summary>
    /// <paramref name="count"/> accepted <see cref="PipelineEvent"/>s of one day, as ingest makes them
    /// (parsed, validated, pseudonymised), from about <paramref name="users"/> simulated users.
    /// </summary>
    public static List<PipelineEvent> PipelineEvents(int count, int users, int seed = 42)
    {
        var simulated = Simulated(users, seed);
        if (simulated.Count < count)
            throw new InvalidOperationException($"{users} users made only {simulated.Count} events; {count} are needed.");
        var parser = new BatchParser(new UserPseudonymizer(PseudonymisationKey));
        var result = new List<PipelineEvent>(count);
        for (var i = 0; i < count; i += IngestLimits.MaxEvents)
        {
            var chunk = simulated.GetRange(i, Math.Min(IngestLimits.MaxEvents, count - i));
            var parsed = parser.Parse(Body(chunk, End), Source, End);
            if (parsed.Accepted is null || parsed.Accepted.Count != chunk.Count)
                throw new InvalidOperationException($"Setup: {chunk.Count - (parsed.Accepted?.Count ?? 0)} events of a chunk were rejected ({parsed.ErrorCode}).");
            result.AddRange(parsed.Accepted);
        }
        return result;
    }

    /// <summary>Splits events by user shard as the event store does.</summary>
    public static IReadOnlyList<IReadOnlyList<PipelineEvent>> Shard(IReadOnlyList<PipelineEvent> events, int shards)
    {
        var lists = new List<PipelineEvent>[shards];
        for (var i = 0; i < shards; i++) lists[i] = new List<PipelineEvent>(events.Count / shards + 16);
        foreach (var e in events) lists[UserShard.Of(e.UserKey, shards)].Add(e);
        return lists;
    }
}
