using System.Buffers.Binary;
using System.IO.Hashing;

namespace Pipeline.Core.Rollup;

/// <summary>
/// The positions, among one (day, shard)'s compacted events, of the copies the rollup found to be
/// duplicates. Kept for good: once a copy is dropped it stays dropped when the day is rolled again,
/// even after the window has forgotten the copy that was counted instead. Usually empty or tiny
/// (only retries and misbehaving clients make duplicates).
/// </summary>
public sealed class DuplicateCopies
{
    public const byte Version = 1;
    private static ReadOnlySpan<byte> Magic => "PRDC"u8;
    private const int HeaderLength = 4 + 1 + 4;
    private const int CheckLength = 8;

    private readonly long[] _positions;

    private DuplicateCopies(long[] sortedPositions) => _positions = sortedPositions;

    public static DuplicateCopies None { get; } = new([]);

    /// <summary>Positions in ascending order.</summary>
    public ReadOnlySpan<long> Positions => _positions;

    public int Count => _positions.Length;

    public static DuplicateCopies Of(IEnumerable<long> positions)
    {
        var sorted = positions.Distinct().Order().ToArray();
        if (sorted.Length > 0 && sorted[0] < 0) throw new ArgumentOutOfRangeException(nameof(positions), "Positions are not negative.");
        return new DuplicateCopies(sorted);
    }

    public bool Contains(long position) => Array.BinarySearch(_positions, position) >= 0;

    public byte[] Encode()
    {
        var bytes = new byte[HeaderLength + _positions.Length * 8 + CheckLength];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        span[4] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(span[5..], _positions.Length);
        var p = HeaderLength;
        foreach (var position in _positions)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[p..], position);
            p += 8;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(span[p..], XxHash3.HashToUInt64(span[..p]));
        return bytes;
    }

    /// <exception cref="InvalidDataException">Not a list of this version, truncated, corrupt, or not ascending.</exception>
    public static DuplicateCopies Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderLength + CheckLength || !data[..4].SequenceEqual(Magic))
            throw new InvalidDataException("Not a duplicate-copies list: the magic header 'PRDC' is missing or the data is truncated.");
        if (data[4] != Version)
            throw new InvalidDataException($"Duplicate-copies list format version {data[4]} is not supported (this build reads version {Version}).");
        var count = BinaryPrimitives.ReadInt32LittleEndian(data[5..]);
        if (count < 0 || HeaderLength + (long)count * 8 + CheckLength != data.Length)
            throw new InvalidDataException($"Duplicate-copies list is truncated or corrupt: {count} positions do not fit its {data.Length} bytes.");
        if (XxHash3.HashToUInt64(data[..^CheckLength]) != BinaryPrimitives.ReadUInt64LittleEndian(data[^CheckLength..]))
            throw new InvalidDataException("Duplicate-copies list is truncated or corrupt: its checksum does not match.");
        var positions = new long[count];
        for (var i = 0; i < count; i++)
        {
            positions[i] = BinaryPrimitives.ReadInt64LittleEndian(data[(HeaderLength + i * 8)..]);
            if (positions[i] < 0 || (i > 0 && positions[i] <= positions[i - 1]))
                throw new InvalidDataException($"Duplicate-copies list is corrupt: position {i} is negative or out of order.");
        }
        return new DuplicateCopies(positions);
    }
}
