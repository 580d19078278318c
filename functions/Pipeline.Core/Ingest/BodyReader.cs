using System.Buffers;
using System.IO.Compression;
using System.IO.Hashing;

namespace Pipeline.Core.Ingest;

/// <summary>How reading a request body ended.</summary>
public enum BodyReadStatus
{
    Ok,
    /// <summary>More than the limit of decompressed bytes: <c>413 payload_too_large</c>.</summary>
    TooLarge,
    /// <summary>Corrupt or truncated gzip: <c>400 invalid_body</c>.</summary>
    InvalidBody,
}

/// <summary>
/// A request body read into a pooled buffer. Dispose it once the bytes are no longer used (and not
/// before: a <see cref="System.Text.Json.JsonDocument"/> parsed from <see cref="Body"/> points into it).
/// </summary>
public sealed class BodyReadResult : IDisposable
{
    private byte[]? _buffer;
    private readonly int _length;

    internal BodyReadResult(BodyReadStatus status, byte[]? buffer, int length, string? error)
    {
        Status = status;
        _buffer = buffer;
        _length = length;
        Error = error;
    }

    public BodyReadStatus Status { get; }

    /// <summary>What is wrong with the body, for the error message; null when <see cref="Status"/> is Ok.</summary>
    public string? Error { get; }

    /// <summary>The (decompressed) body; empty unless <see cref="Status"/> is Ok.</summary>
    public ReadOnlyMemory<byte> Body
    {
        get
        {
            ObjectDisposedException.ThrowIf(_buffer is null && _length > 0, this);
            return _buffer is null ? ReadOnlyMemory<byte>.Empty : new ReadOnlyMemory<byte>(_buffer, 0, _length);
        }
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
    }
}

/// <summary>
/// Reads a request body under the size limit, decompressing gzip while reading. The limit applies
/// to decompressed bytes and is enforced as they are produced: at most limit + 1 bytes are ever
/// inflated, so a gzip bomb costs no more memory than an honest 4 MiB body.
/// </summary>
public static class BodyReader
{
    private const int InitialBufferSize = 16 * 1024;

    public static Task<BodyReadResult> ReadAsync(Stream body, bool gzip, CancellationToken ct) =>
        ReadAsync(body, gzip, IngestLimits.MaxBodyBytes, ct);

    /// <summary>Reads with an explicit limit (tests use small ones).</summary>
    public static async Task<BodyReadResult> ReadAsync(Stream body, bool gzip, int maxBytes, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);

        var tracker = gzip ? new GzipTrailerTracker(body) : null;
        Stream source = tracker is null ? body : new GZipStream(tracker, CompressionMode.Decompress, leaveOpen: true);
        byte[]? buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialBufferSize, maxBytes + 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length) buffer = Grow(buffer, length, maxBytes + 1);
                // Never ask for more than one byte past the limit: that byte is the proof of "too large".
                var want = Math.Min(buffer.Length - length, maxBytes + 1 - length);
                var read = await source.ReadAsync(buffer.AsMemory(length, want), ct).ConfigureAwait(false);
                if (read == 0) break;
                length += read;
                if (length > maxBytes)
                {
                    return new BodyReadResult(BodyReadStatus.TooLarge, null, 0,
                        $"The body is larger than {maxBytes} bytes{(gzip ? " after decompression" : "")}.");
                }
            }

            if (tracker is not null && !await EndsWithTrailerOfAsync(tracker, buffer.AsMemory(0, length), ct).ConfigureAwait(false))
            {
                return new BodyReadResult(BodyReadStatus.InvalidBody, null, 0,
                    "The body is not valid gzip: it is truncated or has data after the end of the gzip stream.");
            }

            var result = new BodyReadResult(BodyReadStatus.Ok, buffer, length, null);
            buffer = null; // now owned by the result
            return result;
        }
        catch (InvalidDataException e)
        {
            return new BodyReadResult(BodyReadStatus.InvalidBody, null, 0, "The body is not valid gzip: " + e.Message);
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
            if (tracker is not null) await source.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static byte[] Grow(byte[] buffer, int length, int cap)
    {
        var next = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, cap));
        buffer.AsSpan(0, length).CopyTo(next);
        ArrayPool<byte>.Shared.Return(buffer);
        return next;
    }

    /// <summary>
    /// True when the compressed input is at its end and its last 8 bytes are the trailer of a member
    /// whose output ends <paramref name="output"/>. GZipStream ignores data after the last member, so
    /// nothing may be left; multi-member gzip passes (the last member's output is a suffix of the whole).
    /// </summary>
    private static async ValueTask<bool> EndsWithTrailerOfAsync(GzipTrailerTracker tracker, ReadOnlyMemory<byte> output, CancellationToken ct)
    {
        var probe = new byte[1];
        if (await tracker.ReadAsync(probe, ct).ConfigureAwait(false) != 0) return false;
        // Smallest gzip member: 10-byte header, 2-byte empty deflate block, 8-byte trailer.
        if (tracker.TotalRead < 20 || !tracker.TryGetTrailer(out var crc, out var size)) return false;
        if (size > (uint)output.Length) return false;
        return Crc32.HashToUInt32(output.Span[^(int)size..]) == crc;
    }
}
