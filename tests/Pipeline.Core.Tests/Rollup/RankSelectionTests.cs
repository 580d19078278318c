using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>The load-time percentiles' selection gives what sorting gives, at every rank and on inputs that defeat a naive pivot.</summary>
public sealed class RankSelectionTests
{
    public static TheoryData<string> Shapes => ["random", "few distinct", "all equal", "ascending", "descending", "organ pipe", "median-of-three killer"];

    private static long[] Make(string shape, int n, Random random) => shape switch
    {
        "random" => Enumerable.Range(0, n).Select(_ => random.NextInt64(-1_000_000, 1_000_000)).ToArray(),
        "few distinct" => Enumerable.Range(0, n).Select(_ => (long)random.Next(4)).ToArray(),
        "all equal" => Enumerable.Repeat(7L, n).ToArray(),
        "ascending" => Enumerable.Range(0, n).Select(i => (long)i).ToArray(),
        "descending" => Enumerable.Range(0, n).Select(i => (long)(n - i)).ToArray(),
        "organ pipe" => Enumerable.Range(0, n).Select(i => (long)Math.Min(i, n - i)).ToArray(),
        // Smallest values at the ends and the middle: every median-of-three pivot is near the minimum.
        "median-of-three killer" => Enumerable.Range(0, n).Select(i => (long)(i % 2 == 0 ? i : n + i)).ToArray(),
        _ => throw new ArgumentException(shape),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Select_gives_the_sorted_value_at_every_rank(string shape)
    {
        var random = new Random(17);
        foreach (var n in new[] { 1, 2, 3, 15, 16, 17, 40, 257 })
        {
            var values = Make(shape, n, random);
            var sorted = values.Order().ToArray();
            for (var k = 0; k < n; k++)
            {
                var copy = (long[])values.Clone();
                Assert.Equal(sorted[k], RankSelection.Select(copy, k));
                // Partitioned around k, and the same values as before.
                Assert.All(copy[..k], v => Assert.True(v <= sorted[k]));
                Assert.All(copy[(k + 1)..], v => Assert.True(v >= sorted[k]));
                Assert.Equal(sorted, copy.Order());
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Nearest_rank_percentiles_equal_those_of_the_sorted_values(string shape)
    {
        var random = new Random(5);
        foreach (var n in new[] { 1, 4, 99, 100, 101, 5_000 })
        {
            var values = Make(shape, n, random);
            var sorted = values.Order().ToArray();
            foreach (var p in new[] { 1, 50, 95, 100 })
                Assert.Equal(DayFinaliser.NearestRank(sorted, p), RankSelection.NearestRank((long[])values.Clone(), p));
        }
    }

    [Fact]
    public void Selecting_p95_after_p50_in_the_upper_part_gives_the_p95_of_all()
    {
        // The finaliser's two-step use: select p50, then p95 among the values from p50's index on.
        var random = new Random(3);
        for (var round = 0; round < 200; round++)
        {
            var values = Make("few distinct", random.Next(1, 300), random);
            var sorted = values.Order().ToArray();
            var r50 = RankSelection.Rank(values.Length, 50) - 1;
            var r95 = RankSelection.Rank(values.Length, 95) - 1;
            Assert.Equal(sorted[r50], RankSelection.Select(values, r50));
            Assert.Equal(sorted[r95], RankSelection.Select(values.AsSpan(r50), r95 - r50));
        }
    }
}
