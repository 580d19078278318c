using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Pipeline.Core.Events;

/// <summary>Where one user shard's events sit inside an <see cref="EventBatchFile"/>.</summary>
/// <param name="Offset">Byte offset of the shard's <see cref="EventBlockCodec"/> block from the start of the file.</param>
/// <param name="Length">Byte length of the block.</param>
public readonly record struct EventBatchSection(int Shard, long Offset, int Length);

/// <summary>
/// The event store's segment format: the accepted events of one landing batch that fall on one
/// reporting day, one <see cref="EventBlockCodec"/> block per user shard, behind an index of where
/// each shard's block is. One blob per (day, batch) instead of one per (day, shard, batch): a batch of
/// 500 events that touches every shard is one storage write, not one per shard, and a day of 1,000,000
/// events is ≈ 2,000 blobs, not ≈ 32,000 (see docs/performance.md, "A large day through storage").
/// </summary>
/// <remarks>
/// <para>Layout (version 1), integers little-endian:</para>
/// <code>
/// magic     "EVS" 0x01                                 4 bytes (the last byte is the format version)
/// sections  number of shard blocks n                   int32
/// index     n × (shard int32, block length int32)      shards strictly ascending
/// blocks    the n blocks, in index order               each an EventBlockCodec block with its own checksum
/// </code>
/// <para>A reader of one shard needs one ranged read: the index gives the block's offset and length,
/// and the same index is also written in the blob's metadata (<see cref="FormatIndex"/>), which a
/// listing returns, so a shard that is not in a batch never reads it at all. Blocks are in shard
/// order, so the blocks of a contiguous range of shards are one contiguous range of bytes (the
/// day compaction reads a group of shards' blocks of a batch in one request).</para>
/// <para>The header carries no checksum of its own: each block checks itself, and a header that points
/// anywhere but at whole blocks makes a block fail its check or the lengths fail to add up.</para>
/// </remarks>
public static class EventBatchFile
{
    /// <summary>Format version written by <see cref="Encode"/>.</summary>
    public const byte Version = 1;

    private static ReadOnlySpan<byte> Magic => "EVS"u8;
    private const int FixedHeader = 8;
    private const int EntryLength = 8;

    /// <summary>Byte length of the header of a file with <paramref name="sections"/> shard blocks (where the first block starts).</summary>
    public static long HeaderLength(int sections) => FixedHeader + (long)EntryLength * sections;

