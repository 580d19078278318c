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
internal static class CpuTimeProbe
{
    public static int Run(string[] args)
    {
        var events = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        var day = BenchData.PipelineEvents(events, users: RollupData.UsersFor(events));
        var blocks = day.Chunk(200).Select(b => EventBlockCodec.Encode(b)).ToList();
        var engine = new RollupEngine(SceneTable.Default, 0.006);
        Console.WriteLine($"{events:N0} events in {blocks.Count:N0} blocks of 200; {Environment.ProcessorCount} processors; load average {Load.ProcessStats.LoadAverage()}");
        Console.WriteLine("| round | decode CPU ns/event | rollup CPU ns/event | total CPU ns/event | events/s per core (CPU) | events/s (wall) |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        var totals = new List<double>();
        for (var round = 0; round <= rounds; round++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var process = Process.GetCurrentProcess();
            var cpu0 = process.TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            var decoded = new List<PipelineEvent>(events);
            foreach (var block in blocks) decoded.AddRange(EventBlockCodec.Decode(block));
            process.Refresh();
            var cpu1 = process.TotalProcessorTime;
            var rows = engine.RollUp(BenchData.Day, [decoded], WindowState.Empty()).Rows.Count;
            wall.Stop();
            process.Refresh();
            var cpu2 = process.TotalProcessorTime;
            if (rows == 0) throw new InvalidOperationException("no rows");
            var decodeNs = (cpu1 - cpu0).TotalNanoseconds / events;
            var rollupNs = (cpu2 - cpu1).TotalNanoseconds / events;
            // Round 0 warms up (JIT tiers, caches) and is not counted.
            if (round > 0) totals.Add(decodeNs + rollupNs);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(round == 0 ? "warm-up" : round.ToString(CultureInfo.InvariantCulture))} | {decodeNs:N0} | {rollupNs:N0} | {decodeNs + rollupNs:N0} | {1e9 / (decodeNs + rollupNs):N0} | {events / wall.Elapsed.TotalSeconds:N0} |"));
        }
        totals.Sort();
        var median = totals[totals.Count / 2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median: {median:N0} CPU ns/event = {1e9 / median:N0} events/s per core; load average {Load.ProcessStats.LoadAverage()}"));
        return 0;
    }
}
