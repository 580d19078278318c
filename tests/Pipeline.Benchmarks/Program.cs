using BenchmarkDotNet.Running;
using Pipeline.Benchmarks.Load;

namespace Pipeline.Benchmarks;

public static class Program
{
    /// <summary>
    /// <c>load [options]</c> runs the end-to-end load harness; anything else goes to BenchmarkDotNet
    /// (e.g. <c>--filter '*'</c>); <c>cputime [events] [rounds]</c> times the rollup from the event
    /// store format by CPU time (see <see cref="CpuTimeProbe"/>); <c>formats [events] [rounds]</c> times
    /// the compacted event store's formats by CPU time (see <see cref="FormatCpuProbe"/>); <c>rollupday [events]
    /// [mini-programs] [shards,shards] [compacted]</c> rolls one large day up through storage with the real CLI (see <see cref="RollupDayProbe"/>);
    /// <c>finalisemem [events] [shards,shards]</c> samples what the day's finaliser holds while merging the partials (see <see cref="FinaliseMemoryProbe"/>);
    /// <c>import-sample FILE [events] [days] [mini-programs]</c> writes an NDJSON file of simulated history for the <c>import</c> verb (see <see cref="ImportSample"/>);
    /// <c>importday FILE [shards]</c> times a backfilled day from import through processing, the sweep and the rollup (see <see cref="ImportDayProbe"/>);
    /// <c>ingestcpu [batches] [rounds]</c> times ingest's stages per request of the 8-client load shape (see <see cref="IngestStageProbe"/>).
    /// </summary>
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "load") return await LoadHarness.RunCliAsync(args[1..]);
        if (args.Length > 0 && args[0] == "cputime") return CpuTimeProbe.Run(args[1..]);
        if (args.Length > 0 && args[0] == "formats") return FormatCpuProbe.Run(args[1..]);
        if (args.Length > 0 && args[0] == "finalisemem") return FinaliseMemoryProbe.Run(args[1..]);
        if (args.Length > 0 && args[0] == "rollupday") return await RollupDayProbe.RunAsync(args[1..]);
        if (args.Length > 0 && args[0] == "import-sample") return ImportSample.Run(args[1..]);
        if (args.Length > 0 && args[0] == "importday") return await ImportDayProbe.RunAsync(args[1..]);
        if (args.Length > 0 && args[0] == "ingestcpu") return IngestStageProbe.Run(args[1..]);
        if (args.Length > 1 && args[0] == "data")
        {
            // How many events the simulator makes for N users in one day, and how long that takes.
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var events = BenchData.Simulated(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
            Console.WriteLine($"{events.Count:N0} events in {watch.Elapsed.TotalSeconds:0.0} s; types: " +
                string.Join(", ", events.GroupBy(e => e.Type).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}")));
            return 0;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Create());
        return 0;
    }
}