    /// <summary>Encodes the shards' blocks (each already an <see cref="EventBlockCodec"/> block) into one file.</summary>
    /// <exception cref="ArgumentException">No block, a negative shard, or shards not strictly ascending.</exception>
    public static byte[] Encode(IReadOnlyList<(int Shard, byte[] Block)> blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count == 0) throw new ArgumentException("A batch file holds at least one shard's block.", nameof(blocks));
        var length = HeaderLength(blocks.Count);
        for (var i = 0; i < blocks.Count; i++)
        {
            if (blocks[i].Shard < 0) throw new ArgumentException($"Shard {blocks[i].Shard} is negative.", nameof(blocks));
            if (i > 0 && blocks[i].Shard <= blocks[i - 1].Shard)
                throw new ArgumentException($"Shards must be strictly ascending: {blocks[i - 1].Shard} then {blocks[i].Shard}.", nameof(blocks));
            length += blocks[i].Block.Length;
        }
        var bytes = new byte[checked((int)length)];
        Magic.CopyTo(bytes);
        bytes[3] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), blocks.Count);
        var at = (int)HeaderLength(blocks.Count);
        for (var i = 0; i < blocks.Count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(FixedHeader + (i * EntryLength)), blocks[i].Shard);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(FixedHeader + (i * EntryLength) + 4), blocks[i].Block.Length);
            blocks[i].Block.CopyTo(bytes, at);
            at += blocks[i].Block.Length;
        }
        return bytes;
    }

    /// <summary>Reads the index of a whole file, checking that it accounts for every byte.</summary>
    /// <exception cref="InvalidDataException">Not a batch file, an unknown version, or an index that does not match the file.</exception>
    public static IReadOnlyList<EventBatchSection> ReadIndex(ReadOnlySpan<byte> file)
    {
        var sections = ReadHeader(file);
        var end = sections[^1].Offset + sections[^1].Length;
        if (end != file.Length)
            throw new InvalidDataException($"Event batch file index covers {end} bytes, the file has {file.Length}.");
        return sections;
    }

    /// <summary>The number of shard blocks a file declares, from its first 8 bytes (to know how much header to read).</summary>
    /// <exception cref="InvalidDataException">Not a batch file, or an unknown version.</exception>
    public static int DeclaredSections(ReadOnlySpan<byte> start)
    {
        if (start.Length < FixedHeader || !start[..3].SequenceEqual(Magic))
            throw new InvalidDataException("Not an event batch file (bad magic).");
        if (start[3] != Version)
            throw new InvalidDataException($"Event batch file version {start[3]} is not supported (this build reads version {Version}).");
        var count = BinaryPrimitives.ReadInt32LittleEndian(start[4..]);
        if (count < 1) throw new InvalidDataException($"Event batch file declares {count} shard blocks.");
        return count;
    }

    /// <summary>Reads the index from the start of a file (at least <see cref="HeaderLength"/> of its <see cref="DeclaredSections"/> bytes).</summary>
    /// <exception cref="InvalidDataException">Not a batch file, an unknown version, or a header cut short or out of order.</exception>
    public static IReadOnlyList<EventBatchSection> ReadHeader(ReadOnlySpan<byte> start)
    {
        var count = DeclaredSections(start);
        if (HeaderLength(count) > start.Length)
            throw new InvalidDataException($"Event batch file declares {count} shard blocks, which its {start.Length} bytes cannot hold.");
        var sections = new EventBatchSection[count];
        var offset = HeaderLength(count);
        for (var i = 0; i < count; i++)
        {
            var shard = BinaryPrimitives.ReadInt32LittleEndian(start[(FixedHeader + (i * EntryLength))..]);
            var length = BinaryPrimitives.ReadInt32LittleEndian(start[(FixedHeader + (i * EntryLength) + 4)..]);
            if (shard < 0 || (i > 0 && shard <= sections[i - 1].Shard) || length < 0)
                throw new InvalidDataException($"Event batch file index entry {i} (shard {shard}, {length} bytes) is out of order or negative.");
            sections[i] = new EventBatchSection(shard, offset, length);
            offset += length;
        }
        return sections;
    }

    /// <summary>The index as blob metadata: <c>shard:length</c> pairs, comma-separated, in shard order (offsets follow from the lengths).</summary>
    public static string FormatIndex(IReadOnlyList<EventBatchSection> sections)
    {
        ArgumentNullException.ThrowIfNull(sections);
        var text = new StringBuilder(sections.Count * 8);
        foreach (var s in sections)
        {
            if (text.Length > 0) text.Append(',');
            text.Append(s.Shard.ToString(CultureInfo.InvariantCulture)).Append(':').Append(s.Length.ToString(CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    /// <summary>Parses <see cref="FormatIndex"/>'s text back into sections with their offsets; null when it is not well formed (the reader then reads the file's own index).</summary>
    public static IReadOnlyList<EventBatchSection>? ParseIndex(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var parts = text.Split(',');
        var sections = new EventBatchSection[parts.Length];
        var offset = HeaderLength(parts.Length);
        for (var i = 0; i < parts.Length; i++)
        {
            var colon = parts[i].IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0
                || !int.TryParse(parts[i].AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var shard)
                || !int.TryParse(parts[i].AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
                || (i > 0 && shard <= sections[i - 1].Shard))
                return null;
            sections[i] = new EventBatchSection(shard, offset, length);
            offset += length;
        }
        return sections;
    }

    /// <summary>The section of <paramref name="shard"/>, or null when the batch has no events in it.</summary>
    public static EventBatchSection? Find(IReadOnlyList<EventBatchSection> sections, int shard)
    {
        ArgumentNullException.ThrowIfNull(sections);
        int lo = 0, hi = sections.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sections[mid].Shard == shard) return sections[mid];
            if (sections[mid].Shard < shard) lo = mid + 1;
            else hi = mid - 1;
        }
        return null;
    }
}
