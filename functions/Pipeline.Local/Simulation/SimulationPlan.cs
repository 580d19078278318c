using System.Buffers;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Pipeline.Local.Simulation;

/// <summary>What a planned request is.</summary>
public enum PlannedRequestKind
{
    /// <summary>A batch of events (valid, possibly with late events, client retries and invalid events mixed in).</summary>
    Batch,
    /// <summary>A batch sent again byte for byte, <c>sentAt</c> included.</summary>
    ExactDuplicate,
    /// <summary>A whole request the endpoint must refuse with 400.</summary>
    InvalidRequest,
}

/// <summary>
/// One request of the plan. Its body is rendered at send time, because <c>sentAt</c> (and the
/// timestamps of out-of-range events) are relative to the moment of sending.
/// </summary>
public sealed class PlannedRequest
{
    private readonly string? _rawJson;

    internal PlannedRequest(int id, PlannedRequestKind kind, bool gzip, IReadOnlyList<SimulatedEvent> events, PlannedRequest? duplicateOf, string? rawJson, string description,
        TimeSpan sentAtSkew = default)
    {
        SentAtSkew = sentAtSkew;
        Id = id;
        Kind = kind;
        Gzip = gzip;
        Events = events;
        DuplicateOf = duplicateOf;
        _rawJson = rawJson;
        Description = description;
        var rejections = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.IsValid) ExpectedAccepted++;
            else rejections[e.ExpectedRejection!] = rejections.GetValueOrDefault(e.ExpectedRejection!) + 1;
        }
        ExpectedRejections = rejections;
        ExpectedStatus = kind == PlannedRequestKind.InvalidRequest || ExpectedAccepted == 0 ? 400 : 202;
    }

    // As SDKs write JSON: "+08:00" and non-ASCII as they are, not as \u escapes (both are valid JSON).
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public int Id { get; }

    public PlannedRequestKind Kind { get; }

    /// <summary>Sent with <c>Content-Encoding: gzip</c>.</summary>
    public bool Gzip { get; }

    /// <summary>The events of the body, in body order (empty for an invalid request).</summary>
    public IReadOnlyList<SimulatedEvent> Events { get; }

    /// <summary>For an <see cref="PlannedRequestKind.ExactDuplicate"/>: the request whose bytes it re-sends.</summary>
    public PlannedRequest? DuplicateOf { get; }

    /// <summary>How far ahead of the moment of sending its <c>sentAt</c> is written (a client clock running fast); zero for almost every request.</summary>
    public TimeSpan SentAtSkew { get; }

    /// <summary>What the request is, for progress lines and test messages.</summary>
    public string Description { get; }

    /// <summary>202 for a batch with at least one valid event, 400 otherwise.</summary>
    public int ExpectedStatus { get; }

    public int ExpectedAccepted { get; }

    /// <summary>Rejection code → how many events of this body the endpoint must reject with it.</summary>
    public IReadOnlyDictionary<string, int> ExpectedRejections { get; }

    /// <summary>The JSON body (before compression) as sent at <paramref name="sentAt"/> (the body's <c>sentAt</c> is that plus <see cref="SentAtSkew"/>).</summary>
    public byte[] RenderJson(DateTimeOffset sentAt)
    {
        if (_rawJson is not null) return Encoding.UTF8.GetBytes(_rawJson.Replace("{sentAt}", SimulatedEvent.FormatUtc(sentAt), StringComparison.Ordinal));
        var buffer = new ArrayBufferWriter<byte>(Events.Count * 400 + 64);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("sentAt", SimulatedEvent.FormatUtc(sentAt + SentAtSkew));
            writer.WriteStartArray("events");
            foreach (var e in Events) e.WriteTo(writer, sentAt);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The body bytes as they go on the wire: <see cref="RenderJson"/>, gzip-compressed when <see cref="Gzip"/>.</summary>
    public byte[] RenderBody(DateTimeOffset sentAt) => Gzip ? Compress(RenderJson(sentAt)) : RenderJson(sentAt);

    public override string ToString() => $"#{Id} {Description}";

    internal static byte[] Compress(byte[] json)
    {
        using var output = new MemoryStream(json.Length / 4 + 64);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(json);
        return output.ToArray();
    }
}

/// <summary>
/// Requests sent together (at most <see cref="SimulationOptions.MaxConcurrency"/> at a time). A
/// stage starts only when the one before it has been answered, which is what puts a retry after
/// its original, and a late event after the later days' events.
/// </summary>
public sealed record SendStage(string Name, IReadOnlyList<PlannedRequest> Requests)
{
    public int EventCount => Requests.Sum(r => r.Events.Count);

    /// <summary>
    /// When a client would send this stage: a day's traffic ten minutes after its reporting day
    /// ends (the run's end for the last, unfinished day and the tail). Used only when the run
    /// replays history on a clock it moves (<see cref="SimulationOptions.AdvanceClockTo"/>).
    /// </summary>
    public DateTimeOffset SendAt { get; init; }
}

/// <summary>Everything a run will send, in order, with the ledger of what it must produce.</summary>
public sealed class SimulationPlan
{
    internal SimulationPlan(EcosystemModel ecosystem, IReadOnlyList<SendStage> stages, SimulationLedger ledger, DateTimeOffset start, DateTimeOffset end)
    {
        Ecosystem = ecosystem;
        Stages = stages;
        Ledger = ledger;
        Start = start;
        End = end;
    }

    public EcosystemModel Ecosystem { get; }

    public IReadOnlyList<SendStage> Stages { get; }

    public SimulationLedger Ledger { get; }

    /// <summary>The simulated period: <see cref="SimulationOptions.Days"/> times 24 h ending at the end time.</summary>
    public DateTimeOffset Start { get; }

    public DateTimeOffset End { get; }

    public IEnumerable<PlannedRequest> Requests => Stages.SelectMany(s => s.Requests);
}
