using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Storage.Tables;

namespace Pipeline.Integration.Tests.Storage;

/// <summary>The packed-rows format of the metric tables, without storage.</summary>
public sealed class MetricRowPackTests
{
    private static readonly DateOnly Day = new(2026, 11, 23);
    private static readonly DateTimeOffset At = new(2026, 11, 24, 1, 2, 3, TimeSpan.Zero);

    private static StoredMetricRow Stored(string value, double v, double? num = null, double? den = null, string? run = "run-1", DateTimeOffset? at = null, bool restated = false, double? previous = null) =>
        new(new MetricRow(Day, "pages.views", "pages", "supporting", "miniProgram.page", value, v, num, den, num is null ? "views" : "ratio"), at ?? At, run, restated, previous);

    [Fact]
    public void Every_field_and_every_absent_field_comes_back_as_it_went_in()
    {
        StoredMetricRow[] rows =
        [
            Stored("wx_a/pages/index?x=1#h", 3),
            Stored("wx_a/页面/详情", 0.25, 1, 4, restated: true, previous: 0.5),
            Stored("", double.NaN, run: null),
            Stored("wx_b", -0.0, den: 7, at: At.ToOffset(TimeSpan.FromHours(8))),
            Stored("wx_c", double.MaxValue, num: double.Epsilon, restated: true),
            new StoredMetricRow(new MetricRow(Day, "users.dau", "users", "core", "total", "", 10, null, null, "users"), null, null),
        ];

        var packs = MetricRowPack.Pack(rows);

        var back = Assert.Single(packs);
        Assert.Equal(rows.Length, MetricRowPack.Count(back));
        var read = MetricRowPack.Unpack(Day, back);
        Assert.Equal(rows.Length, read.Count);
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.Equal(rows[i].Row, read[i].Row);
            Assert.Equal(rows[i].RunId, read[i].RunId);
            Assert.Equal(rows[i].Restated, read[i].Restated);
            Assert.Equal(rows[i].PreviousValue, read[i].PreviousValue);
            // Stored as UTC ticks: the same instant, read back at offset 0.
            Assert.Equal(rows[i].ComputedAt?.UtcDateTime, read[i].ComputedAt?.UtcDateTime);
        }
        Assert.Equal(TimeSpan.Zero, read[3].ComputedAt!.Value.Offset);
        Assert.True(BitConverter.DoubleToInt64Bits(read[3].Row.Value) == BitConverter.DoubleToInt64Bits(-0.0));
    }

    [Fact]
    public void Packs_hold_at_most_a_thousand_rows_and_the_same_rows_give_the_same_bytes()
    {
        var rows = Enumerable.Range(0, 2_001).Select(i => Stored($"wx_a/pages/p{i:D5}", i)).ToList();

        var packs = MetricRowPack.Pack(rows);

        Assert.Equal([1000, 1000, 1], packs.Select(MetricRowPack.Count));
        Assert.Equal(rows, packs.SelectMany(p => MetricRowPack.Unpack(Day, p)));
        Assert.Equal(packs, MetricRowPack.Pack(rows.ToList()), new BytesComparer());
    }

    [Fact]
    public void A_pack_never_passes_the_size_a_binary_property_holds()
    {
        // Long values (2,000 bytes each): the size bound, not the row bound, splits them.
        var rows = Enumerable.Range(0, 100).Select(i => Stored($"wx_a/{new string('p', 1990)}{i:D4}", i)).ToList();

        var packs = MetricRowPack.Pack(rows);

        Assert.True(packs.Count >= 4, $"{packs.Count} packs");
        Assert.All(packs, p => Assert.InRange(p.Length, 1, MetricRowPack.MaxBytes));
        // Full: the next row would not have fitted.
        Assert.True(packs[0].Length > MetricRowPack.MaxBytes - 2_100, $"{packs[0].Length} bytes");
        Assert.Equal(rows, packs.SelectMany(p => MetricRowPack.Unpack(Day, p)));
    }

    [Fact]
    public void A_row_larger_than_a_pack_and_an_unknown_version_are_refused_by_name()
    {
        var huge = Stored(new string('x', MetricRowPack.MaxBytes), 1);
        Assert.Contains("larger than a pack", Assert.Throws<ArgumentException>(() => MetricRowPack.Pack([huge])).Message);

        var pack = MetricRowPack.Pack([Stored("wx_a", 1)])[0];
        pack[0] = 9;
        Assert.Contains("version 9", Assert.Throws<InvalidDataException>(() => MetricRowPack.Unpack(Day, pack)).Message);
    }

    [Fact]
    public void Trailing_bytes_are_refused()
    {
        var pack = MetricRowPack.Pack([Stored("wx_a", 1)])[0];
        Assert.Throws<InvalidDataException>(() => MetricRowPack.Unpack(Day, [.. pack, 0]));
    }

    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] obj) => obj.Length;
    }
}
