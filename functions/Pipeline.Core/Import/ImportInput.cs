using System.IO.Compression;
using System.IO.Hashing;

using Pipeline.Core.Ingest;

namespace Pipeline.Core.Import;

/// <summary>
/// The content of an import file: the file itself, or what it decompresses to when it is gzip.
/// Gzip is recognised by its magic bytes (<c>1f 8b</c>), never by the file's name.
/// </summary>
public sealed class ImportInput : ForwardOnlyReadStream
{
    private readonly Stream _content;
    private readonly GzipCheck? _check;

    private ImportInput(Stream content, GzipCheck? check)
    {
        _content = content;
        _check = check;
    }

    /// <summary>True when the file was gzip (and this stream decompresses it).</summary>
    public bool IsGzip => _check is not null;

    /// <summary>True when <paramref name="head"/> (the first bytes of a file) starts with gzip's magic bytes.</summary>
    public static bool IsGzipMagic(ReadOnlySpan<byte> head) => head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b;

    /// <summary>
    /// Opens <paramref name="file"/> for reading, decompressing it when its first bytes are gzip's magic.
    /// Reads nothing else up front. Disposing the input leaves <paramref name="file"/> open: its owner disposes it.
    /// </summary>
    public static ImportInput Open(Stream file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var head = new byte[2];
        var n = 0;
        while (n < head.Length && file.Read(head, n, head.Length - n) is var read and > 0) n += read;
        var whole = new PrefixedStream(head.AsMemory(0, n), file);
        if (!IsGzipMagic(head.AsSpan(0, n))) return new ImportInput(whole, null);
        var tracker = new GzipTrailerTracker(whole);
        return new ImportInput(new GZipStream(tracker, CompressionMode.Decompress, leaveOpen: true), new GzipCheck(tracker));
    }

    /// <summary>
    /// Once the content has been read to its end: null when it is complete, else why not. A gzip file
    /// must end with the trailer of what was decompressed (CRC-32 and length): .NET's GZipStream ends
    /// silently on a truncated file, so this is how a cut-off download is noticed. A file of several
    /// concatenated gzip members cannot be checked this way and is reported too.
    /// </summary>
    public string? IncompleteReason() => _check?.Problem();

    public override int Read(Span<byte> buffer)
    {
        var read = _content.Read(buffer);
        _check?.Add(buffer[..read]);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await _content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        _check?.Add(buffer.Span[..read]);
        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _check is not null) _content.Dispose(); // the GZipStream (it leaves the file open)
        base.Dispose(disposing);
    }

    /// <summary>CRC-32 and length of the decompressed bytes, against the last 8 bytes of the compressed file.</summary>
    private sealed class GzipCheck(GzipTrailerTracker tracker)
    {
        private readonly Crc32 _crc = new();
        private long _length;

        public void Add(ReadOnlySpan<byte> decompressed)
        {
            _crc.Append(decompressed);
            _length += decompressed.Length;
        }

        public string? Problem()
        {
            // A 10-byte header and an 8-byte trailer at least.
            if (tracker.TotalRead < 18 || !tracker.TryGetTrailer(out var crc, out var size))
                return "the gzip file is truncated (it is shorter than a gzip trailer).";
            if (crc == _crc.GetCurrentHashAsUInt32() && size == (uint)_length) return null;
            return "the gzip file is truncated or corrupt: its trailer does not match the data decompressed "
                + "(a file of several concatenated gzip members cannot be checked: decompress it, or recompress it as one).";
        }
    }
}

/// <summary>Some bytes already read from a stream, then the rest of that stream (which it does not dispose).</summary>
internal sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream rest) : ForwardOnlyReadStream
{
    private ReadOnlyMemory<byte> _prefix = prefix;

    public override int Read(Span<byte> buffer)
    {
        if (_prefix.IsEmpty) return rest.Read(buffer);
        var n = Math.Min(buffer.Length, _prefix.Length);
        _prefix.Span[..n].CopyTo(buffer);
        _prefix = _prefix[n..];
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_prefix.IsEmpty) return rest.ReadAsync(buffer, cancellationToken);
        return ValueTask.FromResult(Read(buffer.Span));
    }

}
