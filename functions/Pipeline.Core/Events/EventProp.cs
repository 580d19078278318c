using System.Collections.Frozen;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Pipeline.Core.Events;

/// <summary>One named prop of the contract: an entry of <see cref="EventProps"/>.</summary>
public sealed class EventProp
{
    internal EventProp(int ordinal, string name, PropCarrier[] carriers, PropRule rule, PropStorage stored, PropCodec codec)
    {
        Ordinal = ordinal;
        Name = name;
        Path = "props." + name;
        Utf8Name = Encoding.UTF8.GetBytes(name);
        Carriers = carriers;
        Rule = rule;
        Stored = stored;
        Codec = codec;
        PresenceBit = codec.Kind == PropCodecKind.HeaderByte ? 0 : 1UL << codec.Id;
        CheckConsistent();
    }

    /// <summary>Position in <see cref="EventProps.All"/>.</summary>
    public int Ordinal { get; }

    /// <summary>The name in an event's <c>props</c>.</summary>
    public string Name { get; }

    /// <summary><c>props.&lt;name&gt;</c>, as messages name it.</summary>
    public string Path { get; }

    internal byte[] Utf8Name { get; }

    /// <summary>The types that carry it, and whether each requires it.</summary>
    public IReadOnlyList<PropCarrier> Carriers { get; }

    public PropRule Rule { get; }

    /// <summary>Where <see cref="PipelineEvent"/> keeps it.</summary>
    public PropStorage Stored { get; }

    /// <summary>Its field in <see cref="EventBlockCodec"/>'s format.</summary>
    public PropCodec Codec { get; }

    public PropValueType ValueType => Stored.ValueType;

    /// <summary>The prop's bit in a block event's presence mask; 0 for a header byte.</summary>
    internal ulong PresenceBit { get; }

    public override string ToString() => Path;

    private void CheckConsistent()
    {
        var ok = Stored.ValueType switch
        {
            PropValueType.Int32 => Rule.Kind == PropRuleKind.Integer && Rule.Min >= int.MinValue && Rule.Max <= int.MaxValue && Codec.Kind == PropCodecKind.Varint,
            PropValueType.Int64 => Rule.Kind == PropRuleKind.Integer && Codec.Kind == PropCodecKind.Varint,
            PropValueType.Text => Rule.Kind is PropRuleKind.Text or PropRuleKind.Letters or PropRuleKind.Truncated
                && Codec.Kind is PropCodecKind.Dictionary or PropCodecKind.Inline,
            PropValueType.Enum => Rule.Kind == PropRuleKind.OneOf && Rule.EnumType == Stored.ClrType
                && Codec.Kind is PropCodecKind.Varint or PropCodecKind.HeaderByte,
            _ => false,
        };
        if (!ok)
            throw new InvalidOperationException($"Prop {Name}: rule {Rule.Kind}, storage {Stored.ValueType} ({Stored.Property}) and codec {Codec.Kind} do not fit together.");
        if (Codec.Kind == PropCodecKind.HeaderByte ? Codec.Id is not (2 or 3) : Codec.Id is < 0 or > 63)
            throw new InvalidOperationException($"Prop {Name}: codec field id {Codec.Id} is out of range for {Codec.Kind}.");
        if (Carriers.Count == 0 || Carriers.Any(c => c.Type is < EventType.SessionStart or >= EventType.Custom)
            || Carriers.DistinctBy(c => c.Type).Count() != Carriers.Count)
            throw new InvalidOperationException($"Prop {Name}: its carriers must be distinct built-in types.");
    }
}

/// <summary>How a prop's value is held.</summary>
public enum PropValueType : byte
{
    /// <summary><c>int?</c>.</summary>
    Int32,

    /// <summary><c>long?</c>.</summary>
    Int64,

    /// <summary><c>string?</c>.</summary>
    Text,

    /// <summary>An enum of byte values whose 0 means absent, sent as one of its wire names.</summary>
    Enum,
}

public enum PropRuleKind : byte
{
    /// <summary>A JSON integer within [<see cref="PropRule.Min"/>, <see cref="PropRule.Max"/>].</summary>
    Integer,

    /// <summary>A JSON string of 1 to <see cref="PropRule.Length"/> characters (UTF-16 units), any characters.</summary>
    Text,

    /// <summary>A JSON string of exactly <see cref="PropRule.Length"/> ASCII letters, stored upper-case.</summary>
    Letters,

    /// <summary>A JSON string that is one of <see cref="PropRule.Names"/>.</summary>
    OneOf,

    /// <summary>A JSON string, cut to <see cref="PropRule.Length"/> characters (never rejected for its length).</summary>
    Truncated,
}

/// <summary>
/// What a named prop's value must be. A value that breaks it is <c>invalid_field</c> with the message
/// <c>props.&lt;name&gt; must be &lt;<see cref="Expected"/>&gt;; got &lt;the value&gt;.</c>
/// </summary>
public sealed class PropRule
{
    private readonly FrozenDictionary<string, byte>? _values;
    private readonly string[]? _names; // by value

