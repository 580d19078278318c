using System.Text;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Storage.Tables;

/// <summary>
/// Many metric rows in one table entity: the binary property <c>Rows</c> of a packed entity in
/// <c>DailyMetrics</c> and <c>ProgramDailyMetrics</c> (layout: <see cref="TableMetricsStore"/>).
/// </summary>
/// <remarks>
/// <para>Why packed: a day writes rows in proportion to mini-programs × pages (139,280 rows for a day of
/// 1,000,000 events over 2,000 mini-programs). One entity per row made the day's table writes the
/// rollup's largest cost, and at a million mini-programs would pass an account's 20,000 entities/s.
/// Packed, the same day is about 2,400 entities (docs/performance.md, "Rows at scale").</para>
/// <para>Format, version 1: a version byte; a table of the distinct strings of the pack (metric, stakeholder,
/// tier, dimension, value, unit, run id; each a 7-bit-encoded UTF-8 length and its bytes, as
/// <see cref="BinaryWriter.Write(string)"/> writes them); the number of rows; then per row the 7-bit-encoded
/// indexes of its metric, stakeholder, tier, dimension, value, unit and run id (run id + 1, 0 for none), a flags
/// byte (numerator, denominator, computed-at, restated, previous value present), the value and each present field
/// (doubles as IEEE 754 little-endian, computed-at as UTC ticks). Rows keep the order they were added in.</para>
/// <para>A pack is bounded by <see cref="MaxRows"/> and <see cref="MaxBytes"/>: a table entity's binary property
/// holds at most 64 KiB.</para>
/// </remarks>
internal static class MetricRowPack
{
    public const byte Version = 1;

    /// <summary>The most bytes one pack takes (a binary property holds at most 65,536).</summary>
    public const int MaxBytes = 60 * 1024;

    /// <summary>The most rows one pack holds, so that one changed value rewrites at most this many rows.</summary>
    public const int MaxRows = 1_000;

    [Flags]
    private enum Fields : byte
    {
        None = 0,
        Numerator = 1,
        Denominator = 2,
        ComputedAt = 4,
        Restated = 8,
        PreviousValue = 16,
    }

    /// <summary>
    /// Splits <paramref name="rows"/>, in their order, into packs of at most <see cref="MaxRows"/> rows and
    /// <see cref="MaxBytes"/> bytes. The same rows always give the same packs (so an unchanged pack is
    /// recognised by its bytes).
    /// </summary>
    public static List<byte[]> Pack(IEnumerable<StoredMetricRow> rows)
    {
        var packs = new List<byte[]>();
        var writer = new Writer();
        foreach (var row in rows)
        {
            if (writer.TryAdd(row)) continue;
            packs.Add(writer.ToArray());
            writer = new Writer();
            if (!writer.TryAdd(row))
                throw new ArgumentException($"Row {row.Row.Metric}|{row.Row.Dimension}|{row.Row.DimensionValue} alone is larger than a pack ({MaxBytes} bytes).", nameof(rows));
        }
        if (writer.Count > 0) packs.Add(writer.ToArray());
        return packs;
    }

    /// <summary>How many rows a pack holds (read from its header).</summary>
    public static int Count(byte[] pack)
    {
        using var reader = Open(pack);
        for (var i = reader.Read7BitEncodedInt(); i > 0; i--) reader.ReadString();
        return reader.Read7BitEncodedInt();
    }

