using System.Buffers;
using System.Runtime.InteropServices;
using Parquet;
using Parquet.Schema;
using Pipeline.Core.Events;

namespace Pipeline.Storage.Blobs;

/// <summary>
/// Events as an Apache Parquet file, for analysts' tools (DuckDB, Spark, Synapse, Fabric): one
/// column per <see cref="PipelineEvent"/> field, snake_case, nullable where the field is optional,
/// enums as the contract's wire names, Snappy-compressed, row groups of at most
/// <see cref="RowGroupSize"/> events. The schema is documented in docs/architecture.md
/// ("The compacted event store").
/// </summary>
/// <remarks>
/// <c>user_id</c> is the HMAC pseudonym (<see cref="PipelineEvent.UserKey"/>), never the sent
/// <c>userId</c>. <c>type</c> is the contract's type name (<c>custom.&lt;name&gt;</c> for custom
/// events, whose name is also in <c>custom_name</c>). <c>time</c> is a UTC timestamp in
/// milliseconds. Unknown platform, no share target and no error kind are null. The named props'
/// columns come from the prop table (<see cref="EventProps"/>): one per prop, in its order, named after
/// its <see cref="PipelineEvent"/> property in snake_case.
/// </remarks>
public static class EventParquet
{
    public const string ContentType = "application/vnd.apache.parquet";

    /// <summary>
    /// Events per row group (the unit analysts' engines read in parallel), 8 compacted blocks. The sweeper decodes a
    /// row group's events as objects to write it (≈ 50 MB at this size), so a larger group costs its memory; it was
    /// 122,880 (DuckDB's own default when it writes), about 90 MB of objects.
    /// </summary>
    public const int RowGroupSize = 65_536;

    /// <summary>Key of the file's key-value metadata naming the schema version.</summary>
    public const string SchemaKey = "pipeline.schema";

    /// <summary>Value of <see cref="SchemaKey"/> written by this build.</summary>
    public const string SchemaVersion = "events/2";

    private static readonly DataField<string> EventId = new("event_id", nullable: false);
    private static readonly DataField<string> Type = new("type", nullable: false);
    private static readonly DataField<string> CustomName = new("custom_name", nullable: true);
    private static readonly DateTimeDataField Time = new("time", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: false);
    private static readonly DataField<string> UserId = new("user_id", nullable: true);
    private static readonly DataField<string> MiniProgramId = new("mini_program_id", nullable: false);
    private static readonly DataField<string> SessionId = new("session_id", nullable: true);
    private static readonly DataField<string> PlatformField = new("platform", nullable: true);
    /// <summary>The named props' columns, in table order (<see cref="EventProps"/>): named after the stored property in snake_case.</summary>
    private static readonly DataField[] PropFields = [.. EventProps.All.Select(PropField)];

    private static readonly DataField<string> ExtraProps = new("extra_props", nullable: true);
    private static readonly DataField<string> SourceField = new("source", nullable: true);
    private static readonly DateTimeDataField ReceivedAt = new("received_at", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Millis, isNullable: true);

    /// <summary>The file's schema, in column order.</summary>
    public static ParquetSchema Schema { get; } = new(
        [EventId, Type, CustomName, Time, UserId, MiniProgramId, SessionId, PlatformField, .. PropFields, ExtraProps, SourceField, ReceivedAt]);

    /// <summary>A named prop's column: int32 or int64 numbers, text, and enums by their wire names; nullable (the prop may be absent).</summary>
    private static DataField PropField(EventProp prop)
    {
        var name = System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(prop.Stored.Property);
        return prop.ValueType switch
        {
            PropValueType.Int32 => new DataField<int>(name, nullable: true),
            PropValueType.Int64 => new DataField<long>(name, nullable: true),
            _ => new DataField<string>(name, nullable: true),
        };
    }

    private static readonly ParquetOptions Options = new() { CompressionMethod = CompressionMethod.Snappy };

    /// <summary>Writes the events as one Parquet file, in row groups of <see cref="RowGroupSize"/> (with <paramref name="metadata"/> and <see cref="SchemaKey"/> as its key-value metadata).</summary>
    public static Task WriteAsync(Stream output, IReadOnlyList<PipelineEvent> events, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        return WriteAsync(output, events.Chunk(RowGroupSize), metadata, cancellationToken);
    }

