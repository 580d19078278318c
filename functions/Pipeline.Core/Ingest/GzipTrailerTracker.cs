using System.Buffers.Binary;

namespace Pipeline.Core.Ingest;

/// <summary>
/// Passes compressed bytes through to a <see cref="System.IO.Compression.GZipStream"/> and remembers
/// the last 8 of them: once the input is read to its end, they are the gzip trailer (CRC-32 and
/// length of the last member's output). GZipStream ends silently on a truncated stream, so the
/// request body reader and the import check the trailer against what was decompressed.
/// </summary>
internal sealed class GzipTrailerTracker(Stream inner) : ForwardOnlyReadStream
{
    private readonly byte[] _last = new byte[8];
    private long _total;

    /// <summary>Compressed bytes read so far.</summary>
    public long TotalRead => _total;

    /// <summary>The last 8 bytes read as a gzip trailer; false when fewer than 8 bytes were read.</summary>
    public bool TryGetTrailer(out uint crc, out uint size)
    {
        crc = size = 0;
        if (_total < 8) return false;
        crc = BinaryPrimitives.ReadUInt32LittleEndian(_last);
        size = BinaryPrimitives.ReadUInt32LittleEndian(_last.AsSpan(4));
        return true;
    }

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        Remember(buffer[..read]);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Remember(buffer.Span[..read]);
        return read;
    }

    private void Remember(ReadOnlySpan<byte> chunk)
    {
        if (chunk.IsEmpty) return;
        _total += chunk.Length;
        if (chunk.Length >= 8)
        {
            chunk[^8..].CopyTo(_last);
            return;
        }
        // Shift the kept bytes left and append the chunk.
        _last.AsSpan(chunk.Length).CopyTo(_last);
        chunk.CopyTo(_last.AsSpan(8 - chunk.Length));
    }

}
