using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Text;

namespace Pipeline.Core.Events;

/// <summary>
/// The event store's file format: a compact binary block of <see cref="PipelineEvent"/>s, built
/// for rollup speed (decoding is a linear scan with no parsing of text and one allocation per
/// distinct string of the block, not per occurrence).
/// </summary>
/// <remarks>
/// Layout (version 1), all integers LEB128 varints unless noted, signed ones zigzag-encoded:
/// <code>
/// magic   "EVB" 0x01                  4 bytes (the last byte is the format version)
/// count   events in the block
/// strings number of dictionary strings, then each as (UTF-8 length, UTF-8 bytes)
/// events  count times:
///   type, platform, shareTarget, errorKind      1 byte each
///   presence                                     bitmask of the nullable fields (see Field)
///   eventId                                      inline string (unique per event: not in the dictionary)
///   timeMs                                       zigzag delta from the previous event's time (the first from 0)
///   miniProgramId                                dictionary index
///   each present nullable field, in Field order: dictionary index, inline string or zigzag number
///   (the last two, source and receivedMs (zigzag delta from the previous event that has one), were added
///   later: a block without them reads as events of no known source and receipt time)
/// check   XxHash3 (64-bit, little-endian) of every byte before it   8 bytes
/// </code>
/// Strings that repeat across events (user keys, mini-program ids, sessions, pages, currencies…)
/// are dictionary entries; strings that are usually unique (event id, order id, error message,
/// extra props) are inline. Strings are stored as UTF-8: an ill-formed UTF-16 string (a lone
/// surrogate) comes back with U+FFFD in its place, as it would from the JSON landing blob.
/// </remarks>
public static class EventBlockCodec
{
    /// <summary>Format version written by <see cref="Encode"/>.</summary>
    public const byte Version = 1;

    private static ReadOnlySpan<byte> Magic => "EVB"u8;
    internal const int HeaderLength = 4;
    private const int CheckLength = 8;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    // Bit positions of the presence mask. Persisted: never renumber, only append.
    internal enum Field
    {
        CustomName = 0,
        UserKey = 1,
        SessionId = 2,
        Scene = 3,
        LoadMs = 4,
        ReferrerMiniProgramId = 5,
        DurationMs = 6,
        Page = 7,
        OrderId = 8,
        Amount = 9,
        Currency = 10,
        MerchantId = 11,
        AdUnitId = 12,
        Revenue = 13,
        Message = 14,
        Reason = 15,
        Scope = 16,
        DeveloperId = 17,
        Version = 18,
        Category = 19,
        ExtraProps = 20,
        Source = 21,
        ReceivedMs = 22,
    }

    internal const uint KnownFields = (1u << 23) - 1;

    /// <summary>
    /// Encodes the events as one block. <paramref name="source"/> and <paramref name="receivedMs"/>, when
    /// given, are stored for every event whose own <see cref="PipelineEvent.Source"/> or
    /// <see cref="PipelineEvent.ReceivedMs"/> is null (a segment is one batch of one source, received at once).
    /// </summary>
    public static byte[] Encode(IReadOnlyList<PipelineEvent> events, string? source = null, long? receivedMs = null)
    {
        ArgumentNullException.ThrowIfNull(events);

        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        var stringList = new List<string>();
        var body = new ByteWriter(events.Count * 48 + 16);
        long previousTime = 0, previousReceived = 0;

        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i] ?? throw new ArgumentException($"Event {i} is null.", nameof(events));
            body.WriteByte((byte)e.Type);
            body.WriteByte((byte)e.Platform);
            body.WriteByte((byte)e.ShareTarget);
            body.WriteByte((byte)e.ErrorKind);
            var eventSource = e.Source ?? source;
            var eventReceived = e.ReceivedMs ?? receivedMs;
            body.WriteVarint(PresenceOf(e) | (eventSource is null ? 0 : Bit(Field.Source)) | (eventReceived is null ? 0 : Bit(Field.ReceivedMs)));
            body.WriteString(e.EventId ?? throw new ArgumentException($"Event {i} has no EventId.", nameof(events)));
            body.WriteVarint(ZigZag(e.TimeMs - previousTime));
            previousTime = e.TimeMs;
            body.WriteVarint((ulong)IndexOf(e.MiniProgramId ?? throw new ArgumentException($"Event {i} has no MiniProgramId.", nameof(events))));

