using System.IO.Compression;
using System.Text;
using Pipeline.Core.Import;

namespace Pipeline.Core.Tests.Import;

internal static class ImportTestData
{
    public static MemoryStream Utf8(string text) => new(Encoding.UTF8.GetBytes(text));

    public static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }

    public static byte[] Gzip(string text) => Gzip(Encoding.UTF8.GetBytes(text));

    /// <summary>Everything an import reader hands out, as (line, entry, code or null, JSON text or null).</summary>
    public static List<(long Line, int Entry, string? Code, string? Json)> ReadAll(IImportReader reader)
    {
        var items = new List<(long, int, string?, string?)>();
        while (reader.TryRead(out var item))
            items.Add((item.Line, item.Ordinal, item.Code, item.IsRejected ? null : Encoding.UTF8.GetString(item.Json.Span)));
        return items;
    }
}

/// <summary>A stream that hands out at most a few bytes per read, so every buffer boundary is crossed.</summary>
internal sealed class TrickleStream(byte[] data, int maxPerRead) : Stream
{
    private int _position;

    public int Reads { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        Reads++;
        var n = Math.Min(Math.Min(buffer.Length, maxPerRead), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