    private PropRule(PropRuleKind kind, long min, long max, int length, string expected,
        IReadOnlyList<string>? names = null, FrozenDictionary<string, byte>? values = null, string[]? namesByValue = null, Type? enumType = null)
    {
        Kind = kind;
        Min = min;
        Max = max;
        Length = length;
        Expected = expected;
        Names = names ?? [];
        _values = values;
        _names = namesByValue;
        EnumType = enumType;
    }

    public PropRuleKind Kind { get; }

    public long Min { get; }

    public long Max { get; }

    /// <summary>Most characters (<see cref="PropRuleKind.Text"/>), exactly so many letters (<see cref="PropRuleKind.Letters"/>), or the cut (<see cref="PropRuleKind.Truncated"/>).</summary>
    public int Length { get; }

    /// <summary>What the value must be, in the words of the rejection message.</summary>
    public string Expected { get; }

    /// <summary>The wire names of a <see cref="PropRuleKind.OneOf"/>, in the order messages list them.</summary>
    public IReadOnlyList<string> Names { get; }

    internal Type? EnumType { get; }

    public static PropRule Integer(long min, long max, string expected) => new(PropRuleKind.Integer, min, max, 0, expected);

    public static PropRule Text(int maxLength) => new(PropRuleKind.Text, 0, 0, maxLength, $"a string of 1 to {maxLength} characters");

    public static PropRule Letters(int length, string expected) => new(PropRuleKind.Letters, 0, 0, length, expected);

    public static PropRule Truncated(int maxLength) => new(PropRuleKind.Truncated, 0, 0, maxLength, "a string");

    public static PropRule OneOf<TEnum>(params (string Name, TEnum Value)[] values) where TEnum : unmanaged, Enum
    {
        PropStorage.RequireByteEnum<TEnum>();
        var byName = new Dictionary<string, byte>(StringComparer.Ordinal);
        var byValue = new string[256];
        foreach (var (name, value) in values)
        {
            var b = PropStorage.ToByte(value);
            if (b == 0) throw new InvalidOperationException($"{typeof(TEnum).Name}.{value} is 0, which means absent: it cannot be a wire value.");
            byName.Add(name, b);
            byValue[b] = name;
        }
        var names = values.Select(v => v.Name).ToArray();
        return new(PropRuleKind.OneOf, 0, 0, 0, "one of " + string.Join(", ", names), names,
            byName.ToFrozenDictionary(StringComparer.Ordinal), byValue, typeof(TEnum));
    }

    /// <summary>The value of a wire name of a <see cref="PropRuleKind.OneOf"/>.</summary>
    public bool TryParse(string name, out byte value)
    {
        value = 0;
        return _values is not null && _values.TryGetValue(name, out value);
    }

    /// <summary>The wire name of a <see cref="PropRuleKind.OneOf"/> value; empty for a value it does not name.</summary>
    public string NameOf(long value) => _names is not null && (ulong)value < (ulong)_names.Length ? _names[value] ?? "" : "";

    /// <summary>A <see cref="PropRuleKind.Letters"/> value as stored (upper-case), or null when it breaks the rule.</summary>
    public string? NormaliseLetters(string text)
    {
        if (text.Length != Length) return null;
        foreach (var c in text)
        {
            if (!char.IsAsciiLetter(c)) return null;
        }
        foreach (var c in text)
        {
            if (char.IsAsciiLetterLower(c)) return text.ToUpperInvariant();
        }
        return text;
    }
}

/// <summary>
/// The <see cref="PipelineEvent"/> property that stores a prop, named by a lambda (<c>e =&gt; e.Page</c>) and
/// reached through delegates bound once to its accessors. The properties are init-only: the table's
/// setters fill a new event before it is handed over (validator, codec decode, Parquet read), never later.
/// </summary>
public sealed class PropStorage
{
    private readonly Func<PipelineEvent, long?>? _getNumber;
    private readonly Action<PipelineEvent, long?>? _setNumber;
    private readonly Func<PipelineEvent, string?>? _getText;
    private readonly Action<PipelineEvent, string?>? _setText;

    private PropStorage(PropertyInfo property, PropValueType type, Type clrType,
        Func<PipelineEvent, long?>? getNumber, Action<PipelineEvent, long?>? setNumber,
        Func<PipelineEvent, string?>? getText, Action<PipelineEvent, string?>? setText)
    {
        Info = property;
        Property = property.Name;
        ValueType = type;
        ClrType = clrType;
        _getNumber = getNumber;
        _setNumber = setNumber;
        _getText = getText;
        _setText = setText;
    }

    /// <summary>The property's name on <see cref="PipelineEvent"/>.</summary>
    public string Property { get; }

    internal PropertyInfo Info { get; }

    public PropValueType ValueType { get; }

    /// <summary>The property's type (the enum for <see cref="PropValueType.Enum"/>).</summary>
    public Type ClrType { get; }