    /// <summary>
    /// Writes one Parquet file with one row group per item of <paramref name="rowGroups"/>, enumerated
    /// once, so that a caller can decode and hand over one group at a time. No group: one empty row
    /// group (readers see the schema and no rows).
    /// </summary>
    public static async Task WriteAsync(Stream output, IEnumerable<IReadOnlyList<PipelineEvent>> rowGroups, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(rowGroups);
        await using var writer = await ParquetWriter.CreateAsync(Schema, output, Options, append: false, cancellationToken).ConfigureAwait(false);
        var custom = new Dictionary<string, string>(StringComparer.Ordinal) { [SchemaKey] = SchemaVersion };
        if (metadata is not null)
            foreach (var (key, value) in metadata) custom[key] = value;
        writer.CustomMetadata = custom;

        var written = 0;
        foreach (var events in rowGroups)
        {
            if (events.Count == 0 && written > 0) continue;
            await WriteRowGroupAsync(writer, events, cancellationToken).ConfigureAwait(false);
            written++;
        }
        if (written == 0) await WriteRowGroupAsync(writer, [], cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteRowGroupAsync(ParquetWriter writer, IReadOnlyList<PipelineEvent> events, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var group = writer.CreateRowGroup();
        await WriteColumnsAsync(group, events, cancellationToken).ConfigureAwait(false);
        group.CompleteValidate();
    }

    private static async Task WriteColumnsAsync(ParquetRowGroupWriter group, IReadOnlyList<PipelineEvent> all, CancellationToken cancellationToken)
    {
        var count = all.Count;
        var events = new PipelineEvent[count];
        for (var i = 0; i < count; i++) events[i] = all[i] ?? throw new ArgumentException($"Event {i} of a row group is null.", nameof(all));

        await group.WriteAsync(EventId, Strings(events, e => e.EventId)).ConfigureAwait(false);
        await group.WriteAsync(Type, Strings(events, e => WireNames.TypeName(e.Type, e.CustomName))).ConfigureAwait(false);
        await group.WriteAsync(CustomName, Strings(events, e => e.CustomName)).ConfigureAwait(false);
        var times = new DateTime[count];
        for (var i = 0; i < count; i++) times[i] = DateTime.UnixEpoch.AddTicks(checked(events[i].TimeMs * TimeSpan.TicksPerMillisecond));
        await group.WriteAsync<DateTime>(Time, times, cancellationToken: cancellationToken).ConfigureAwait(false);
        await group.WriteAsync(UserId, Strings(events, e => e.UserKey)).ConfigureAwait(false);
        await group.WriteAsync(MiniProgramId, Strings(events, e => e.MiniProgramId)).ConfigureAwait(false);
        await group.WriteAsync(SessionId, Strings(events, e => e.SessionId)).ConfigureAwait(false);
        await group.WriteAsync(PlatformField, Strings(events, e => e.Platform == Platform.Unknown ? null : WireNames.PlatformName(e.Platform))).ConfigureAwait(false);
        for (var c = 0; c < PropFields.Length; c++)
        {
            var prop = EventProps.All[c];
            var field = PropFields[c];
            switch (prop.ValueType)
            {
                case PropValueType.Int32:
                    await group.WriteAsync<int>((DataField<int>)field, Numbers(events, e => (int?)prop.Stored.GetNumber(e)), cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case PropValueType.Int64:
                    await group.WriteAsync<long>((DataField<long>)field, Numbers(events, prop.Stored.GetNumber), cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                case PropValueType.Text:
                    await group.WriteAsync((DataField<string>)field, Strings(events, prop.Stored.GetText)).ConfigureAwait(false);
                    break;
                default:
                    await group.WriteAsync((DataField<string>)field, Strings(events, e => prop.Stored.GetNumber(e) is { } value ? prop.Rule.NameOf(value) : null)).ConfigureAwait(false);
                    break;
            }
        }
        await group.WriteAsync(ExtraProps, Strings(events, e => e.ExtraProps)).ConfigureAwait(false);
        await group.WriteAsync(SourceField, Strings(events, e => e.Source)).ConfigureAwait(false);
        await group.WriteAsync<DateTime>(ReceivedAt, Numbers(events, e => e.ReceivedMs is { } r ? DateTime.UnixEpoch.AddTicks(checked(r * TimeSpan.TicksPerMillisecond)) : (DateTime?)null), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static string?[] Strings(PipelineEvent[] events, Func<PipelineEvent, string?> get)
    {
        var values = new string?[events.Length];
        for (var i = 0; i < events.Length; i++) values[i] = get(events[i]);
        return values;
    }

    private static T?[] Numbers<T>(PipelineEvent[] events, Func<PipelineEvent, T?> get) where T : struct
    {
        var values = new T?[events.Length];
        for (var i = 0; i < events.Length; i++) values[i] = get(events[i]);
        return values;
    }

    /// <summary>The events of a file written by <see cref="WriteAsync"/>, in file order, and its key-value metadata.</summary>
    /// <exception cref="InvalidDataException">The file is not a Parquet file of this schema.</exception>
    public static async Task<(List<PipelineEvent> Events, IReadOnlyDictionary<string, string> Metadata)> ReadAsync(Stream input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            await using var reader = await ParquetReader.CreateAsync(input, Options, leaveStreamOpen: true, cancellationToken).ConfigureAwait(false);
            var metadata = reader.CustomMetadata;
            if (!metadata.TryGetValue(SchemaKey, out var schema) || schema != SchemaVersion)
                throw new InvalidDataException($"Not an event file of schema {SchemaVersion} (key-value metadata {SchemaKey} is '{schema}').");
            var total = 0L;
            for (var g = 0; g < reader.RowGroupCount; g++) total += reader.RowGroups[g].RowCount;
            var events = new List<PipelineEvent>((int)Math.Min(total, int.MaxValue));
            var cache = new StringCache();
            for (var g = 0; g < reader.RowGroupCount; g++)
                await ReadRowGroupAsync(reader.OpenRowGroupReader(g), events, cache, cancellationToken).ConfigureAwait(false);
            return (events, metadata.ToDictionary(StringComparer.Ordinal));
        }
        catch (Exception ex) when (ex is ParquetException or IOException or ArgumentException or InvalidOperationException && ex is not InvalidDataException)
        {
            throw new InvalidDataException($"Not a readable Parquet event file: {ex.Message}", ex);
        }
    }

    private static async Task ReadRowGroupAsync(ParquetRowGroupReader group, List<PipelineEvent> events, StringCache cache, CancellationToken ct)
    {
        var n = checked((int)group.RowCount);
        if (n == 0) return;
        var eventId = new string?[n];
        var type = new string?[n];
        var customName = new string?[n];
        var userId = new string?[n];
        var miniProgramId = new string?[n];
        var sessionId = new string?[n];
        var platform = new string?[n];
        var extraProps = new string?[n];
        var source = new string?[n];
        var receivedAt = new DateTime?[n];
        var time = new DateTime[n];
        // The named props' columns: text and enum names, or numbers (int32 ones widened), by table order.
        var propTexts = new string?[PropFields.Length][];
        var propNumbers = new long?[PropFields.Length][];

        await ReadStringsAsync(group, EventId, eventId, null, ct).ConfigureAwait(false);
        await ReadStringsAsync(group, Type, type, cache, ct).ConfigureAwait(false);
        await ReadStringsAsync(group, CustomName, customName, cache, ct).ConfigureAwait(false);
        await group.ReadAsync<DateTime>(Time, time, cancellationToken: ct).ConfigureAwait(false);
        await ReadStringsAsync(group, UserId, userId, cache, ct).ConfigureAwait(false);
        await ReadStringsAsync(group, MiniProgramId, miniProgramId, cache, ct).ConfigureAwait(false);
        await ReadStringsAsync(group, SessionId, sessionId, cache, ct).ConfigureAwait(false);
        await ReadStringsAsync(group, PlatformField, platform, cache, ct).ConfigureAwait(false);
        for (var c = 0; c < PropFields.Length; c++)
        {
            var prop = EventProps.All[c];
            switch (prop.ValueType)
            {
                case PropValueType.Int32:
                    var ints = new int?[n];
                    await ReadNumbersAsync(group, PropFields[c], ints, ct).ConfigureAwait(false);
                    propNumbers[c] = Array.ConvertAll(ints, v => (long?)v);
                    break;
                case PropValueType.Int64:
                    await ReadNumbersAsync(group, PropFields[c], propNumbers[c] = new long?[n], ct).ConfigureAwait(false);
                    break;
                default:
                    // Usually unique values (inline in the event store) are not worth a cache.
                    await ReadStringsAsync(group, PropFields[c], propTexts[c] = new string?[n], prop.Codec.Kind == PropCodecKind.Inline ? null : cache, ct).ConfigureAwait(false);
                    break;
            }
        }
        await ReadStringsAsync(group, ExtraProps, extraProps, null, ct).ConfigureAwait(false);
        await ReadStringsAsync(group, SourceField, source, cache, ct).ConfigureAwait(false);
        await ReadNumbersAsync(group, ReceivedAt, receivedAt, ct).ConfigureAwait(false);

        var enums = new EnumNames();
        for (var i = 0; i < n; i++)
        {
            var e = new PipelineEvent
            {
                EventId = eventId[i] ?? throw Corrupt("event_id", i),
                Type = enums.Type(type[i] ?? throw Corrupt("type", i)),
                CustomName = customName[i],
                TimeMs = (time[i].Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond,
                UserKey = userId[i],
                MiniProgramId = miniProgramId[i] ?? throw Corrupt("mini_program_id", i),
                SessionId = sessionId[i],
                Platform = platform[i] is { } p ? enums.Platform(p) : Platform.Unknown,
                ExtraProps = extraProps[i],
                Source = source[i],
                ReceivedMs = receivedAt[i] is { } received ? (received.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond : null,
            };
            for (var c = 0; c < PropFields.Length; c++)
            {
                var prop = EventProps.All[c];
                switch (prop.ValueType)
                {
                    case PropValueType.Text:
                        if (propTexts[c][i] is { } text) prop.Stored.SetText(e, text);
                        break;
                    case PropValueType.Enum:
                        if (propTexts[c][i] is { } name)
                            prop.Stored.SetNumber(e, prop.Rule.TryParse(name, out var value) ? value
                                : throw new InvalidDataException($"Parquet event file has unknown {PropFields[c].Name} '{name}'."));
                        break;
                    default:
                        if (propNumbers[c][i] is { } number) prop.Stored.SetNumber(e, number);
                        break;
                }
            }
            events.Add(e);
        }
    }

    private static InvalidDataException Corrupt(string column, int row) => new($"Parquet event file is corrupt: required column {column} is null in row {row}.");

    /// <summary>
    /// Reads a string column without Parquet.Net's per-value string copy: values are read raw, and a
    /// dictionary-encoded column's values share one buffer per distinct value, so with a
    /// <paramref name="cache"/> each distinct value becomes one string (as the block codec does).
    /// Columns whose values are usually unique pass no cache.
    /// </summary>
    private static async ValueTask ReadStringsAsync(ParquetRowGroupReader group, DataField field, string?[] values, StringCache? cache, CancellationToken ct)
    {
        var n = values.Length;
        var raw = ArrayPool<ReadOnlyMemory<char>>.Shared.Rent(n);
        var levels = field.IsNullable ? ArrayPool<int>.Shared.Rent(n) : null;
        try
        {
            await group.ReadRawAsync(field, raw.AsMemory(0, n), levels?.AsMemory(0, n), null, ct).ConfigureAwait(false);
            var v = 0;
            for (var i = 0; i < n; i++)
            {
                if (levels is not null && levels[i] == 0) continue; // null
                var chars = raw[v++];
                values[i] = cache is null ? new string(chars.Span) : cache.Get(chars);
            }
        }
        finally
        {
            Array.Clear(raw, 0, n);
            ArrayPool<ReadOnlyMemory<char>>.Shared.Return(raw);
            if (levels is not null) ArrayPool<int>.Shared.Return(levels);
        }
    }

    private static async ValueTask ReadNumbersAsync<T>(ParquetRowGroupReader group, DataField field, T?[] values, CancellationToken ct) where T : struct
    {
        var n = values.Length;
        var raw = ArrayPool<T>.Shared.Rent(n);
        var levels = ArrayPool<int>.Shared.Rent(n);
        try
        {
            await group.ReadRawAsync(field, raw.AsMemory(0, n), levels.AsMemory(0, n), null, ct).ConfigureAwait(false);
            var v = 0;
            for (var i = 0; i < n; i++)
                if (levels[i] != 0) values[i] = raw[v++];
        }
        finally
        {
            ArrayPool<T>.Shared.Return(raw);
            ArrayPool<int>.Shared.Return(levels);
        }
    }

    /// <summary>One string per distinct character buffer (Parquet.Net decodes each dictionary entry into its own buffer).</summary>
    private sealed class StringCache
    {
        private readonly Dictionary<char[], string> _byBuffer = new(ReferenceEqualityComparer.Instance);
        private char[]? _lastBuffer;
        private int _lastStart, _lastLength;
        private string _last = "";

        public string Get(ReadOnlyMemory<char> chars)
        {
            if (!MemoryMarshal.TryGetArray(chars, out var segment) || segment.Array is null || segment.Offset != 0 || segment.Count != segment.Array.Length)
                return new string(chars.Span);
            var buffer = segment.Array;
            if (ReferenceEquals(buffer, _lastBuffer) && _lastStart == segment.Offset && _lastLength == segment.Count) return _last;
            if (!_byBuffer.TryGetValue(buffer, out var value))
            {
                value = new string(chars.Span);
                _byBuffer.Add(buffer, value);
            }
            _lastBuffer = buffer;
            _lastStart = segment.Offset;
            _lastLength = segment.Count;
            _last = value;
            return value;
        }
    }

    /// <summary>Wire names back to enums, remembering the last name of each kind (the strings come from <see cref="StringCache"/>, so equal names are usually the same instance).</summary>
    private sealed class EnumNames
    {
        private readonly Dictionary<string, EventType> _types = new(StringComparer.Ordinal);

        public EventType Type(string name)
        {
            if (_types.TryGetValue(name, out var type)) return type;
            if (name.StartsWith(WireNames.CustomPrefix, StringComparison.Ordinal)) type = EventType.Custom;
            else if (!WireNames.TryParseType(name, out type)) throw new InvalidDataException($"Parquet event file has unknown type '{name}'.");
            _types.Add(name, type);
            return type;
        }

        public Platform Platform(string name) =>
            WireNames.TryParsePlatform(name, out var p) ? p : throw new InvalidDataException($"Parquet event file has unknown platform '{name}'.");
    }
}