    /// <summary>The rows of a pack, all of <paramref name="day"/>.</summary>
    public static List<StoredMetricRow> Unpack(DateOnly day, byte[] pack)
    {
        using var reader = Open(pack);
        var strings = new string[reader.Read7BitEncodedInt()];
        for (var i = 0; i < strings.Length; i++) strings[i] = reader.ReadString();
        var count = reader.Read7BitEncodedInt();
        var rows = new List<StoredMetricRow>(count);
        for (var i = 0; i < count; i++)
        {
            var metric = strings[reader.Read7BitEncodedInt()];
            var stakeholder = strings[reader.Read7BitEncodedInt()];
            var tier = strings[reader.Read7BitEncodedInt()];
            var dimension = strings[reader.Read7BitEncodedInt()];
            var value = strings[reader.Read7BitEncodedInt()];
            var unit = strings[reader.Read7BitEncodedInt()];
            var runIndex = reader.Read7BitEncodedInt();
            var fields = (Fields)reader.ReadByte();
            var number = reader.ReadDouble();
            double? numerator = fields.HasFlag(Fields.Numerator) ? reader.ReadDouble() : null;
            double? denominator = fields.HasFlag(Fields.Denominator) ? reader.ReadDouble() : null;
            DateTimeOffset? computedAt = fields.HasFlag(Fields.ComputedAt) ? new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero) : null;
            double? previous = fields.HasFlag(Fields.PreviousValue) ? reader.ReadDouble() : null;
            rows.Add(new StoredMetricRow(
                new MetricRow(day, metric, stakeholder, tier, dimension, value, number, numerator, denominator, unit),
                computedAt, runIndex == 0 ? null : strings[runIndex - 1], fields.HasFlag(Fields.Restated), previous));
        }
        if (reader.BaseStream.Position != pack.Length)
            throw new InvalidDataException($"A metric row pack has {pack.Length - reader.BaseStream.Position} bytes after its last row.");
        return rows;
    }

    /// <summary>A reader past the pack's version byte, which it checks.</summary>
    private static BinaryReader Open(byte[] pack)
    {
        ArgumentNullException.ThrowIfNull(pack);
        var reader = new BinaryReader(new MemoryStream(pack, writable: false), Encoding.UTF8);
        var version = reader.ReadByte();
        if (version != Version)
        {
            reader.Dispose();
            throw new InvalidDataException($"A metric row pack of version {version} cannot be read (this build reads version {Version}).");
        }
        return reader;
    }

    /// <summary>One pack being filled: its string table and rows, and its size so far, exact.</summary>
    private sealed class Writer
    {
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
        private readonly List<string> _strings = [];
        private readonly List<StoredMetricRow> _rows = [];
        private int _stringBytes;
        private int _rowBytes;

        public int Count => _rows.Count;

        public bool TryAdd(StoredMetricRow stored)
        {
            if (_rows.Count == MaxRows) return false;
            var row = stored.Row;
            // What this row adds: its new strings, the indexes (sized as they will be once the strings are in), its numbers.
            var newStrings = new List<string>(7);
            var added = 0;
            var rowBytes = 1 + 8; // flags, value
            var strings = Strings(stored);
            for (var i = 0; i < strings.Length; i++)
            {
                var s = strings[i];
                if (s is null) { rowBytes += 1; continue; } // no run id: index 0
                if (!_index.TryGetValue(s, out var at))
                {
                    var pending = newStrings.IndexOf(s);
                    if (pending < 0)
                    {
                        pending = newStrings.Count;
                        newStrings.Add(s);
                        var length = Encoding.UTF8.GetByteCount(s);
                        added += VarintSize(length) + length;
                    }
                    at = _strings.Count + pending;
                }
                // The run id is written as its index + 1 (0 means none).
                rowBytes += VarintSize(i == RunIdSlot ? at + 1 : at);
            }
            if (row.Numerator is not null) rowBytes += 8;
            if (row.Denominator is not null) rowBytes += 8;
            if (stored.ComputedAt is not null) rowBytes += 8;
            if (stored.PreviousValue is not null) rowBytes += 8;
            var total = 1 + VarintSize(_strings.Count + newStrings.Count) + _stringBytes + added + VarintSize(_rows.Count + 1) + _rowBytes + rowBytes;
            if (total > MaxBytes) return false;

            foreach (var s in newStrings)
            {
                _index[s] = _strings.Count;
                _strings.Add(s);
            }
            _stringBytes += added;
            _rowBytes += rowBytes;
            _rows.Add(stored);
            return true;
        }

        public byte[] ToArray()
        {
            using var buffer = new MemoryStream(1 + 5 + _stringBytes + 5 + _rowBytes);
            using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Version);
                writer.Write7BitEncodedInt(_strings.Count);
                foreach (var s in _strings) writer.Write(s);
                writer.Write7BitEncodedInt(_rows.Count);
                foreach (var stored in _rows)
                {
                    var row = stored.Row;
                    writer.Write7BitEncodedInt(_index[row.Metric]);
                    writer.Write7BitEncodedInt(_index[row.Stakeholder]);
                    writer.Write7BitEncodedInt(_index[row.Tier]);
                    writer.Write7BitEncodedInt(_index[row.Dimension]);
                    writer.Write7BitEncodedInt(_index[row.DimensionValue]);
                    writer.Write7BitEncodedInt(_index[row.Unit]);
                    writer.Write7BitEncodedInt(stored.RunId is { } run ? _index[run] + 1 : 0);
                    var fields = Fields.None;
                    if (row.Numerator is not null) fields |= Fields.Numerator;
                    if (row.Denominator is not null) fields |= Fields.Denominator;
                    if (stored.ComputedAt is not null) fields |= Fields.ComputedAt;
                    if (stored.Restated) fields |= Fields.Restated;
                    if (stored.PreviousValue is not null) fields |= Fields.PreviousValue;
                    writer.Write((byte)fields);
                    writer.Write(row.Value);
                    if (row.Numerator is { } numerator) writer.Write(numerator);
                    if (row.Denominator is { } denominator) writer.Write(denominator);
                    if (stored.ComputedAt is { } at) writer.Write(at.UtcTicks);
                    if (stored.PreviousValue is { } previous) writer.Write(previous);
                }
            }
            if (buffer.Length != 1 + VarintSize(_strings.Count) + _stringBytes + VarintSize(_rows.Count) + _rowBytes)
                throw new InvalidOperationException("A metric row pack's size was miscounted.");
            return buffer.ToArray();
        }

        // The strings of a row in the order its indexes are written; the run id (nullable) is last.
        private const int RunIdSlot = 6;

        private static string?[] Strings(StoredMetricRow stored)
        {
            var row = stored.Row;
            return [row.Metric, row.Stakeholder, row.Tier, row.Dimension, row.DimensionValue, row.Unit, stored.RunId];
        }

        private static int VarintSize(int value)
        {
            var size = 1;
            for (var v = (uint)value; v >= 0x80; v >>= 7) size++;
            return size;
        }
    }
}