            if (e.CustomName is { } customName) body.WriteVarint((ulong)IndexOf(customName));
            if (e.UserKey is { } userKey) body.WriteVarint((ulong)IndexOf(userKey));
            if (e.SessionId is { } sessionId) body.WriteVarint((ulong)IndexOf(sessionId));
            if (e.Scene is { } scene) body.WriteVarint(ZigZag(scene));
            if (e.LoadMs is { } loadMs) body.WriteVarint(ZigZag(loadMs));
            if (e.ReferrerMiniProgramId is { } referrer) body.WriteVarint((ulong)IndexOf(referrer));
            if (e.DurationMs is { } durationMs) body.WriteVarint(ZigZag(durationMs));
            if (e.Page is { } page) body.WriteVarint((ulong)IndexOf(page));
            if (e.OrderId is { } orderId) body.WriteString(orderId);
            if (e.Amount is { } amount) body.WriteVarint(ZigZag(amount));
            if (e.Currency is { } currency) body.WriteVarint((ulong)IndexOf(currency));
            if (e.MerchantId is { } merchantId) body.WriteVarint((ulong)IndexOf(merchantId));
            if (e.AdUnitId is { } adUnitId) body.WriteVarint((ulong)IndexOf(adUnitId));
            if (e.Revenue is { } revenue) body.WriteVarint(ZigZag(revenue));
            if (e.Message is { } message) body.WriteString(message);
            if (e.Reason is { } reason) body.WriteVarint((ulong)IndexOf(reason));
            if (e.Scope is { } scope) body.WriteVarint((ulong)IndexOf(scope));
            if (e.DeveloperId is { } developerId) body.WriteVarint((ulong)IndexOf(developerId));
            if (e.Version is { } version) body.WriteVarint((ulong)IndexOf(version));
            if (e.Category is { } category) body.WriteVarint((ulong)IndexOf(category));
            if (e.ExtraProps is { } extraProps) body.WriteString(extraProps);
            if (eventSource is not null) body.WriteVarint((ulong)IndexOf(eventSource));
            if (eventReceived is { } received)
            {
                body.WriteVarint(ZigZag(received - previousReceived));
                previousReceived = received;
            }
        }

        var output = new ByteWriter(body.Length + stringList.Count * 24 + 32);
        output.WriteBytes(Magic);
        output.WriteByte(Version);
        output.WriteVarint((ulong)events.Count);
        output.WriteVarint((ulong)stringList.Count);
        foreach (var s in stringList) output.WriteString(s);
        output.WriteBytes(body.WrittenSpan);
        var check = XxHash3.HashToUInt64(output.WrittenSpan);
        Span<byte> checkBytes = stackalloc byte[CheckLength];
        BinaryPrimitives.WriteUInt64LittleEndian(checkBytes, check);
        output.WriteBytes(checkBytes);
        return output.ToArray();

        int IndexOf(string value)
        {
            if (!strings.TryGetValue(value, out var index))
            {
                index = stringList.Count;
                strings.Add(value, index);
                stringList.Add(value);
            }
            return index;
        }
    }

    /// <summary>Decodes a block written by <see cref="Encode"/>.</summary>
    /// <exception cref="InvalidDataException">The data is not a block of a known version, or it is truncated or corrupt.</exception>
    public static List<PipelineEvent> Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderLength + CheckLength)
            throw new InvalidDataException($"Event block is truncated: {data.Length} bytes is shorter than the header and checksum.");
        if (!data[..3].SequenceEqual(Magic))
            throw new InvalidDataException("Not an event block: the magic header 'EVB' is missing.");
        if (data[3] != Version)
            throw new InvalidDataException($"Event block format version {data[3]} is not supported (this build reads version {Version}).");

        var payload = data[..^CheckLength];
        var expected = BinaryPrimitives.ReadUInt64LittleEndian(data[^CheckLength..]);
        if (XxHash3.HashToUInt64(payload) != expected)
            throw new InvalidDataException("Event block is truncated or corrupt: its checksum does not match.");

        var reader = new ByteReader(payload[HeaderLength..]);
        var count = reader.ReadCount("event count");
        var stringCount = reader.ReadCount("string count");
        var strings = new string[stringCount];
        for (var i = 0; i < strings.Length; i++) strings[i] = reader.ReadString();

        var events = new List<PipelineEvent>(count);
        long time = 0, received = 0;
        for (var i = 0; i < count; i++)
        {
            var typeByte = reader.ReadByte();
            if (typeByte is < (byte)EventType.SessionStart or > (byte)EventType.Custom)
                throw new InvalidDataException($"Event block is corrupt: event {i} has unknown type {typeByte}.");
            var platform = (Platform)reader.ReadByte();
            var shareTarget = (ShareTarget)reader.ReadByte();
            var errorKind = (ErrorKind)reader.ReadByte();
            var presence = reader.ReadVarint();
            if ((presence & ~(ulong)KnownFields) != 0)
                throw new InvalidDataException($"Event block is corrupt: event {i} has unknown fields (presence mask 0x{presence:X}).");
            var eventId = reader.ReadString();
            time += UnZigZag(reader.ReadVarint());
            var miniProgramId = reader.ReadIndexed(strings);

            events.Add(new PipelineEvent
            {
                EventId = eventId,
                Type = (EventType)typeByte,
                TimeMs = time,
                MiniProgramId = miniProgramId,
                Platform = platform,
                ShareTarget = shareTarget,
                ErrorKind = errorKind,
                // Object-initialiser order is evaluation order: keep it the Field order.
                CustomName = Has(presence, Field.CustomName) ? reader.ReadIndexed(strings) : null,
                UserKey = Has(presence, Field.UserKey) ? reader.ReadIndexed(strings) : null,
                SessionId = Has(presence, Field.SessionId) ? reader.ReadIndexed(strings) : null,
                Scene = Has(presence, Field.Scene) ? reader.ReadInt32() : null,
                LoadMs = Has(presence, Field.LoadMs) ? UnZigZag(reader.ReadVarint()) : null,
                ReferrerMiniProgramId = Has(presence, Field.ReferrerMiniProgramId) ? reader.ReadIndexed(strings) : null,
                DurationMs = Has(presence, Field.DurationMs) ? UnZigZag(reader.ReadVarint()) : null,
                Page = Has(presence, Field.Page) ? reader.ReadIndexed(strings) : null,
                OrderId = Has(presence, Field.OrderId) ? reader.ReadString() : null,
                Amount = Has(presence, Field.Amount) ? UnZigZag(reader.ReadVarint()) : null,
                Currency = Has(presence, Field.Currency) ? reader.ReadIndexed(strings) : null,
                MerchantId = Has(presence, Field.MerchantId) ? reader.ReadIndexed(strings) : null,
                AdUnitId = Has(presence, Field.AdUnitId) ? reader.ReadIndexed(strings) : null,
                Revenue = Has(presence, Field.Revenue) ? UnZigZag(reader.ReadVarint()) : null,
                Message = Has(presence, Field.Message) ? reader.ReadString() : null,
                Reason = Has(presence, Field.Reason) ? reader.ReadIndexed(strings) : null,
                Scope = Has(presence, Field.Scope) ? reader.ReadIndexed(strings) : null,
                DeveloperId = Has(presence, Field.DeveloperId) ? reader.ReadIndexed(strings) : null,
                Version = Has(presence, Field.Version) ? reader.ReadIndexed(strings) : null,
                Category = Has(presence, Field.Category) ? reader.ReadIndexed(strings) : null,
                ExtraProps = Has(presence, Field.ExtraProps) ? reader.ReadString() : null,
                Source = Has(presence, Field.Source) ? reader.ReadIndexed(strings) : null,
                ReceivedMs = Has(presence, Field.ReceivedMs) ? (long?)(received += UnZigZag(reader.ReadVarint())) : null,
            });
        }

        if (!reader.AtEnd)
            throw new InvalidDataException($"Event block is corrupt: {reader.Remaining} unexpected bytes after the last event.");
        return events;
    }

    /// <summary>
    /// Opens a block for streaming reads without materialising events (see <see cref="EventBlockReader"/>):
    /// checks the header and the checksum, then reads the event and string counts.
    /// </summary>
    /// <exception cref="InvalidDataException">The data is not a block of a known version, or it is truncated or corrupt.</exception>
    public static EventBlockReader Open(ReadOnlySpan<byte> data) => new(data);

    internal static ReadOnlySpan<byte> CheckedPayload(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderLength + CheckLength)
            throw new InvalidDataException($"Event block is truncated: {data.Length} bytes is shorter than the header and checksum.");
        if (!data[..3].SequenceEqual(Magic))
            throw new InvalidDataException("Not an event block: the magic header 'EVB' is missing.");
        if (data[3] != Version)
            throw new InvalidDataException($"Event block format version {data[3]} is not supported (this build reads version {Version}).");
        var payload = data[..^CheckLength];
        var expected = BinaryPrimitives.ReadUInt64LittleEndian(data[^CheckLength..]);
        if (XxHash3.HashToUInt64(payload) != expected)
            throw new InvalidDataException("Event block is truncated or corrupt: its checksum does not match.");
        return payload[HeaderLength..];
    }

    private static ulong PresenceOf(PipelineEvent e)
    {
        ulong mask = 0;
        if (e.CustomName is not null) mask |= Bit(Field.CustomName);
        if (e.UserKey is not null) mask |= Bit(Field.UserKey);
        if (e.SessionId is not null) mask |= Bit(Field.SessionId);
        if (e.Scene is not null) mask |= Bit(Field.Scene);
        if (e.LoadMs is not null) mask |= Bit(Field.LoadMs);
        if (e.ReferrerMiniProgramId is not null) mask |= Bit(Field.ReferrerMiniProgramId);
        if (e.DurationMs is not null) mask |= Bit(Field.DurationMs);
        if (e.Page is not null) mask |= Bit(Field.Page);
        if (e.OrderId is not null) mask |= Bit(Field.OrderId);
        if (e.Amount is not null) mask |= Bit(Field.Amount);
        if (e.Currency is not null) mask |= Bit(Field.Currency);
        if (e.MerchantId is not null) mask |= Bit(Field.MerchantId);
        if (e.AdUnitId is not null) mask |= Bit(Field.AdUnitId);
        if (e.Revenue is not null) mask |= Bit(Field.Revenue);
        if (e.Message is not null) mask |= Bit(Field.Message);
        if (e.Reason is not null) mask |= Bit(Field.Reason);
        if (e.Scope is not null) mask |= Bit(Field.Scope);
        if (e.DeveloperId is not null) mask |= Bit(Field.DeveloperId);
        if (e.Version is not null) mask |= Bit(Field.Version);
        if (e.Category is not null) mask |= Bit(Field.Category);
        if (e.ExtraProps is not null) mask |= Bit(Field.ExtraProps);
        return mask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Bit(Field field) => 1UL << (int)field;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Has(ulong presence, Field field) => (presence & Bit(field)) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    /// <summary>A growable byte buffer (encoding only).</summary>
    private sealed class ByteWriter(int capacity)
    {
        private byte[] _buffer = new byte[Math.Max(capacity, 64)];
        private int _length;

        public int Length => _length;
        public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);
        public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

        public void WriteByte(byte value)
        {
            Ensure(1);
            _buffer[_length++] = value;
        }

        public void WriteBytes(ReadOnlySpan<byte> bytes)
        {
            Ensure(bytes.Length);
            bytes.CopyTo(_buffer.AsSpan(_length));
            _length += bytes.Length;
        }

        public void WriteVarint(ulong value)
        {
            Ensure(10);
            var buffer = _buffer;
            var i = _length;
            while (value >= 0x80)
            {
                buffer[i++] = (byte)(value | 0x80);
                value >>= 7;
            }
            buffer[i++] = (byte)value;
            _length = i;
        }

        public void WriteString(string value)
        {
            var max = Utf8.GetMaxByteCount(value.Length);
            Ensure(max + 10);
            // Short strings (the usual case): encode straight after a one-byte length, else measure first.
            if (max < 0x80)
            {
                var n = Utf8.GetBytes(value, _buffer.AsSpan(_length + 1));
                _buffer[_length] = (byte)n;
                _length += n + 1;
                return;
            }
            var count = Utf8.GetByteCount(value);
            WriteVarint((ulong)count);
            _length += Utf8.GetBytes(value, _buffer.AsSpan(_length));
        }

        private void Ensure(int extra)
        {
            if (_length + extra <= _buffer.Length) return;
            var size = Math.Max(_buffer.Length * 2, _length + extra);
            Array.Resize(ref _buffer, size);
        }
    }

    /// <summary>Bounds-checked reads over the block; every overrun is an <see cref="InvalidDataException"/>.</summary>
    private ref struct ByteReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool AtEnd => _position == _data.Length;
        public readonly int Remaining => _data.Length - _position;

        public byte ReadByte()
        {
            if (_position >= _data.Length) throw Truncated();
            return _data[_position++];
        }

        public ulong ReadVarint()
        {
            ulong result = 0;
            var shift = 0;
            while (true)
            {
                if (_position >= _data.Length) throw Truncated();
                var b = _data[_position++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return result;
                shift += 7;
                if (shift > 63) throw new InvalidDataException("Event block is corrupt: a varint is longer than 10 bytes.");
            }
        }

        /// <summary>A count that must fit what remains (each item takes at least one byte).</summary>
        public int ReadCount(string what)
        {
            var value = ReadVarint();
            if (value > (ulong)Remaining)
                throw new InvalidDataException($"Event block is truncated or corrupt: {what} {value} exceeds the {Remaining} bytes left.");
            return (int)value;
        }

        public int ReadInt32()
        {
            var value = UnZigZag(ReadVarint());
            if (value is < int.MinValue or > int.MaxValue)
                throw new InvalidDataException($"Event block is corrupt: {value} does not fit a 32-bit field.");
            return (int)value;
        }

        public string ReadString()
        {
            var length = ReadVarint();
            if (length > (ulong)Remaining) throw Truncated();
            var s = length == 0 ? string.Empty : Utf8.GetString(_data.Slice(_position, (int)length));
            _position += (int)length;
            return s;
        }

        public string ReadIndexed(string[] strings)
        {
            var index = ReadVarint();
            if (index >= (ulong)strings.Length)
                throw new InvalidDataException($"Event block is corrupt: string index {index} is outside the dictionary of {strings.Length}.");
            return strings[index];
        }

        private readonly InvalidDataException Truncated() =>
            new($"Event block is truncated: unexpected end of data at byte {_position + HeaderLength}.");
    }
}

