namespace Pipeline.Core.Rollup;

/// <summary>
/// Exact order statistics without sorting: the value at a given rank of a day's samples (the load-time
/// percentiles need two ranks of up to one sample per session; sorting them all costs n log n, selecting
/// each rank about 2n).
/// </summary>
internal static class RankSelection
{
    /// <summary>
    /// Moves the values of <paramref name="values"/> so that index <paramref name="k"/> holds the value it
    /// would hold sorted ascending, no value before it is greater and none after it is smaller; returns that value.
    /// </summary>
    /// <remarks>
    /// Quickselect with a median-of-three pivot and a three-way partition (runs of equal load times are
    /// common: they are whole milliseconds). Load times are sent by clients, so an input chosen to defeat
    /// the pivot is possible: after about 2 log2(n) rounds without converging, the rest is sorted instead,
    /// which bounds the work at O(n log n).
    /// </remarks>
    public static long Select(Span<long> values, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, values.Length);
        var lo = 0;
        var hi = values.Length - 1;
        var rounds = 2 * (64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)values.Length)) + 4;
        while (hi > lo)
        {
            if (--rounds < 0 || hi - lo < 16)
            {
                values[lo..(hi + 1)].Sort();
                break;
            }
            var pivot = MedianOfThree(values[lo], values[lo + (hi - lo) / 2], values[hi]);
            // Three-way partition of [lo, hi]: < pivot | == pivot | > pivot (Dijkstra).
            int lt = lo, i = lo, gt = hi;
            while (i <= gt)
            {
                var v = values[i];
                if (v < pivot)
                {
                    values[i] = values[lt];
                    values[lt] = v;
                    lt++;
                    i++;
                }
                else if (v > pivot)
                {
                    values[i] = values[gt];
                    values[gt] = v;
                    gt--;
                }
                else i++;
            }
            if (k < lt) hi = lt - 1;
            else if (k > gt) lo = gt + 1;
            else return pivot;
        }
        return values[k];
    }

    /// <summary>The nearest-rank percentile (the value at rank ceil(p/100 * n) ascending) of <paramref name="values"/>, which it reorders.</summary>
    public static long NearestRank(Span<long> values, int percentile) => Select(values, Rank(values.Length, percentile) - 1);

    /// <summary>The nearest rank, 1-based: ceil(p/100 * n), at least 1.</summary>
    public static int Rank(int n, int percentile) => Math.Max(1, (int)(((long)percentile * n + 99) / 100));

    private static long MedianOfThree(long a, long b, long c) =>
        a < b ? (b < c ? b : Math.Max(a, c)) : (a < c ? a : Math.Max(b, c));
}
