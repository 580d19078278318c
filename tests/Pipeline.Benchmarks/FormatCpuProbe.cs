using System.Diagnostics;
using System.Globalization;
using Pipeline.Core.Events;
using Pipeline.Storage.Blobs;

namespace Pipeline.Benchmarks;

/// <summary>
/// The <c>formats</c> verb: the compacted event store's candidate formats timed by the process's
/// CPU time (steadier than the wall clock on a shared machine, see <see cref="CpuTimeProbe"/>) and
/// by bytes allocated. One (day, shard) of N events, one thread: decode it into one list from
/// segments of 200 events (before compaction), from the compacted file (block codec), and from
/// Parquet; then the compaction's own work (fold the segments, write the Parquet copy).
/// </summary>
internal static class FormatCpuProbe
{
    public static int Run(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;
        var events = BenchData.PipelineEvents(count, users: RollupData.UsersFor(count));
        var segments = events.Chunk(200).Select((b, i) => ($"batch-{i:D6}", (ReadOnlyMemory<byte>)EventBlockCodec.Encode(b))).ToList();
        var compacted = CompactedEventFile.Fold(null, segments);
        var file = CompactedEventFile.Decode(compacted);
        byte[] parquet;
        using (var stream = new MemoryStream())
        {
            EventParquet.WriteAsync(stream, events, null, CancellationToken.None).GetAwaiter().GetResult();
            parquet = stream.ToArray();
        }

        Console.WriteLine($"{count:N0} events from {RollupData.UsersFor(count):N0} simulated users; {segments.Count:N0} segments of 200 ({segments.Sum(s => (long)s.Item2.Length):N0} bytes), " +
            $"compacted {compacted.Length:N0} bytes in {file.Blocks.Count} blocks, Parquet {parquet.Length:N0} bytes; {Environment.ProcessorCount} processors; load average {Load.ProcessStats.LoadAverage()}");
        Console.WriteLine($"median of {rounds} rounds after a warm-up, one thread:");
        Console.WriteLine("| operation | CPU ns/event | events/s per core (CPU) | events/s (wall) | allocated B/event |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");

        Measure("decode segments (blocks of 200, before compaction)", () =>
        {
            var day = new List<PipelineEvent>(count);
            foreach (var (_, block) in segments) day.AddRange(EventBlockCodec.Decode(block.Span));
            return day.Count;
        });
        Measure($"decode compacted file (block codec, blocks of {CompactedEventFile.BlockEvents:N0})", () => CompactedEventFile.Decode(compacted).DecodeEvents().Count);
        var small = CompactedEventFile.Fold(null, segments, blockEvents: 2_048);
        Measure("decode compacted file (block codec, blocks of 2,048)", () => CompactedEventFile.Decode(small).DecodeEvents().Count);
        Measure("decode Parquet (Parquet.Net)", () =>
        {
            using var stream = new MemoryStream(parquet, writable: false);
            return EventParquet.ReadAsync(stream, CancellationToken.None).GetAwaiter().GetResult().Events.Count;
        });
        Measure("compaction: fold the segments (decode + re-encode)", () => CompactedEventFile.Fold(null, segments).Length > 0 ? count : 0);
        Measure("compaction: write the Parquet copy (decode compacted + encode Parquet)", () =>
        {
            using var stream = new MemoryStream();
            EventParquet.WriteAsync(stream, file.DecodeEvents(), null, CancellationToken.None).GetAwaiter().GetResult();
            return count;
        });
        Console.WriteLine($"load average {Load.ProcessStats.LoadAverage()}");
        return 0;

        void Measure(string name, Func<int> operation)
        {
            var cpu = new List<double>();
            var wall = new List<double>();
            var allocated = new List<double>();
            for (var round = 0; round <= rounds; round++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var process = Process.GetCurrentProcess();
                var cpu0 = process.TotalProcessorTime;
                var bytes0 = GC.GetTotalAllocatedBytes(precise: true);
                var clock = Stopwatch.StartNew();
                var n = operation();
                clock.Stop();
                process.Refresh();
                if (n != count) throw new InvalidOperationException($"{name}: {n} events, not {count}.");
                if (round == 0) continue; // warm-up (JIT tiers)
                cpu.Add((process.TotalProcessorTime - cpu0).TotalNanoseconds / count);
                wall.Add(clock.Elapsed.TotalNanoseconds / count);
                allocated.Add((GC.GetTotalAllocatedBytes(precise: true) - bytes0) / (double)count);
            }
            var cpuNs = Median(cpu);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {cpuNs:N0} | {1e9 / cpuNs:N0} | {1e9 / Median(wall):N0} | {Median(allocated):N0} |"));
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
