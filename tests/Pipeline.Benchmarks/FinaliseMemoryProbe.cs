using System.Globalization;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;

namespace Pipeline.Benchmarks;

/// <summary>
/// The <c>finalisemem</c> verb: how much the day's finaliser holds while it merges the shards' partials,
/// as the number of shards grows. <c>finalisemem [events] [shards,shards]</c>: one simulated day split by
/// user shard, each shard rolled and its partial encoded (the bytes stand for the partial blobs); then the
/// partials are decoded and merged two ways, and the live managed heap (after a full collection, less the
/// encoded partials) is sampled after every partial:
/// <list type="bullet">
/// <item><c>all</c>: decode every partial, then fold them (what the finaliser did before: an array of all S);</item>
/// <item><c>fold</c>: decode one, fold it, drop it (what it does now, but 1 ahead instead of 8).</item>
/// </list>
/// Both end in the same rows (checked).
/// </summary>
internal static class FinaliseMemoryProbe
{
    public static int Run(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 500_000;
        var shardCounts = args.Length > 1 ? args[1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() : [16, 64, 256];
        var engine = new RollupEngine(SceneTable.Default, 0.006);
        Console.WriteLine($"finalisemem: {count:N0} events; {Environment.ProcessorCount} processors; load average {Load.ProcessStats.LoadAverage()}");
        Console.WriteLine("| shards | encoded partials, total | peak live heap, all at once | peak live heap, folded one by one | rows |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: |");
        foreach (var shards in shardCounts)
        {
            var encoded = Encoded(engine, count, shards);
            var all = Peak(encoded, keepAll: true, engine, out var rowsAll);
            var fold = Peak(encoded, keepAll: false, engine, out var rowsFold);
            if (!rowsAll.SequenceEqual(rowsFold)) throw new InvalidOperationException("The two merges wrote different rows.");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {shards} | {encoded.Sum(e => (long)e.Length) / 1048576.0:0.0} MiB | {all / 1048576.0:0.0} MiB | {fold / 1048576.0:0.0} MiB | {rowsAll.Count:N0} |"));
        }
        Console.WriteLine($"load average {Load.ProcessStats.LoadAverage()}");
        return 0;
    }

    /// <summary>The day's events rolled per shard; only the encoded partials are kept.</summary>
    private static List<byte[]> Encoded(RollupEngine engine, int count, int shards)
    {
        var events = BenchData.PipelineEvents(count, users: count / 12 + 1);
        return BenchData.Shard(events, shards)
            .Select(shard => ShardPartialCodec.Encode(engine.RollShard(BenchData.Day, shard, WindowState.Empty()).Partial))
            .ToList();
    }

    /// <summary>The most live managed memory, beyond the encoded partials, while merging them.</summary>
    private static long Peak(List<byte[]> encoded, bool keepAll, RollupEngine engine, out IReadOnlyList<MetricRow> rows)
    {
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        void Sample() => peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - baseline);
        var close = engine.BeginFinalise(BenchData.Day, partitions: 1);
        if (keepAll)
        {
            var partials = new List<ShardPartial>(encoded.Count);
            foreach (var bytes in encoded)
            {
                partials.Add(ShardPartialCodec.Decode(bytes));
                Sample();
            }
            foreach (var partial in partials) close.Fold(partial);
            Sample();
            GC.KeepAlive(partials);
        }
        else
        {
            foreach (var bytes in encoded)
            {
                close.Fold(ShardPartialCodec.Decode(bytes));
                Sample();
            }
        }
        var ledger = WindowState.Empty();
        close.SettleOrders(0, ledger);
        close.SettleBuyers(0, ledger);
        close.SettleRegistry(ledger);
        rows = close.Rows(null);
        return peak;
    }
}
