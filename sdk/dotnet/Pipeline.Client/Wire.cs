using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Pipeline.Client;

/// <summary>The contract's spellings, limits and the JSON of events and batches.</summary>
internal static class Wire
{
    /// <summary>Most events in one batch.</summary>
    public const int MaxBatchEvents = 1000;

    /// <summary>Largest body, after decompression.</summary>
    public const int MaxBodyBytes = 4 * 1024 * 1024;

    /// <summary>Largest event, as JSON.</summary>
    public const int MaxEventBytes = 32 * 1024;

    public const int MaxProps = 64;

    // Room for {"sentAt":"…","events":[ … ]} around the events.
    public const int EnvelopeBytes = 64;

    public static string Name(ClientPlatform p) => p switch
    {
        ClientPlatform.Ios => "ios",
        ClientPlatform.Android => "android",
        ClientPlatform.Harmony => "harmony",
        ClientPlatform.Windows => "windows",
        ClientPlatform.Mac => "mac",
        ClientPlatform.Devtools => "devtools",
        _ => "other",
    };

    public static string Name(ShareTarget t) => t switch
    {
        ShareTarget.Chat => "chat",
        ShareTarget.Group => "group",
        _ => "moments",
    };

    public static string Name(ErrorKind k) => k switch
    {
        ErrorKind.JsError => "js_error",
        ErrorKind.Crash => "crash",
        ErrorKind.Network => "network",
        _ => "other",
    };

    public static bool IsCurrency(string? c) => c is { Length: 3 } && c.All(char.IsAsciiLetterUpper);

    public static bool IsEventId(string? id) => id is { Length: >= 1 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-');

    public static bool IsMiniProgramId(string? id) => id is { Length: >= 1 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Checks an event against the contract; returns the problems (empty when it is valid).</summary>
    public static List<string> Validate(PipelineEvent e, PipelineClientOptions options)
    {
        var errors = new List<string>();
        if (!IsEventId(e.EventId)) errors.Add("eventId must be 1-64 of A-Z, a-z, 0-9, '_', '.', ':' and '-'");
        if (e.RequiresUserId && string.IsNullOrEmpty(e.UserId)) errors.Add($"userId is required for {e.Type}");
        if (e.UserId is { Length: > 128 }) errors.Add("userId is longer than 128 characters");
        if (!IsMiniProgramId(e.MiniProgramId ?? options.MiniProgramId))
            errors.Add("miniProgramId (on the event or in PipelineClientOptions.MiniProgramId) must be 1-64 of A-Z, a-z, 0-9, '_' and '-'");
        if (e.RequiresSessionId && string.IsNullOrEmpty(e.SessionId)) errors.Add($"sessionId is required for {e.Type}");
        e.ValidateProps(errors);
        if (e.ExtraProps is { } extra)
        {
            var own = e.PropNames.ToHashSet(StringComparer.Ordinal);
            foreach (var name in extra.Keys)
                if (own.Contains(name)) errors.Add($"ExtraProps repeats the {e.Type} prop '{name}'");
            if (own.Count + extra.Count > MaxProps) errors.Add($"props has more than {MaxProps} keys");
        }
        return errors;
    }

    /// <summary>The event's JSON object, as it goes into the <c>events</c> array.</summary>
    public static byte[] Serialize(PipelineEvent e, PipelineClientOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("eventId", e.EventId);
            w.WriteString("type", e.Type);
            w.WriteString("timestamp", Timestamp(e.Timestamp));
            if (e.UserId is not null) w.WriteString("userId", e.UserId);
            w.WriteString("miniProgramId", e.MiniProgramId ?? options.MiniProgramId);
            if (e.SessionId is not null) w.WriteString("sessionId", e.SessionId);
            if ((e.Platform ?? options.Platform) is { } platform) w.WriteString("platform", Name(platform));
            w.WriteStartObject("props");
            e.WriteProps(w);
            if (e.ExtraProps is { } extra)
            {
                foreach (var (name, value) in extra)
                {
                    w.WritePropertyName(name);
                    if (value is null) w.WriteNullValue();
                    else value.WriteTo(w);
                }
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static readonly byte[] Open = Encoding.UTF8.GetBytes("{\"sentAt\":\"");
    private static readonly byte[] Middle = Encoding.UTF8.GetBytes("\",\"events\":[");
    private static readonly byte[] Close = Encoding.UTF8.GetBytes("]}");

    /// <summary>The request body: <c>{"sentAt": …, "events": [ … ]}</c>, gzipped when asked.</summary>
    public static byte[] Body(IReadOnlyList<BufferedEvent> events, DateTimeOffset sentAt, bool gzip)
    {
        using var output = new MemoryStream();
        using (Stream target = gzip ? new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true) : new NonClosing(output))
        {
            target.Write(Open);
            target.Write(Encoding.ASCII.GetBytes(Timestamp(sentAt)));
            target.Write(Middle);
            for (var i = 0; i < events.Count; i++)
            {
                if (i > 0) target.WriteByte((byte)',');
                target.Write(events[i].Json);
            }
            target.Write(Close);
        }
        return output.ToArray();
    }

    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
    }
}

/// <summary>An event waiting in the buffer: its JSON (fixed at <c>Track</c>) and its place in line.</summary>
internal sealed record BufferedEvent(long Sequence, string EventId, byte[] Json, DateTimeOffset BufferedAt);