/// <summary>
/// One event of a block as read by <see cref="EventBlockReader"/>: dictionary strings as indexes into
/// the block's dictionary (-1 when absent), inline strings as UTF-8 bytes of the block (valid until the
/// next read), numbers as they are (meaningful when their <c>Has…</c> is true).
/// </summary>
public ref struct BlockEvent
{
    public EventType Type;
    public Platform Platform;
    public ShareTarget ShareTarget;
    public ErrorKind ErrorKind;

    /// <summary>The presence mask of the nullable fields.</summary>
    public ulong Presence;

    /// <summary>The event id, UTF-8 as stored (inline).</summary>
    public ReadOnlySpan<byte> EventIdUtf8;

    public long TimeMs;

    /// <summary>Dictionary indexes; -1 when the field is absent (<see cref="MiniProgramId"/> is always present).</summary>
    public int MiniProgramId, CustomName, UserKey, SessionId, ReferrerMiniProgramId, Page, Currency, MerchantId, AdUnitId, Reason, Scope, DeveloperId, Version, Category, Source;

    /// <summary>When the event's batch was received, Unix milliseconds; 0 when the block does not say (written before it was stored).</summary>
    public long ReceivedMs;

    public int Scene;
    public long LoadMs, DurationMs, Amount, Revenue;

    /// <summary>Inline strings, UTF-8; empty when absent (see <see cref="HasOrderId"/> …).</summary>
    public ReadOnlySpan<byte> OrderIdUtf8, MessageUtf8, ExtraPropsUtf8;

    public readonly bool HasScene => EventBlockCodec.Has(Presence, EventBlockCodec.Field.Scene);
    public readonly bool HasLoadMs => EventBlockCodec.Has(Presence, EventBlockCodec.Field.LoadMs);
    public readonly bool HasDurationMs => EventBlockCodec.Has(Presence, EventBlockCodec.Field.DurationMs);
    public readonly bool HasAmount => EventBlockCodec.Has(Presence, EventBlockCodec.Field.Amount);
    public readonly bool HasRevenue => EventBlockCodec.Has(Presence, EventBlockCodec.Field.Revenue);
    public readonly bool HasOrderId => EventBlockCodec.Has(Presence, EventBlockCodec.Field.OrderId);
    public readonly bool HasMessage => EventBlockCodec.Has(Presence, EventBlockCodec.Field.Message);
    public readonly bool HasExtraProps => EventBlockCodec.Has(Presence, EventBlockCodec.Field.ExtraProps);
}

