using System.Buffers.Binary;
using System.IO.Hashing;
using System.Linq.Expressions;
using System.Numerics;
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
///   type, platform, shareTarget, errorKind      1 byte each (the last two: header-byte props, 0 when absent)
///   presence                                     bitmask of the nullable fields (see Field and EventProps)
///   eventId                                      inline string (unique per event: not in the dictionary)
///   timeMs                                       zigzag delta from the previous event's time (the first from 0)
///   miniProgramId                                dictionary index
///   each present nullable field, in bit order: dictionary index, inline string or zigzag number
///   (source and receivedMs (zigzag delta from the previous event that has one) were added
///   later: a block without them reads as events of no known source and receipt time)
/// check   XxHash3 (64-bit, little-endian) of every byte before it   8 bytes
/// </code>
/// The nullable fields are the event's own (<see cref="Field"/>) and the named props, whose bit and kind
/// (dictionary, inline or number; or a header byte) are their <see cref="EventProps"/> entry's
/// <see cref="EventProp.Codec"/>: both paths below (<see cref="Encode"/>/<see cref="Decode"/> and the
/// streaming <see cref="EventBlockReader"/>) are driven by that table, through the masks of
/// <see cref="DictionaryFields"/> and its siblings. A new field takes bit <see cref="NextFreeFieldId"/>.
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

    /// <summary>
    /// Bits of the presence mask for the event's own nullable fields; the named props' bits are in
    /// <see cref="EventProps"/> (3 to 19 so far). Persisted: never renumber, only append.
    /// </summary>
    internal enum Field
    {
        CustomName = 0,
        UserKey = 1,
        SessionId = 2,
        ExtraProps = 20,
        Source = 21,
        ReceivedMs = 22,
    }

    /// <summary>Every bit of the presence mask in use.</summary>
    internal static readonly ulong KnownFields;

    /// <summary>Fields stored as a dictionary index.</summary>
    internal static readonly ulong DictionaryFields;

    /// <summary>Fields stored as inline UTF-8.</summary>
    internal static readonly ulong InlineFields;

    /// <summary>Fields stored as a zigzag number (<see cref="Int32Fields"/> among them must fit 32 bits).</summary>
    internal static readonly ulong NumberFields;

    internal static readonly ulong Int32Fields;

    /// <summary>Fields stored as the zigzag delta from the previous event's value (receivedMs).</summary>
    internal static readonly ulong DeltaFields;

    /// <summary>The lowest bit of the presence mask not in use: the field id of the next field or prop.</summary>
    public static readonly int NextFreeFieldId;

    /// <summary>The named props stored as header bytes 2 and 3, in that order.</summary>
    private static readonly EventProp[] HeaderProps;

    /// <summary>
    /// Reads every named prop of an event: the value of each present one into <c>texts</c> or <c>numbers</c>
    /// at its bit, and each header-byte prop into <c>header</c>; returns the present ones' bits. Compiled once
    /// from the table, so encoding reads the props as directly as code written out prop by prop.
    /// </summary>
    private static readonly Func<PipelineEvent, string?[], long[], byte[], ulong> CollectProps;

    /// <summary>The reverse of <see cref="CollectProps"/>: stores the present props (and the header-byte ones) into a new event.</summary>
    private static readonly Action<PipelineEvent, ulong, string?[], long[], byte[]> ApplyProps;

    static EventBlockCodec()
    {
        ulong known = 0, dictionary = 0, inline = 0, number = 0, int32 = 0;
        void Use(int id, ref ulong kind, string what)
        {
            var bit = 1UL << id;
            if ((known & bit) != 0) throw new InvalidOperationException($"Event block field {id} ({what}) is used twice.");
            known |= bit;
            kind |= bit;
        }
        Use((int)Field.CustomName, ref dictionary, "customName");
        Use((int)Field.UserKey, ref dictionary, "userKey");
        Use((int)Field.SessionId, ref dictionary, "sessionId");
        Use((int)Field.ExtraProps, ref inline, "extraProps");
        Use((int)Field.Source, ref dictionary, "source");
        ulong delta = 0;
        Use((int)Field.ReceivedMs, ref delta, "receivedMs");
        foreach (var prop in EventProps.All)
        {
            switch (prop.Codec.Kind)
            {
                case PropCodecKind.Dictionary: Use(prop.Codec.Id, ref dictionary, prop.Path); break;
                case PropCodecKind.Inline: Use(prop.Codec.Id, ref inline, prop.Path); break;
                case PropCodecKind.Varint:
                    Use(prop.Codec.Id, ref number, prop.Path);
                    if (prop.ValueType == PropValueType.Int32) int32 |= prop.PresenceBit;
                    break;
            }
        }
        KnownFields = known;
        DictionaryFields = dictionary;
        InlineFields = inline;
        NumberFields = number;
        Int32Fields = int32;
        DeltaFields = delta;
        NextFreeFieldId = BitOperations.TrailingZeroCount(~known);
        HeaderProps = [.. EventProps.All.Where(p => p.Codec.Kind == PropCodecKind.HeaderByte).OrderBy(p => p.Codec.Id)];
        if (!HeaderProps.Select(p => p.Codec.Id).SequenceEqual([2, 3]))
            throw new InvalidOperationException("Format version 1 has exactly two header-byte props, at bytes 2 and 3.");
        CollectProps = CompileCollector();
        ApplyProps = CompileApplier();
    }

    private static Action<PipelineEvent, ulong, string?[], long[], byte[]> CompileApplier()
    {
        var e = Expression.Parameter(typeof(PipelineEvent), "e");
        var presence = Expression.Parameter(typeof(ulong), "presence");
        var texts = Expression.Parameter(typeof(string?[]), "texts");
        var numbers = Expression.Parameter(typeof(long[]), "numbers");
        var header = Expression.Parameter(typeof(byte[]), "header");
        var body = new List<Expression>();
        foreach (var prop in EventProps.All)
        {
            // if ((presence & bit) != 0) e.<Property> = <store>[id];  (the property's init accessor, on a new event)
            var target = Expression.Property(e, prop.Stored.Info);
            var type = prop.Stored.Info.PropertyType;
            var id = Expression.Constant(prop.Codec.Id);
            if (prop.Codec.Kind == PropCodecKind.HeaderByte)
            {
                body.Add(Expression.Assign(target, Expression.Convert(Expression.ArrayAccess(header, Expression.Constant(Array.IndexOf(HeaderProps, prop))), type)));
                continue;
            }
            Expression value = prop.ValueType switch
            {
                PropValueType.Text => Expression.ArrayAccess(texts, id),
                PropValueType.Int32 => Expression.Convert(Expression.Convert(Expression.ArrayAccess(numbers, id), typeof(int)), type),
                PropValueType.Int64 => Expression.Convert(Expression.ArrayAccess(numbers, id), type),
                _ => Expression.Convert(Expression.Convert(Expression.ArrayAccess(numbers, id), typeof(byte)), type),
            };
            body.Add(Expression.IfThen(
                Expression.NotEqual(Expression.And(presence, Expression.Constant(prop.PresenceBit)), Expression.Constant(0UL)),
                Expression.Assign(target, value)));
        }
        return Expression.Lambda<Action<PipelineEvent, ulong, string?[], long[], byte[]>>(Expression.Block(body), e, presence, texts, numbers, header).Compile();
    }

    private static Func<PipelineEvent, string?[], long[], byte[], ulong> CompileCollector()
    {
        var e = Expression.Parameter(typeof(PipelineEvent), "e");
        var texts = Expression.Parameter(typeof(string?[]), "texts");
        var numbers = Expression.Parameter(typeof(long[]), "numbers");
        var header = Expression.Parameter(typeof(byte[]), "header");
        var presence = Expression.Variable(typeof(ulong), "presence");
        var variables = new List<ParameterExpression> { presence };
        var body = new List<Expression> { Expression.Assign(presence, Expression.Constant(0UL)) };
        foreach (var prop in EventProps.All)
        {
            // var value = e.<Property>; if (<present>) { <store>[id] = value; presence |= bit; }
            var value = Expression.Variable(prop.Stored.Info.PropertyType, prop.Name);
            variables.Add(value);
            body.Add(Expression.Assign(value, Expression.Property(e, prop.Stored.Info)));
            var id = Expression.Constant(prop.Codec.Id);
            var present = Expression.OrAssign(presence, Expression.Constant(prop.PresenceBit));
            body.Add(prop.ValueType switch
            {
                PropValueType.Text => Expression.IfThen(Expression.NotEqual(value, Expression.Constant(null, typeof(string))),
                    Expression.Block(Expression.Assign(Expression.ArrayAccess(texts, id), value), present)),
                PropValueType.Int32 or PropValueType.Int64 => Expression.IfThen(Expression.Property(value, "HasValue"),
                    Expression.Block(Expression.Assign(Expression.ArrayAccess(numbers, id), Expression.Convert(Expression.Property(value, "Value"), typeof(long))), present)),
                _ when prop.Codec.Kind == PropCodecKind.HeaderByte =>
                    Expression.Assign(Expression.ArrayAccess(header, Expression.Constant(Array.IndexOf(HeaderProps, prop))), Expression.Convert(value, typeof(byte))),
                _ => Expression.IfThen(Expression.NotEqual(Expression.Convert(value, typeof(int)), Expression.Constant(0)),
                    Expression.Block(Expression.Assign(Expression.ArrayAccess(numbers, id), Expression.Convert(value, typeof(long))), present)),
            });
        }
        body.Add(presence);
        return Expression.Lambda<Func<PipelineEvent, string?[], long[], byte[], ulong>>(Expression.Block(variables, body), e, texts, numbers, header).Compile();
    }

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
        // The event's present field values, by bit, and its header-byte props.
        var texts = new string?[64];
        var numbers = new long[64];
        var header = new byte[HeaderProps.Length];

        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i] ?? throw new ArgumentException($"Event {i} is null.", nameof(events));
            body.WriteByte((byte)e.Type);
            body.WriteByte((byte)e.Platform);
            var presence = CollectProps(e, texts, numbers, header);
            foreach (var b in header) body.WriteByte(b);
            Text(Field.CustomName, e.CustomName);
            Text(Field.UserKey, e.UserKey);
            Text(Field.SessionId, e.SessionId);
            Text(Field.ExtraProps, e.ExtraProps);
            Text(Field.Source, e.Source ?? source);
            if ((e.ReceivedMs ?? receivedMs) is { } received)
            {
                presence |= Bit(Field.ReceivedMs);
                numbers[(int)Field.ReceivedMs] = received;
            }

            body.WriteVarint(presence);
            body.WriteString(e.EventId ?? throw new ArgumentException($"Event {i} has no EventId.", nameof(events)));
            body.WriteVarint(ZigZag(e.TimeMs - previousTime));
            previousTime = e.TimeMs;
            body.WriteVarint((ulong)IndexOf(e.MiniProgramId ?? throw new ArgumentException($"Event {i} has no MiniProgramId.", nameof(events))));

            for (var fields = presence; fields != 0; fields &= fields - 1)
            {
                var id = BitOperations.TrailingZeroCount(fields);
                var bit = 1UL << id;
                if ((bit & DictionaryFields) != 0) body.WriteVarint((ulong)IndexOf(texts[id]!));
                else if ((bit & InlineFields) != 0) body.WriteString(texts[id]!);
                else if ((bit & NumberFields) != 0) body.WriteVarint(ZigZag(numbers[id]));
                else
                {
                    body.WriteVarint(ZigZag(numbers[id] - previousReceived));
                    previousReceived = numbers[id];
                }
            }

            void Text(Field field, string? value)
            {
                if (value is null) return;
                presence |= Bit(field);
                texts[(int)field] = value;
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
        var reader = new ByteReader(CheckedPayload(data));
        var count = reader.ReadCount("event count");
        var stringCount = reader.ReadCount("string count");
        var strings = new string[stringCount];
        for (var i = 0; i < strings.Length; i++) strings[i] = reader.ReadString();

        var events = new List<PipelineEvent>(count);
        long time = 0, received = 0;
        var texts = new string?[64];
        var numbers = new long[64];
        var header = new byte[HeaderProps.Length];
        for (var i = 0; i < count; i++)
        {
            var typeByte = reader.ReadByte();
            if (typeByte is < (byte)EventType.SessionStart or > (byte)EventType.Custom)
                throw new InvalidDataException($"Event block is corrupt: event {i} has unknown type {typeByte}.");
            var platform = (Platform)reader.ReadByte();
            for (var h = 0; h < header.Length; h++) header[h] = reader.ReadByte();
            var presence = reader.ReadVarint();
            if ((presence & ~KnownFields) != 0)
                throw new InvalidDataException($"Event block is corrupt: event {i} has unknown fields (presence mask 0x{presence:X}).");
            var eventId = reader.ReadString();
            time += UnZigZag(reader.ReadVarint());
            var miniProgramId = reader.ReadIndexed(strings);

            // The fields in bit order (the format's).
            for (var fields = presence; fields != 0; fields &= fields - 1)
            {
                var id = BitOperations.TrailingZeroCount(fields);
                var bit = 1UL << id;
                if ((bit & DictionaryFields) != 0) texts[id] = reader.ReadIndexed(strings);
                else if ((bit & InlineFields) != 0) texts[id] = reader.ReadString();
                else if ((bit & Int32Fields) != 0) numbers[id] = reader.ReadInt32();
                else if ((bit & NumberFields) != 0) numbers[id] = UnZigZag(reader.ReadVarint());
                else numbers[id] = received += UnZigZag(reader.ReadVarint());
            }

            var e = new PipelineEvent
            {
                EventId = eventId,
                Type = (EventType)typeByte,
                TimeMs = time,
                MiniProgramId = miniProgramId,
                Platform = platform,
                CustomName = Has(presence, Field.CustomName) ? texts[(int)Field.CustomName] : null,
                UserKey = Has(presence, Field.UserKey) ? texts[(int)Field.UserKey] : null,
                SessionId = Has(presence, Field.SessionId) ? texts[(int)Field.SessionId] : null,
                ExtraProps = Has(presence, Field.ExtraProps) ? texts[(int)Field.ExtraProps] : null,
                Source = Has(presence, Field.Source) ? texts[(int)Field.Source] : null,
                ReceivedMs = Has(presence, Field.ReceivedMs) ? numbers[(int)Field.ReceivedMs] : null,
            };
            ApplyProps(e, presence, texts, numbers, header);
            events.Add(e);
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
/// next read), numbers as they are (0 when absent; meaningful when their <c>Has…</c> is true). Any named
/// prop is read through its <see cref="EventProps"/> entry (<see cref="Has"/>, <see cref="Number"/>,
/// <see cref="Index"/>, <see cref="Utf8"/>); the props the rollup reads also have a property of their own.
/// </summary>
public ref struct BlockEvent
{
    public EventType Type;
    public Platform Platform;

    /// <summary>The presence mask of the nullable fields.</summary>
    public ulong Presence;

    /// <summary>The event id, UTF-8 as stored (inline).</summary>
    public ReadOnlySpan<byte> EventIdUtf8;

    public long TimeMs;

    /// <summary>Dictionary index of the mini-program (always present).</summary>
    public int MiniProgramId;

    /// <summary>The header-byte props (bytes 2 and 3 of the event header), byte 2 lowest.</summary>
    internal ushort HeaderBytes;

    /// <summary>The block's payload, which inline values are slices of.</summary>
    internal ReadOnlySpan<byte> Payload;

    /// <summary>
    /// The value of each present field, by bit: a dictionary index, a number, or an inline string's
    /// offset in <see cref="Payload"/> (high 32 bits) and length (low 32 bits). Stale where the bit is not set.
    /// </summary>
    internal FieldValues Values;

    /// <summary>Whether the event has the prop (for a header byte: whether it is not 0).</summary>
    public readonly bool Has(EventProp prop)
    {
        ArgumentNullException.ThrowIfNull(prop);
        return prop.Codec.Kind == PropCodecKind.HeaderByte ? HeaderByte(prop) != 0 : IsSet(prop.Codec.Id);
    }

    /// <summary>A number or enum prop's value; 0 when absent.</summary>
    public readonly long Number(EventProp prop)
    {
        ArgumentNullException.ThrowIfNull(prop);
        return prop.Codec.Kind switch
        {
            PropCodecKind.HeaderByte => HeaderByte(prop),
            PropCodecKind.Varint => NumberAt(prop.Codec.Id),
            _ => throw new ArgumentException($"{prop.Path} is text, not a number.", nameof(prop)),
        };
    }

    /// <summary>A dictionary text prop's index into the block's dictionary; -1 when absent.</summary>
    public readonly int Index(EventProp prop)
    {
        ArgumentNullException.ThrowIfNull(prop);
        if (prop.Codec.Kind != PropCodecKind.Dictionary) throw new ArgumentException($"{prop.Path} is not a dictionary string.", nameof(prop));
        return IndexAt(prop.Codec.Id);
    }

    /// <summary>An inline text prop's UTF-8 bytes; empty when absent.</summary>
    public readonly ReadOnlySpan<byte> Utf8(EventProp prop)
    {
        ArgumentNullException.ThrowIfNull(prop);
        if (prop.Codec.Kind != PropCodecKind.Inline) throw new ArgumentException($"{prop.Path} is not an inline string.", nameof(prop));
        return InlineAt(prop.Codec.Id);
    }

    // The event's own fields.
    public readonly int CustomName => IndexAt((int)EventBlockCodec.Field.CustomName);
    public readonly int UserKey => IndexAt((int)EventBlockCodec.Field.UserKey);
    public readonly int SessionId => IndexAt((int)EventBlockCodec.Field.SessionId);
    public readonly int Source => IndexAt((int)EventBlockCodec.Field.Source);
    public readonly bool HasExtraProps => IsSet((int)EventBlockCodec.Field.ExtraProps);
    public readonly ReadOnlySpan<byte> ExtraPropsUtf8 => InlineAt((int)EventBlockCodec.Field.ExtraProps);

    /// <summary>When the event's batch was received, Unix milliseconds; 0 when the block does not say (written before it was stored).</summary>
    public readonly long ReceivedMs => NumberAt((int)EventBlockCodec.Field.ReceivedMs);

    // The named props the rollup reads (every prop: through its EventProps entry, above).
    public readonly ShareTarget ShareTarget => (ShareTarget)(byte)(HeaderBytes >> Ids.TargetShift);
    public readonly ErrorKind ErrorKind => (ErrorKind)(byte)(HeaderBytes >> Ids.KindShift);
    public readonly int Scene => (int)NumberAt(Ids.Scene);
    public readonly long LoadMs => NumberAt(Ids.LoadMs);
    public readonly int ReferrerMiniProgramId => IndexAt(Ids.ReferrerMiniProgramId);
    public readonly long DurationMs => NumberAt(Ids.DurationMs);
    public readonly int Page => IndexAt(Ids.Page);
    public readonly ReadOnlySpan<byte> OrderIdUtf8 => InlineAt(Ids.OrderId);
    public readonly long Amount => NumberAt(Ids.Amount);
    public readonly int Currency => IndexAt(Ids.Currency);
    public readonly int MerchantId => IndexAt(Ids.MerchantId);
    public readonly int AdUnitId => IndexAt(Ids.AdUnitId);
    public readonly long Revenue => NumberAt(Ids.Revenue);
    public readonly ReadOnlySpan<byte> MessageUtf8 => InlineAt(Ids.Message);
    public readonly int Reason => IndexAt(Ids.Reason);
    public readonly int Scope => IndexAt(Ids.Scope);
    public readonly int DeveloperId => IndexAt(Ids.DeveloperId);
    public readonly int Version => IndexAt(Ids.Version);
    public readonly int Category => IndexAt(Ids.Category);

    public readonly bool HasScene => IsSet(Ids.Scene);
    public readonly bool HasLoadMs => IsSet(Ids.LoadMs);
    public readonly bool HasDurationMs => IsSet(Ids.DurationMs);
    public readonly bool HasAmount => IsSet(Ids.Amount);
    public readonly bool HasRevenue => IsSet(Ids.Revenue);
    public readonly bool HasOrderId => IsSet(Ids.OrderId);
    public readonly bool HasMessage => IsSet(Ids.Message);

    /// <summary>The field ids of the props read by name above: static readonly, so constants to the optimising JIT.</summary>
    private static class Ids
    {
        public static readonly int TargetShift = (EventProps.Target.Codec.Id - 2) * 8, KindShift = (EventProps.Kind.Codec.Id - 2) * 8;
        public static readonly int Scene = EventProps.Scene.Codec.Id;
        public static readonly int LoadMs = EventProps.LoadMs.Codec.Id;
        public static readonly int ReferrerMiniProgramId = EventProps.ReferrerMiniProgramId.Codec.Id;
        public static readonly int DurationMs = EventProps.DurationMs.Codec.Id;
        public static readonly int Page = EventProps.Page.Codec.Id;
        public static readonly int OrderId = EventProps.OrderId.Codec.Id;
        public static readonly int Amount = EventProps.Amount.Codec.Id;
        public static readonly int Currency = EventProps.Currency.Codec.Id;
        public static readonly int MerchantId = EventProps.MerchantId.Codec.Id;
        public static readonly int AdUnitId = EventProps.AdUnitId.Codec.Id;
        public static readonly int Revenue = EventProps.Revenue.Codec.Id;
        public static readonly int Message = EventProps.Message.Codec.Id;
        public static readonly int Reason = EventProps.Reason.Codec.Id;
        public static readonly int Scope = EventProps.Scope.Codec.Id;
        public static readonly int DeveloperId = EventProps.DeveloperId.Codec.Id;
        public static readonly int Version = EventProps.Version.Codec.Id;
        public static readonly int Category = EventProps.Category.Codec.Id;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly bool IsSet(int id) => (Presence & (1UL << id)) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly long ValueAt(int id) =>
        Unsafe.Add(ref Unsafe.As<FieldValues, long>(ref Unsafe.AsRef(in Values)), id & (FieldValues.Length - 1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly int IndexAt(int id) => IsSet(id) ? (int)ValueAt(id) : -1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly long NumberAt(int id) => IsSet(id) ? ValueAt(id) : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly ReadOnlySpan<byte> InlineAt(int id)
    {
        if (!IsSet(id)) return default;
        var v = ValueAt(id);
        return Payload.Slice((int)(v >> 32), (int)(uint)v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly byte HeaderByte(EventProp prop) => (byte)(HeaderBytes >> ((prop.Codec.Id - 2) * 8));

    /// <summary>One value per bit of the presence mask.</summary>
    [InlineArray(64)]
    internal struct FieldValues
    {
        public const int Length = 64;
        private long _first;
    }
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
        var header = ReadByte();
        e.HeaderBytes = (ushort)(header | (ReadByte() << 8));
        var presence = ReadVarint();
        if ((presence & ~EventBlockCodec.KnownFields) != 0)
            throw new InvalidDataException($"Event block is corrupt: event {i} has unknown fields (presence mask 0x{presence:X}).");
        e.Presence = presence;
        e.Payload = _data;
        e.EventIdUtf8 = ReadInline();
        _time += EventBlockCodec.UnZigZag(ReadVarint());
        e.TimeMs = _time;
        e.MiniProgramId = ReadIndex();
        // The fields in bit order (the format's), each read as its kind says (the table's masks are constants to the JIT).
        ref var values = ref Unsafe.As<BlockEvent.FieldValues, long>(ref e.Values);
        for (var fields = presence; fields != 0; fields &= fields - 1)
        {
            var id = BitOperations.TrailingZeroCount(fields);
            var bit = 1UL << id;
            long value;
            if ((bit & EventBlockCodec.DictionaryFields) != 0) value = ReadIndex();
            else if ((bit & EventBlockCodec.NumberFields) != 0) value = (bit & EventBlockCodec.Int32Fields) != 0 ? ReadInt32() : EventBlockCodec.UnZigZag(ReadVarint());
            else if ((bit & EventBlockCodec.InlineFields) != 0) value = ReadInlineRange();
            else value = _received += EventBlockCodec.UnZigZag(ReadVarint()); // DeltaFields: receivedMs
            Unsafe.Add(ref values, id) = value;
        }
        return true;
    }

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

    /// <summary>An inline string as its offset (high 32 bits) and length (low 32 bits) in the payload.</summary>
    private long ReadInlineRange()
    {
        var length = ReadVarint();
        if (length > (ulong)Remaining) throw Truncated();
        var range = ((long)_position << 32) | (uint)length;
        _position += (int)length;
        return range;
    }

    private readonly InvalidDataException Truncated() =>
        new($"Event block is truncated: unexpected end of data at byte {_position + EventBlockCodec.HeaderLength}.");
}
