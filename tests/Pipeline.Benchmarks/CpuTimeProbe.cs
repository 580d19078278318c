using System.Diagnostics;
using System.Globalization;
using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;

namespace Pipeline.Benchmarks;

/// <summary>
/// The <c>cputime</c> verb: one day's rollup from the event store format on one thread, timed by
/// the process's CPU time as well as by the wall clock. On a shared machine the wall clock also
/// counts the time other processes held the core; CPU time per event does not, so it is the
/// steadier per-core figure there (it includes the garbage collector's own threads).
/// </summary>
/// <remarks>
/// <c>cputime [events] [rounds] [both|stream|decode]</c>. Two paths over the same blocks (one shard,
/// one thread, empty window state), each followed by the day's finalisation:
/// <list type="bullet">
/// <item><c>decode</c>: <see cref="EventBlockCodec.Decode"/> every block into a list of the day, then
/// <see cref="RollupEngine.RollUp"/> (the path before streaming);</item>
/// <item><c>stream</c>: <see cref="RollupEngine.RollShard(DateOnly, IEnumerable{ReadOnlyMemory{byte}}, WindowState)"/>
/// straight from the blocks, then <see cref="RollupEngine.FinaliseDay"/>.</item>
/// </list>
/// Allocated bytes are the process's (all threads) during the round.
/// </remarks>
internal static class CpuTimeProbe
{
    public static int Run(string[] args)
    {
        var events = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        var which = args.Length > 2 ? args[2] : "both";
        if (which is not ("both" or "stream" or "decode" or "phases")) throw new ArgumentException("The third argument is both, stream, decode or phases.");
        var blocks = Blocks(events); // the day's events are not kept: only the blocks are live
        var engine = new RollupEngine(SceneTable.Default, 0.006);
        if (which == "phases") return Phases(engine, blocks, events, rounds);
        Console.WriteLine($"{events:N0} events in {blocks.Count:N0} blocks of 200; {Environment.ProcessorCount} processors; load average {Load.ProcessStats.LoadAverage()}; server GC {System.Runtime.GCSettings.IsServerGC}");
        Console.WriteLine("| path | round | decode CPU ns/event | rollup CPU ns/event | total CPU ns/event | events/s per core (CPU) | events/s (wall) | allocated B/event |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var totals = new Dictionary<string, List<(double Ns, double Bytes)>> { ["decode"] = [], ["stream"] = [] };
        for (var round = 0; round <= rounds; round++)
        {
            if (which is "both" or "decode") Measure("decode", round, () =>
            {
                var decoded = new List<PipelineEvent>(events);
                foreach (var block in blocks) decoded.AddRange(EventBlockCodec.Decode(block.Span));
                return decoded;
            }, decoded => engine.RollUp(BenchData.Day, [decoded!], WindowState.Empty()).Rows.Count);
            if (which is "both" or "stream") Measure("stream", round, () => (List<PipelineEvent>?)null, _ =>
            {
                var shard = engine.RollShard(BenchData.Day, blocks, WindowState.Empty());
                return engine.FinaliseDay(BenchData.Day, [shard.Partial], WindowState.Empty()).Rows.Count;
            });
        }
        foreach (var (path, list) in totals)
        {
            if (list.Count == 0) continue;
            list.Sort();
            var (median, bytes) = list[list.Count / 2];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{path}: median {median:N0} CPU ns/event = {1e9 / median:N0} events/s per core, {list.Select(x => x.Bytes).Average():N0} allocated B/event"));
        }
        Console.WriteLine($"load average {Load.ProcessStats.LoadAverage()}");
        return 0;

        static List<ReadOnlyMemory<byte>> Blocks(int events) =>
            BenchData.PipelineEvents(events, users: RollupData.UsersFor(events)).Chunk(200).Select(b => (ReadOnlyMemory<byte>)EventBlockCodec.Encode(b)).ToList();

        void Measure(string path, int round, Func<List<PipelineEvent>?> decode, Func<List<PipelineEvent>?, int> roll)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var process = Process.GetCurrentProcess();
            var bytes0 = GC.GetTotalAllocatedBytes(precise: true);
            var cpu0 = process.TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            var decoded = decode();
            process.Refresh();
            var cpu1 = process.TotalProcessorTime;
            var rows = roll(decoded);
            wall.Stop();
            process.Refresh();
            var cpu2 = process.TotalProcessorTime;
            var bytes = (double)(GC.GetTotalAllocatedBytes(precise: true) - bytes0) / events;
            if (rows == 0) throw new InvalidOperationException("no rows");
            var decodeNs = (cpu1 - cpu0).TotalNanoseconds / events;
            var rollupNs = (cpu2 - cpu1).TotalNanoseconds / events;
            // Round 0 warms up (JIT tiers, caches) and is not counted.
            if (round > 0) totals[path].Add((decodeNs + rollupNs, bytes));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {path} | {(round == 0 ? "warm-up" : round.ToString(CultureInfo.InvariantCulture))} | {(path == "stream" ? "(in the pass)" : decodeNs.ToString("N0", CultureInfo.InvariantCulture))} | {rollupNs:N0} | {decodeNs + rollupNs:N0} | {1e9 / (decodeNs + rollupNs):N0} | {events / wall.Elapsed.TotalSeconds:N0} | {bytes:N0} |"));
        }
        }

    /// <summary>Where the streaming path's time and allocations go: the pass, the state, the window counts, the finaliser.</summary>
    private static int Phases(RollupEngine engine, List<ReadOnlyMemory<byte>> blocks, int events, int rounds)
    {
        for (var round = 0; round <= rounds; round++)
        {
            GC.Collect();
            var process = Process.GetCurrentProcess();
            var marks = new List<(string Name, TimeSpan Cpu, long Bytes)>();
            void Mark(string name)
            {
                process.Refresh();
                marks.Add((name, process.TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: true)));
            }
            var gcs = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            Mark("start");
            var (partial, delta) = BlockShardRoller.Roll(blocks, WindowState.Empty(), SceneTable.Default, BenchData.Day.DayNumber);
            Mark("pass");
            if (round == 0)
                Console.WriteLine($"sessions {delta.Sessions.Count:N0}, users {delta.Users.Count:N0}, user-programs {delta.UserPrograms.Count:N0}, page visitors {partial.Aggregate.Counters.Where(c => c.Key.Metric == "pages.visitors").Sum(c => c.Value):N0}, pages {partial.Aggregate.Counters.Count(c => c.Key.Metric == "pages.views"):N0}, orders {partial.Orders.Count:N0}");
            var state = WindowState.Empty();
            foreach (var kv in delta.Users) state.Users[kv.Key] = kv.Value;
            foreach (var kv in delta.UserPrograms) state.UserPrograms[kv.Key] = kv.Value;
            foreach (var kv in delta.Sessions) state.Sessions[kv.Key] = kv.Value;
            Mark("state");
            WindowCounts.Add(partial.Aggregate, state, BenchData.Day);
            Mark("windows");
            engine.FinaliseDay(BenchData.Day, [partial], WindowState.Empty());
            Mark("finalise");
            Console.Write($"gc {GC.CollectionCount(0) - gcs.Item1}/{GC.CollectionCount(1) - gcs.Item2}/{GC.CollectionCount(2) - gcs.Item3}: ");
            Console.WriteLine(string.Join("; ", marks.Skip(1).Select((m, i) => string.Create(CultureInfo.InvariantCulture,
                $"{m.Name} {(m.Cpu - marks[i].Cpu).TotalNanoseconds / events:N0} ns {(double)(m.Bytes - marks[i].Bytes) / events:N0} B"))));
        }
        return 0;
    }
}
