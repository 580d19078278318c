using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Pipeline.Benchmarks.Load;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;
using Pipeline.Local.Simulation;
using Pipeline.Storage;

namespace Pipeline.Benchmarks;

/// <summary>
/// The <c>ingestcpu</c> verb: where ingest's CPU goes per request, stage by stage, on batches of the
/// 8-client load shape (500 events, gzip, 2,000 mini-programs of Zipf-like popularity, 6 pages each,
/// a day of ~22,000 active users), in process and on one thread, timed by CPU time (steadier than the
/// wall clock on a shared machine) with the bytes each stage allocates. Stages: gunzip
/// (<see cref="BodyReader"/>), parse + validate + pseudonymise (<see cref="BatchParser"/>), the
/// HMAC alone (once per event, and once per distinct userId of the batch), and the landing blob's
/// JSON (<see cref="StorageJsonContext"/>, as <c>BlobLandingStore</c> writes it).
/// </summary>
internal static class IngestStageProbe
{
    public static int Run(string[] args)
    {
        var batches = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        const int BatchSize = 500;
        var simulation = BenchData.Options(50_000, seed: 42, days: 1, end: BenchData.End);
        simulation.MiniPrograms = 2000;
        var events = TrafficGenerator.Generate(simulation).Requests
            .Where(r => r.Kind == PlannedRequestKind.Batch).SelectMany(r => r.Events)
            .Where(e => e.IsValid && e.TimestampFromSentAt is null).Take(batches * BatchSize).ToList();
        LoadHarness.FoldPages(events, 6);
        var chunks = events.Chunk(BatchSize).Select(c => c.ToList()).ToList();
        var bodies = chunks.Select(c => BenchData.Gzip(LoadHarness.Body(c))).ToList();
        var parser = new BatchParser(new UserPseudonymizer(BenchData.PseudonymisationKey));
        var pseudonymizer = new UserPseudonymizer(BenchData.PseudonymisationKey);
        var receivedAt = BenchData.End;
        var distinct = chunks.Average(c => c.Select(e => e.UserId).Distinct().Count());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{chunks.Count} batches of {BatchSize} events ({events.Count:N0}; {events.Select(e => e.UserId).Distinct().Count():N0} users, {events.Select(e => e.MiniProgramId).Distinct().Count():N0} mini-programs); {distinct:0} distinct userIds per batch on average; gzip {bodies.Average(b => b.Length):N0} B per body; load average {ProcessStats.LoadAverage()}"));
        Console.WriteLine("| round | gunzip | parse+validate+pseudonymise | HMAC per event | HMAC per distinct user | landing JSON | total (gunzip+parse+landing) | alloc KiB/batch |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var totals = new List<double>();
        for (var round = 0; round <= rounds; round++)
        {
            GC.Collect();
            var t = new double[5];
            long allocated = 0;
            var userIds = new List<string>(BatchSize);
            foreach (var body in bodies)
            {
                var a0 = GC.GetAllocatedBytesForCurrentThread();
                var c0 = Cpu();
                using var read = BodyReader.ReadAsync(new MemoryStream(body, writable: false), gzip: true, CancellationToken.None).GetAwaiter().GetResult();
                var c1 = Cpu();
                var parsed = parser.Parse(read.Body, BenchData.Source, receivedAt);
                var c2 = Cpu();
                var json = JsonSerializer.SerializeToUtf8Bytes(new LandingBatch
                {
                    BatchId = "0199a0b0-0000-7000-8000-000000000000", Source = "bench", KeyId = "k", ReceivedAt = receivedAt,
                    ReceivedCount = parsed.ReceivedCount, RejectedCount = 0, Events = parsed.Accepted,
                }, StorageJsonContext.Default.LandingBatch);
                var c3 = Cpu();
                allocated += GC.GetAllocatedBytesForCurrentThread() - a0;
                if (json.Length == 0 || parsed.Accepted.Count != BatchSize) throw new InvalidOperationException("setup: " + parsed.ErrorCode);
                // The HMAC alone, per event and per distinct userId (not part of the total: already in parse).
                userIds.Clear();
                using var doc = JsonDocument.Parse(read.Body);
                foreach (var e in doc.RootElement.GetProperty("events").EnumerateArray()) if (e.TryGetProperty("userId", out var u)) userIds.Add(u.GetString()!);
                var c4 = Cpu();
                foreach (var u in userIds) pseudonymizer.Pseudonymize(u);
                var c5 = Cpu();
                foreach (var u in new HashSet<string>(userIds, StringComparer.Ordinal)) pseudonymizer.Pseudonymize(u);
                var c6 = Cpu();
                t[0] += c1 - c0; t[1] += c2 - c1; t[2] += c5 - c4; t[3] += c6 - c5; t[4] += c3 - c2;
            }
            var n = (double)bodies.Count;
            var total = (t[0] + t[1] + t[4]) / n;
            if (round > 0) totals.Add(total);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(round == 0 ? "warm-up" : round.ToString(CultureInfo.InvariantCulture))} | {t[0] / n:N0} µs | {t[1] / n:N0} µs | {t[2] / n:N0} µs | {t[3] / n:N0} µs | {t[4] / n:N0} µs | {total:N0} µs = {total / BatchSize:0.00} µs/event | {allocated / n / 1024:N0} |"));
        }
        totals.Sort();
        var median = totals[totals.Count / 2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median: {median:N0} CPU µs per batch of {BatchSize} = {median / BatchSize:0.00} µs/event (gunzip + parse/validate/pseudonymise + landing JSON, one thread); load average {ProcessStats.LoadAverage()}"));
        return 0;
    }

    /// <summary>CPU time of the process (getrusage: user + system, every thread, the garbage collector's included), µs.</summary>
    private static double Cpu() => Environment.CpuUsage.TotalTime.TotalMicroseconds;
}