/// <summary>
/// Streaming, allocation-free reads of one <see cref="EventBlockCodec"/> block (the same format and the
/// same checks as <see cref="EventBlockCodec.Decode"/>): first the <see cref="StringCount"/> dictionary
/// strings (<see cref="NextString"/>, in index order), then the events (<see cref="TryReadEvent"/>).
/// Strings stay UTF-8 bytes of the block: the caller decides which to turn into <see cref="string"/>s.
/// </summary>
public ref struct EventBlockReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;
    private int _stringsRead, _eventsRead;
    private long _time, _received;

    internal EventBlockReader(ReadOnlySpan<byte> block)
    {
        _data = EventBlockCodec.CheckedPayload(block);
        EventCount = ReadCount("event count");
        StringCount = ReadCount("string count");
    }

    /// <summary>Events in the block.</summary>
    public int EventCount { get; }

    /// <summary>Strings in the block's dictionary.</summary>
    public int StringCount { get; }

    /// <summary>
    /// The next dictionary string: returns its offset in <see cref="Payload"/> and its UTF-8 length. Call it
    /// <see cref="StringCount"/> times, before the first <see cref="TryReadEvent"/>.
    /// </summary>
    public int NextString(out int length)
    {
        if (_stringsRead >= StringCount) throw new InvalidOperationException("Every dictionary string has been read.");
        var n = ReadVarint();
        if (n > (ulong)Remaining) throw Truncated();
        var start = _position;
        length = (int)n;
        _position += length;
        _stringsRead++;
        return start;
    }

    /// <summary>The block's bytes after the header and before the checksum (offsets of <see cref="NextString"/>).</summary>
    public readonly ReadOnlySpan<byte> Payload => _data;

    /// <summary>Reads the next event into <paramref name="e"/>; false after the last one (and then the block is checked to end there).</summary>
    /// <exception cref="InvalidDataException">The block is corrupt.</exception>
    public bool TryReadEvent(ref BlockEvent e)
    {
        while (_stringsRead < StringCount) NextString(out _);
        if (_eventsRead == EventCount)
        {
            if (_position != _data.Length)
                throw new InvalidDataException($"Event block is corrupt: {_data.Length - _position} unexpected bytes after the last event.");
            return false;
        }
        var i = _eventsRead++;
        var typeByte = ReadByte();
        if (typeByte is < (byte)EventType.SessionStart or > (byte)EventType.Custom)
            throw new InvalidDataException($"Event block is corrupt: event {i} has unknown type {typeByte}.");
        e.Type = (EventType)typeByte;
        e.Platform = (Platform)ReadByte();
        e.ShareTarget = (ShareTarget)ReadByte();
        e.ErrorKind = (ErrorKind)ReadByte();
        var presence = ReadVarint();
        if ((presence & ~(ulong)EventBlockCodec.KnownFields) != 0)
            throw new InvalidDataException($"Event block is corrupt: event {i} has unknown fields (presence mask 0x{presence:X}).");
        e.Presence = presence;
        e.EventIdUtf8 = ReadInline();
        _time += EventBlockCodec.UnZigZag(ReadVarint());
        e.TimeMs = _time;
        e.MiniProgramId = ReadIndex();
        // Field order (the format's).
        e.CustomName = Has(presence, EventBlockCodec.Field.CustomName) ? ReadIndex() : -1;
        e.UserKey = Has(presence, EventBlockCodec.Field.UserKey) ? ReadIndex() : -1;
        e.SessionId = Has(presence, EventBlockCodec.Field.SessionId) ? ReadIndex() : -1;
        e.Scene = Has(presence, EventBlockCodec.Field.Scene) ? ReadInt32() : 0;
        e.LoadMs = Has(presence, EventBlockCodec.Field.LoadMs) ? EventBlockCodec.UnZigZag(ReadVarint()) : 0;
        e.ReferrerMiniProgramId = Has(presence, EventBlockCodec.Field.ReferrerMiniProgramId) ? ReadIndex() : -1;
        e.DurationMs = Has(presence, EventBlockCodec.Field.DurationMs) ? EventBlockCodec.UnZigZag(ReadVarint()) : 0;
        e.Page = Has(presence, EventBlockCodec.Field.Page) ? ReadIndex() : -1;
        e.OrderIdUtf8 = Has(presence, EventBlockCodec.Field.OrderId) ? ReadInline() : default;
        e.Amount = Has(presence, EventBlockCodec.Field.Amount) ? EventBlockCodec.UnZigZag(ReadVarint()) : 0;
        e.Currency = Has(presence, EventBlockCodec.Field.Currency) ? ReadIndex() : -1;
        e.MerchantId = Has(presence, EventBlockCodec.Field.MerchantId) ? ReadIndex() : -1;
        e.AdUnitId = Has(presence, EventBlockCodec.Field.AdUnitId) ? ReadIndex() : -1;
        e.Revenue = Has(presence, EventBlockCodec.Field.Revenue) ? EventBlockCodec.UnZigZag(ReadVarint()) : 0;
        e.MessageUtf8 = Has(presence, EventBlockCodec.Field.Message) ? ReadInline() : default;
        e.Reason = Has(presence, EventBlockCodec.Field.Reason) ? ReadIndex() : -1;
        e.Scope = Has(presence, EventBlockCodec.Field.Scope) ? ReadIndex() : -1;
        e.DeveloperId = Has(presence, EventBlockCodec.Field.DeveloperId) ? ReadIndex() : -1;
        e.Version = Has(presence, EventBlockCodec.Field.Version) ? ReadIndex() : -1;
        e.Category = Has(presence, EventBlockCodec.Field.Category) ? ReadIndex() : -1;
        e.ExtraPropsUtf8 = Has(presence, EventBlockCodec.Field.ExtraProps) ? ReadInline() : default;
        e.Source = Has(presence, EventBlockCodec.Field.Source) ? ReadIndex() : -1;
        e.ReceivedMs = Has(presence, EventBlockCodec.Field.ReceivedMs) ? _received += EventBlockCodec.UnZigZag(ReadVarint()) : 0;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Has(ulong presence, EventBlockCodec.Field field) => (presence & (1UL << (int)field)) != 0;

    private readonly int Remaining => _data.Length - _position;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte ReadByte()
    {
        if ((uint)_position >= (uint)_data.Length) throw Truncated();
        return _data[_position++];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ReadVarint()
    {
        // One- and two-byte varints are the usual case.
        var p = _position;
        if ((uint)(p + 1) < (uint)_data.Length)
        {
            var b = _data[p];
            if (b < 0x80)
            {
                _position = p + 1;
                return b;
            }
            var c = _data[p + 1];
            if (c < 0x80)
            {
                _position = p + 2;
                return (ulong)(uint)(b & 0x7F) | ((ulong)c << 7);
            }
        }
        return ReadVarintSlow();
    }

    private ulong ReadVarintSlow()
    {
        ulong result = 0;
        var shift = 0;
        while (true)
        {
            if (_position >= _data.Length) throw Truncated();
            var b = _data[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
            shift += 7;
            if (shift > 63) throw new InvalidDataException("Event block is corrupt: a varint is longer than 10 bytes.");
        }
    }

    private int ReadCount(string what)
    {
        var value = ReadVarint();
        if (value > (ulong)Remaining)
            throw new InvalidDataException($"Event block is truncated or corrupt: {what} {value} exceeds the {Remaining} bytes left.");
        return (int)value;
    }

    private int ReadInt32()
    {
        var value = EventBlockCodec.UnZigZag(ReadVarint());
        if (value is < int.MinValue or > int.MaxValue)
            throw new InvalidDataException($"Event block is corrupt: {value} does not fit a 32-bit field.");
        return (int)value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ReadIndex()
    {
        var index = ReadVarint();
        if (index >= (ulong)StringCount)
            throw new InvalidDataException($"Event block is corrupt: string index {index} is outside the dictionary of {StringCount}.");
        return (int)index;
    }

    private ReadOnlySpan<byte> ReadInline()
    {
        var length = ReadVarint();
        if (length > (ulong)Remaining) throw Truncated();
        var s = _data.Slice(_position, (int)length);
        _position += (int)length;
        return s;
    }

    private readonly InvalidDataException Truncated() =>
        new($"Event block is truncated: unexpected end of data at byte {_position + EventBlockCodec.HeaderLength}.");
}