    public static PropStorage Int32(Expression<Func<PipelineEvent, int?>> property)
    {
        var (name, get, set) = Bind(property);
        return new(name, PropValueType.Int32, typeof(int?), e => get(e), (e, v) => set(e, (int?)v), null, null);
    }

    public static PropStorage Int64(Expression<Func<PipelineEvent, long?>> property)
    {
        var (name, get, set) = Bind(property);
        return new(name, PropValueType.Int64, typeof(long?), get, set, null, null);
    }

    public static PropStorage Text(Expression<Func<PipelineEvent, string?>> property)
    {
        var (name, get, set) = Bind(property);
        return new(name, PropValueType.Text, typeof(string), null, null, get, set);
    }

    public static PropStorage Enum<TEnum>(Expression<Func<PipelineEvent, TEnum>> property) where TEnum : unmanaged, System.Enum
    {
        RequireByteEnum<TEnum>();
        var (name, get, set) = Bind(property);
        return new(name, PropValueType.Enum, typeof(TEnum),
            e => ToByte(get(e)) is var b && b != 0 ? b : null,
            (e, v) => set(e, FromByte<TEnum>(v is { } b ? (byte)b : (byte)0)), null, null);
    }

    /// <summary>The value as a number (<see cref="PropValueType.Int32"/>, <see cref="PropValueType.Int64"/>, <see cref="PropValueType.Enum"/>, whose 0 is null).</summary>
    public long? GetNumber(PipelineEvent e) => _getNumber is { } get ? get(e) : throw NotA("number");

    public void SetNumber(PipelineEvent e, long? value)
    {
        if (_setNumber is null) throw NotA("number");
        _setNumber(e, value);
    }

    public string? GetText(PipelineEvent e) => _getText is { } get ? get(e) : throw NotA("text");

    public void SetText(PipelineEvent e, string? value)
    {
        if (_setText is null) throw NotA("text");
        _setText(e, value);
    }

    /// <summary>Whether the event has the prop (a non-null value, or an enum other than 0).</summary>
    public bool IsSet(PipelineEvent e) => ValueType == PropValueType.Text ? GetText(e) is not null : GetNumber(e) is not null;

    private InvalidOperationException NotA(string kind) => new($"PipelineEvent.{Property} is {ValueType}, not a {kind}.");

    private static (PropertyInfo Property, Func<PipelineEvent, T> Get, Action<PipelineEvent, T> Set) Bind<T>(Expression<Func<PipelineEvent, T>> property)
    {
        if (property.Body is not MemberExpression { Member: PropertyInfo info } member || member.Expression != property.Parameters[0]
            || info.DeclaringType != typeof(PipelineEvent) || info.GetMethod is null || info.SetMethod is null)
            throw new ArgumentException($"'{property}' is not a settable property of PipelineEvent.", nameof(property));
        // The getter as written; the init accessor, an ordinary method to the runtime, bound once to fill a new event.
        return (info, property.Compile(), info.SetMethod.CreateDelegate<Action<PipelineEvent, T>>());
    }

    internal static void RequireByteEnum<TEnum>() where TEnum : unmanaged, System.Enum
    {
        if (System.Enum.GetUnderlyingType(typeof(TEnum)) != typeof(byte))
            throw new InvalidOperationException($"{typeof(TEnum).Name} must be an enum of bytes to be a prop.");
    }

    internal static byte ToByte<TEnum>(TEnum value) where TEnum : unmanaged, System.Enum => Unsafe.As<TEnum, byte>(ref value);

    private static TEnum FromByte<TEnum>(byte value) where TEnum : unmanaged, System.Enum => Unsafe.As<byte, TEnum>(ref value);
}

/// <summary>How <see cref="EventBlockCodec"/> stores a prop.</summary>
public enum PropCodecKind : byte
{
    /// <summary>Text, as an index into the block's string dictionary (for values that repeat across events).</summary>
    Dictionary,

    /// <summary>Text, as UTF-8 inline (for values that are usually unique).</summary>
    Inline,

    /// <summary>A number or an enum, zigzag LEB128.</summary>
    Varint,

    /// <summary>An enum as a byte of the event's fixed header: bytes 2 and 3 of format version 1 only (share target, error kind).</summary>
    HeaderByte,
}

/// <summary>
/// A prop's field in <see cref="EventBlockCodec"/>'s format: <paramref name="Id"/> is its bit in the presence
/// mask (and fields are written in bit order), or for <see cref="PropCodecKind.HeaderByte"/> its byte of the
/// event header. Persisted: never renumber.
/// </summary>
public readonly record struct PropCodec(PropCodecKind Kind, int Id)
{
    public static PropCodec Dictionary(int id) => new(PropCodecKind.Dictionary, id);

    public static PropCodec Inline(int id) => new(PropCodecKind.Inline, id);

    public static PropCodec Varint(int id) => new(PropCodecKind.Varint, id);

    public static PropCodec HeaderByte(int position) => new(PropCodecKind.HeaderByte, position);
}
