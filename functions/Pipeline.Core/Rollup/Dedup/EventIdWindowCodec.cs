using System.Buffers.Binary;
using System.IO.Hashing;

namespace Pipeline.Core.Rollup;

/// <summary>
/// Binary form of <see cref="EventIdWindow"/>: magic <c>PRIW</c>, version byte, entry count (int64),
/// then each entry as fixed little-endian fields (hash 16 bytes, day int32, position int64, counted-on
/// int32), then an XxHash3 of everything before it. Fixed width, so a reader checks the length
/// before it allocates.
/// </summary>
public static class EventIdWindowCodec
{
    public const byte Version = 1;
    private static ReadOnlySpan<byte> Magic => "PRIW"u8;
    private const int HeaderLength = 4 + 1 + 8;
    private const int EntryLength = 16 + 4 + 8 + 4;
    private const int CheckLength = 8;

    public static byte[] Encode(EventIdWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        var entries = window.Entries;
        var bytes = new byte[HeaderLength + (long)entries.Length * EntryLength + CheckLength];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        span[4] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(span[5..], entries.Length);
        var p = HeaderLength;
        foreach (ref readonly var e in entries)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(span[p..], e.Hash);
            BinaryPrimitives.WriteInt32LittleEndian(span[(p + 16)..], e.Day);
            BinaryPrimitives.WriteInt64LittleEndian(span[(p + 20)..], e.Position);
            BinaryPrimitives.WriteInt32LittleEndian(span[(p + 28)..], e.CountedOn);
            p += EntryLength;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(span[p..], XxHash3.HashToUInt64(span[..p]));
        return bytes;
    }

    /// <exception cref="InvalidDataException">Not a window of this version, truncated, corrupt, or not sorted.</exception>
    public static EventIdWindow Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderLength + CheckLength || !data[..4].SequenceEqual(Magic))
            throw new InvalidDataException("Not a de-duplication window: the magic header 'PRIW' is missing or the data is truncated.");
        if (data[4] != Version)
            throw new InvalidDataException($"De-duplication window format version {data[4]} is not supported (this build reads version {Version}).");
        var count = BinaryPrimitives.ReadInt64LittleEndian(data[5..]);
        if (count < 0 || HeaderLength + count * EntryLength + CheckLength != data.Length)
            throw new InvalidDataException($"De-duplication window is truncated or corrupt: {count} entries do not fit its {data.Length} bytes.");
        var body = data[..^CheckLength];
        if (XxHash3.HashToUInt64(body) != BinaryPrimitives.ReadUInt64LittleEndian(data[^CheckLength..]))
            throw new InvalidDataException("De-duplication window is truncated or corrupt: its checksum does not match.");
        var entries = new EventIdWindow.Entry[count];
        var p = HeaderLength;
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = new EventIdWindow.Entry(
                BinaryPrimitives.ReadUInt128LittleEndian(data[p..]),
                BinaryPrimitives.ReadInt32LittleEndian(data[(p + 16)..]),
                BinaryPrimitives.ReadInt64LittleEndian(data[(p + 20)..]),
                BinaryPrimitives.ReadInt32LittleEndian(data[(p + 28)..]));
            if (i > 0 && entries[i].Hash <= entries[i - 1].Hash)
                throw new InvalidDataException($"De-duplication window is corrupt: entry {i} is out of hash order.");
            p += EntryLength;
        }
        return EventIdWindow.FromSorted(entries);
    }
}
