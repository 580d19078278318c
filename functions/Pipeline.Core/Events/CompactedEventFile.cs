using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Pipeline.Core.Events;

/// <summary>
/// The compacted event store's file format: every event of one (reporting day, user shard) folded
/// from many segments, as a sequence of <see cref="EventBlockCodec"/> blocks, with the manifest of
/// the segments it folded (their batch ids) and a generation number. Readers and compactors ignore
/// any segment the manifest names, so a segment that is rewritten after it was folded (a
/// redelivered message) or left behind by a compaction that died before deleting it is never
/// counted twice.
/// </summary>
/// <remarks>
/// Layout (version 1), integers LEB128 varints unless noted:
/// <code>
/// magic      "EVC" 0x01                 4 bytes (the last byte is the format version)
/// generation 1 for the first compaction of the (day, shard), +1 for each one after it
/// events     events in all blocks
/// manifest   number of batch ids, byte length of the entries, then each batch id as (UTF-8 length, UTF-8 bytes),
///            distinct, in ordinal order
/// blocks     number of blocks, then each block's byte length, then the blocks (each an EventBlockCodec block
///            with its own checksum)
/// check      XxHash3 (64-bit, little-endian) of every byte before it   8 bytes
/// </code>
/// A fold keeps the previous generation's blocks byte for byte and appends the new segments'
/// events, re-encoded into blocks of at most <see cref="BlockEvents"/> events (segments are small,
/// and small blocks decode slowly). The output is a pure function of the previous file and the
/// segments folded (in the order given), so two compactions of the same input write the same bytes.
/// </remarks>
public sealed class CompactedEventFile
{
    /// <summary>Format version written by <see cref="Encode"/>.</summary>
    public const byte Version = 1;

    /// <summary>
    /// Events per block written by a fold: large enough to amortise each block's dictionary, small
    /// enough that a block's decoded list (64 KiB of references) stays off the large-object heap
    /// (see docs/performance.md, "Event store compaction").
    /// </summary>
    public const int BlockEvents = 8_192;

    private static ReadOnlySpan<byte> Magic => "EVC"u8;
    private const int HeaderLength = 4;
    private const int CheckLength = 8;
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlyMemory<byte> _manifest;
    private string[]? _folded;

    private CompactedEventFile(long generation, long eventCount, int foldedCount, ReadOnlyMemory<byte> manifest, string[]? folded, IReadOnlyList<ReadOnlyMemory<byte>> blocks)
    {
        Generation = generation;
        EventCount = eventCount;
        FoldedCount = foldedCount;
        _manifest = manifest;
        _folded = folded;
        Blocks = blocks;
    }

    /// <summary>1 for the first compaction of the (day, shard), one more for each one after it.</summary>
    public long Generation { get; }

    /// <summary>Events in all <see cref="Blocks"/>.</summary>
    public long EventCount { get; }

    /// <summary>Number of segments in the manifest.</summary>
    public int FoldedCount { get; }

    /// <summary>The encoded event blocks, in order (slices of the decoded data: no copy).</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Blocks { get; }

    /// <summary>The batch ids of every segment folded into this file, in ordinal order (decoded on first use).</summary>
    public IReadOnlyList<string> Folded => _folded ??= DecodeManifest(_manifest.Span, FoldedCount);

