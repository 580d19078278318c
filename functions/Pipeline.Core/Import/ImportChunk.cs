using System.Buffers;
using Pipeline.Core.Ingest;

namespace Pipeline.Core.Import;

/// <summary>
/// One batch of an import: a request body <c>{"events":[…]}</c> built from the events' JSON text as read
/// (nothing re-serialised), within the contract's limits (<see cref="IngestLimits.MaxEvents"/> events,
/// <see cref="IngestLimits.MaxBodyBytes"/> bytes), with the line of each event, and the lines rejected
/// before validation that were read while it filled. The body lives in a pooled buffer: dispose the chunk
/// once its batch is answered.
/// </summary>
internal sealed class ImportChunk : IDisposable
{
    private static readonly byte[] Prefix = "{\"events\":["u8.ToArray();
    private static readonly byte[] Suffix = "]}"u8.ToArray();

    private readonly int _maxEvents;
    private readonly int _maxBytes;
    private byte[]? _buffer;
    private int _length;
    private bool _closed;

    public ImportChunk(long sequence, int maxEvents = IngestLimits.MaxEvents, int maxBytes = IngestLimits.MaxBodyBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxEvents, IngestLimits.MaxEvents);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBytes, IngestLimits.MaxBodyBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, MinBytesFor(ImportLimits.MaxItemBytes));
        Sequence = sequence;
        _maxEvents = maxEvents;
        _maxBytes = maxBytes;
    }

    /// <summary>The smallest body limit that holds one event of <paramref name="eventBytes"/> bytes.</summary>
    public static int MinBytesFor(int eventBytes) => Prefix.Length + eventBytes + Suffix.Length;

    /// <summary>Position of the chunk in the file (0, 1, …).</summary>
    public long Sequence { get; }

    /// <summary>Line of each event of the body, by its index in <c>events</c>.</summary>
    public List<long> Lines { get; } = [];

    /// <summary>Position of each event in the batch file's <c>events</c> (-1 for NDJSON), by its index.</summary>
    public List<int> Ordinals { get; } = [];

    /// <summary>Hash of each event's <c>eventId</c> (0: none), by its index.</summary>
    public List<ulong> IdHashes { get; } = [];

    /// <summary>Lines rejected before validation while this chunk was filled, in line order.</summary>
    public List<ImportRejection> EarlyRejections { get; } = [];

    public int Count => Lines.Count;

    /// <summary>Bytes of the body so far, with its closing <c>]}</c>.</summary>
    public int BodyBytes => Prefix.Length + _length + Suffix.Length;

    /// <summary>Adds an event, or returns false (changing nothing) when it would break a limit: the caller starts the next chunk.</summary>
    public bool TryAdd(ReadOnlySpan<byte> json, long line, int ordinal, ulong idHash)
    {
        if (_closed) throw new InvalidOperationException("The chunk's body was already taken.");
        var needed = json.Length + (Count > 0 ? 1 : 0);
        if (Count == _maxEvents || BodyBytes + needed > _maxBytes) return false;
        _buffer ??= ArrayPool<byte>.Shared.Rent(_maxBytes);
        if (_length == 0) Prefix.CopyTo(_buffer, 0);
        var at = Prefix.Length + _length;
        if (Count > 0) _buffer[at++] = (byte)',';
        json.CopyTo(_buffer.AsSpan(at));
        _length += needed;
        Lines.Add(line);
        Ordinals.Add(ordinal);
        IdHashes.Add(idHash);
        return true;
    }

    /// <summary>True when no further event fits by count.</summary>
    public bool IsFull => Count == _maxEvents;

    /// <summary>The body, closed with <c>]}</c>; no event can be added after.</summary>
    public ReadOnlyMemory<byte> Body()
    {
        if (_buffer is null) throw new InvalidOperationException("The chunk has no events.");
        if (!_closed)
        {
            Suffix.CopyTo(_buffer, Prefix.Length + _length);
            _closed = true;
        }
        return _buffer.AsMemory(0, BodyBytes);
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = null;
        if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
    }
}