    /// <summary>Whether the segment of <paramref name="batchId"/> is folded into this file.</summary>
    public bool HasFolded(string batchId)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        var folded = _folded ??= DecodeManifest(_manifest.Span, FoldedCount);
        return Array.BinarySearch(folded, batchId, StringComparer.Ordinal) >= 0;
    }

    /// <summary>
    /// The next generation: this file's blocks (or none, for the first compaction) followed by the
    /// events of <paramref name="segments"/> in the order given, and a manifest naming every segment
    /// folded so far.
    /// </summary>
    /// <param name="previous">The current compacted file, or null when the (day, shard) was never compacted.</param>
    /// <param name="segments">Segments not yet folded: batch id and the segment's encoded block.</param>
    /// <exception cref="ArgumentException">A segment is already folded, or named twice.</exception>
    /// <exception cref="InvalidDataException">A segment's block is corrupt.</exception>
    /// <param name="blockEvents">Events per new block (<see cref="BlockEvents"/>; other values for benchmarks and tests).</param>
    public static byte[] Fold(CompactedEventFile? previous, IReadOnlyList<(string BatchId, ReadOnlyMemory<byte> Block)> segments, int blockEvents = BlockEvents)
    {
        ArgumentNullException.ThrowIfNull(segments);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockEvents, 1);
        var names = new List<string>((previous?.FoldedCount ?? 0) + segments.Count);
        if (previous is not null) names.AddRange(previous.Folded);
        var blocks = new List<ReadOnlyMemory<byte>>();
        if (previous is not null) blocks.AddRange(previous.Blocks);

        var pending = new List<PipelineEvent>(blockEvents);
        long added = 0;
        foreach (var (batchId, block) in segments)
        {
            if (previous is not null && previous.HasFolded(batchId))
                throw new ArgumentException($"Segment {batchId} is already folded into generation {previous.Generation}.", nameof(segments));
            names.Add(batchId);
            List<PipelineEvent> events;
            try
            {
                events = EventBlockCodec.Decode(block.Span);
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"Segment {batchId}: {ex.Message}", ex);
            }
            foreach (var e in events)
            {
                pending.Add(e);
                if (pending.Count == blockEvents) Flush();
            }
            added += events.Count;
        }
        Flush();
        return Encode((previous?.Generation ?? 0) + 1, names, blocks, (previous?.EventCount ?? 0) + added);

        void Flush()
        {
            if (pending.Count == 0) return;
            blocks.Add(EventBlockCodec.Encode(pending));
            pending.Clear();
        }
    }

    /// <summary>Encodes a compacted file. <paramref name="eventCount"/> must be the events in <paramref name="blocks"/> (it is not re-counted).</summary>
    /// <exception cref="ArgumentException">A batch id is empty, contains '/', or is named twice.</exception>
    public static byte[] Encode(long generation, IEnumerable<string> folded, IReadOnlyList<ReadOnlyMemory<byte>> blocks, long eventCount)
    {
        ArgumentNullException.ThrowIfNull(folded);
        ArgumentNullException.ThrowIfNull(blocks);
        ArgumentOutOfRangeException.ThrowIfNegative(generation);
        ArgumentOutOfRangeException.ThrowIfNegative(eventCount);

        var names = folded.ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        var manifest = new ArrayBufferWriter<byte>(names.Length * 38 + 16);
        for (var i = 0; i < names.Length; i++)
        {
            var name = names[i];
            if (string.IsNullOrEmpty(name) || name.Contains('/', StringComparison.Ordinal))
                throw new ArgumentException($"'{name}' is not a segment's batch id.", nameof(folded));
            if (i > 0 && string.Equals(names[i - 1], name, StringComparison.Ordinal))
                throw new ArgumentException($"Segment {name} is named twice in the manifest.", nameof(folded));
            WriteVarint(manifest, (ulong)Utf8.GetByteCount(name));
            var span = manifest.GetSpan(Utf8.GetMaxByteCount(name.Length));
            manifest.Advance(Utf8.GetBytes(name, span));
        }

        // The header (small) first, then one array of the file's exact length: the blocks are most of the file
        // (tens of MB for a large shard-day), so they are copied once, into the result, and never into a buffer
        // that is copied again.
        var head = new ArrayBufferWriter<byte>(manifest.WrittenCount + blocks.Count * 4 + 64);
        head.Write(Magic);
        head.Write([Version]);
        WriteVarint(head, (ulong)generation);
        WriteVarint(head, (ulong)eventCount);
        WriteVarint(head, (ulong)names.Length);
        WriteVarint(head, (ulong)manifest.WrittenCount);
        head.Write(manifest.WrittenSpan);
        WriteVarint(head, (ulong)blocks.Count);
        foreach (var b in blocks) WriteVarint(head, (ulong)b.Length);

        var length = (long)head.WrittenCount + CheckLength;
        foreach (var b in blocks) length += b.Length;
        if (length > Array.MaxLength) throw new ArgumentException($"A compacted file of {length:N0} bytes is larger than one array can hold.", nameof(blocks));
        var result = new byte[length];
        head.WrittenSpan.CopyTo(result);
        var at = head.WrittenCount;
        foreach (var b in blocks)
        {
            b.Span.CopyTo(result.AsSpan(at));
            at += b.Length;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(at), XxHash3.HashToUInt64(result.AsSpan(0, at)));
        return result;
    }

    /// <summary>
    /// Reads a compacted file: checks it whole (checksum, structure), slices its blocks without
    /// copying, and leaves the manifest encoded until <see cref="Folded"/> or <see cref="HasFolded"/>
    /// needs it. The blocks themselves are checked when they are decoded.
    /// </summary>
    /// <exception cref="InvalidDataException">The data is not a compacted file of a known version, or it is truncated or corrupt.</exception>
    public static CompactedEventFile Decode(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        if (span.Length < HeaderLength + CheckLength)
            throw new InvalidDataException($"Compacted event file is truncated: {span.Length} bytes is shorter than the header and checksum.");
        if (!span[..3].SequenceEqual(Magic))
            throw new InvalidDataException("Not a compacted event file: the magic header 'EVC' is missing.");
        if (span[3] != Version)
            throw new InvalidDataException($"Compacted event file format version {span[3]} is not supported (this build reads version {Version}).");
        var payloadLength = span.Length - CheckLength;
        if (XxHash3.HashToUInt64(span[..payloadLength]) != BinaryPrimitives.ReadUInt64LittleEndian(span[payloadLength..]))
            throw new InvalidDataException("Compacted event file is truncated or corrupt: its checksum does not match.");

        var position = HeaderLength;
        var generation = ReadLong(span, payloadLength, ref position, "generation");
        var eventCount = ReadLong(span, payloadLength, ref position, "event count");
        var foldedCount = ReadCount(span, payloadLength, ref position, "manifest count");
        var manifestLength = ReadCount(span, payloadLength, ref position, "manifest length");
        var manifest = data.Slice(position, manifestLength);
        position += manifestLength;
        var blockCount = ReadCount(span, payloadLength, ref position, "block count");
        var lengths = new int[blockCount];
        for (var i = 0; i < blockCount; i++) lengths[i] = ReadCount(span, payloadLength, ref position, "block length");
        var blocks = new ReadOnlyMemory<byte>[blockCount];
        for (var i = 0; i < blockCount; i++)
        {
            if (lengths[i] > payloadLength - position) throw Corrupt($"block {i} runs past the end of the file");
            blocks[i] = data.Slice(position, lengths[i]);
            position += lengths[i];
        }
        if (position != payloadLength) throw Corrupt($"{payloadLength - position} unexpected bytes after the last block");
        return new CompactedEventFile(generation, eventCount, foldedCount, manifest, null, blocks);
    }

    private static string[] DecodeManifest(ReadOnlySpan<byte> manifest, int count)
    {
        var names = new string[count];
        var position = 0;
        for (var i = 0; i < count; i++)
        {
            var length = ReadCount(manifest, manifest.Length, ref position, "batch id length");
            try
            {
                names[i] = Utf8.GetString(manifest.Slice(position, length));
            }
            catch (DecoderFallbackException)
            {
                throw Corrupt($"batch id {i} of the manifest is not UTF-8");
            }
            position += length;
            if (i > 0 && string.CompareOrdinal(names[i - 1], names[i]) >= 0) throw Corrupt("the manifest is not in order");
        }
        if (position != manifest.Length) throw Corrupt("the manifest's length does not match its entries");
        return names;
    }

    private static void WriteVarint(IBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        output.Advance(i);
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, int end, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= end) throw Corrupt("unexpected end of data");
            var b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw Corrupt("a varint is longer than 10 bytes");
    }

    private static long ReadLong(ReadOnlySpan<byte> data, int end, ref int position, string what)
    {
        var value = ReadVarint(data, end, ref position);
        return value <= long.MaxValue ? (long)value : throw Corrupt($"{what} {value} is out of range");
    }

    /// <summary>A count or length that must fit what remains (each item takes at least one byte).</summary>
    private static int ReadCount(ReadOnlySpan<byte> data, int end, ref int position, string what)
    {
        var value = ReadVarint(data, end, ref position);
        return value <= (ulong)(end - position) ? (int)value : throw Corrupt($"{what} {value} exceeds the {end - position} bytes left");
    }

    private static InvalidDataException Corrupt(string what) => new($"Compacted event file is corrupt: {what}.");
}
