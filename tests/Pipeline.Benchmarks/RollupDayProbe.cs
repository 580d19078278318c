using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Pipeline.Benchmarks.Load;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Local.Simulation;
using Pipeline.Storage;
using Pipeline.Storage.Blobs;
using Pipeline.Local.Emulator;
using Pipeline.Storage.Tables;

namespace Pipeline.Benchmarks;

/// <summary>
/// The <c>rollupday</c> verb: the rollup of one large day, end to end through storage. A day of N
/// events (the simulator's ecosystem with M mini-programs, about 13.5 events per user) is stored in a
/// throw-away Azurite as processing stores it (one segment per (day, shard) of each batch of 500), the
/// day is marked dirty, and the real <c>pipeline rollup</c> runs as a child process: its wall time, its
/// peak RSS and its rows are reported. With <c>compacted</c> as the fourth argument the day is first compacted as the
/// sweeper compacts the days before today in the background, and that is timed apart. With several shard counts, every run gets its own Azurite and
/// the days' CSV exports are compared byte for byte.
/// </summary>
internal static partial class RollupDayProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        var events = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var programs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000;
        var shardCounts = args.Length > 2 ? args[2].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() : [16];
        // "compacted": compact the day first, as the sweeper does in the background before the nightly rollup, and time it apart.
        var compactFirst = args.Length > 3 && args[3] == "compacted";
        Console.WriteLine($"rollupday: {events:N0} events, {programs:N0} mini-programs, shards {string.Join(", ", shardCounts)}{(compactFirst ? ", compacted before the rollup" : "")}; {Environment.ProcessorCount} processors, load average {ProcessStats.LoadAverage()}");

        var clock = Stopwatch.StartNew();
        // The day rolled is yesterday (reporting time zone), so the run rolls that one day, as the nightly run does.
        var calendar = new Pipeline.Core.Time.ReportingCalendar("Asia/Shanghai");
        var end = calendar.StartOf(calendar.DayOf(DateTimeOffset.UtcNow));
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
        var parser = new Pipeline.Core.Ingest.BatchParser(new Pipeline.Core.Ingest.UserPseudonymizer(key));
        // The simulator makes about 13.5 events per user and day (fewer with few mini-programs): users for 12.5 a user
        // (the figures in docs/performance.md), more only when that falls short, then the first N events.
        List<Pipeline.Local.Simulation.SimulatedEvent> simulated = [];
        foreach (var perUser in new[] { 12.5, 10.0, 7.5 })
        {
            var options = BenchData.Options(users: (int)(events / perUser) + 1, seed: 42, end: end);
            options.MiniPrograms = programs;
            simulated = TrafficGenerator.Generate(options).Requests.Where(r => r.Kind == PlannedRequestKind.Batch).SelectMany(r => r.Events).Where(e => e.IsValid).Take(events).ToList();
            if (simulated.Count == events) break;
        }
        if (simulated.Count < events) throw new InvalidOperationException($"The simulator made only {simulated.Count:N0} events.");
        var accepted = new List<PipelineEvent>(events);
        for (var i = 0; i < simulated.Count; i += Pipeline.Core.Ingest.IngestLimits.MaxEvents)
        {
            var chunk = simulated.GetRange(i, Math.Min(Pipeline.Core.Ingest.IngestLimits.MaxEvents, simulated.Count - i));
            accepted.AddRange(parser.Parse(BenchData.Body(chunk, end), BenchData.Source, end).Accepted ?? []);
        }
        simulated = [];
        var eventCount = accepted.Count;
        var days = accepted.Select(e => calendar.DayOf(e.TimeMs)).Distinct().Order().ToList();
        Console.WriteLine($"generated {accepted.Count:N0} events ({accepted.Select(e => e.UserKey).Distinct().Count():N0} users, {accepted.Select(e => e.MiniProgramId).Distinct().Count():N0} mini-programs, days {string.Join(", ", days.Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))}) in {clock.Elapsed.TotalSeconds:0.0} s");

        var exports = new List<byte[]>();
        foreach (var shards in shardCounts)
        {
            await using var azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions(), CancellationToken.None);
            var blobs = new BlobServiceClient(azurite.ConnectionString);
            var tables = new TableServiceClient(azurite.ConnectionString);
            foreach (var container in StorageNames.Containers) await blobs.GetBlobContainerClient(container).CreateIfNotExistsAsync();
            await tables.CreateTableIfNotExistsAsync(StorageNames.RollupLedgerTable);
            var store = new BlobEventStore(blobs);

            // As processing stores them: batches of 500, one batch segment per (day, batch), a block per shard in it.
            clock.Restart();
            var batches = accepted.Chunk(500).SelectMany((batch, b) => batch
                .GroupBy(e => calendar.DayOf(e.TimeMs))
                .Select(day => day.GroupBy(e => UserShard.Of(e.UserKey, shards)).OrderBy(g => g.Key)
                    .Select(g => new EventSegment(day.Key, g.Key, $"batch-{b:D7}", "bench", g.ToList())).ToList())).ToList();
            await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (s, ct) => await store.WriteBatchAsync(s, ct));
            await new TableDirtyDayLedger(tables).MarkAsync(days, CancellationToken.None);
            var storedSeconds = clock.Elapsed.TotalSeconds;
            long storedBytes = 0;
            await foreach (var blob in blobs.GetBlobContainerClient(StorageNames.EventsContainer).GetBlobsAsync()) storedBytes += blob.Properties.ContentLength ?? 0;
            Console.WriteLine($"S={shards}: stored {batches.Count:N0} batch segments ({batches.Sum(b => b.Count):N0} (day, shard, batch) blocks, {storedBytes / 1048576.0:N1} MiB, {(double)storedBytes / eventCount:N1} B/event) in {storedSeconds:0.0} s");
            batches = null!;
            if (shards == shardCounts[^1])
            {
                // The day is stored for the last time: this probe's copy of it (gigabytes at 10,000,000 events) would
                // only take memory from the processes being measured (the sweep, the rollup, Azurite).
                accepted = null!;
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }
            var environment = new Dictionary<string, string>
            {
                ["PipelineStorage"] = azurite.ConnectionString,
                ["Pipeline__PseudonymisationKey"] = key,
                ["Pipeline__ReportingTimeZone"] = "Asia/Shanghai",
                ["Pipeline__EventStoreShards"] = shards.ToString(CultureInfo.InvariantCulture),
                ["DOTNET_gcServer"] = "0",
                // The finaliser's log line (its time by phase) and the shards' lines, without the per-request noise.
                ["Logging__LogLevel__Pipeline"] = "Information",
            };
            if (compactFirst)
            {
                // What the sweeper does for a dirty day before today (one day compaction per day), in its own process
                // as in production (the `sweep` verb), so that this probe's own heap (the generated day) is not in it.
                clock.Restart();
                var swept = await PipelineProcess.RunAsync(environment, ["sweep"], TimeSpan.FromMinutes(60), CancellationToken.None);
                var compaction = PipelineProcess.LineStartingWith(swept, "event store:");
                var sweepRss = PipelineProcess.PeakRssMiB(swept);
                Console.WriteLine($"S={shards}: sweep {clock.Elapsed.TotalSeconds:0.0} s wall ({compaction}), peak RSS {sweepRss} MiB (the sweeper's work, before the rollup)");
            }

            clock.Restart();
            var rollupPid = 0;
            var rolling = PipelineProcess.RunAsync(environment, ["rollup"], TimeSpan.FromMinutes(30), CancellationToken.None, pid => rollupPid = pid);
            // The rollup process's resident memory, sampled: its high-water mark while the shards rolled, and after.
            double rssShards = 0, rssFinal = 0;
            // When the shards were all done (the fan-out) and when the day was finalised (the fan-in), from the run's progress.
            var runs = new TableRollupRunStore(tables, TimeProvider.System);
            TimeSpan? shardsDone = null;
            while (!rolling.IsCompleted)
            {
                await Task.WhenAny(rolling, Task.Delay(250));
                if (rollupPid != 0 && !rolling.IsCompleted)
                {
                    var rssNow = ProcessStats.RssKb(rollupPid) / 1024.0;
                    if (shardsDone is null) rssShards = Math.Max(rssShards, rssNow);
                    else rssFinal = Math.Max(rssFinal, rssNow);
                }
                if (shardsDone is not null) continue;
                try
                {
                    if (await runs.GetActiveAsync(CancellationToken.None) is { } run
                        && (await runs.GetProgressAsync(run, CancellationToken.None)).ShardsFinished == run.Shards)
                        shardsDone = clock.Elapsed;
                }
                catch (Exception e) when (e is Azure.RequestFailedException or StorageUnavailableException) { } // the table may not exist yet
            }
            var output = await rolling;
            var wall = clock.Elapsed;
            var rss = PipelineProcess.PeakRssMiB(output);
            var rows = Rows().Match(output) is { Success: true } r ? r.Groups[1].Value : "?";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"S={shards}: rollup {wall.TotalSeconds:0.0} s wall ({eventCount / wall.TotalSeconds:N0} events/s; shards all done after {shardsDone?.TotalSeconds ?? double.NaN:0.0} s, the rest is the finaliser), peak RSS {rss} MiB (sampled: {rssShards:N0} MiB until the shards were done, {rssFinal:N0} MiB after), {rows} rows; load average {ProcessStats.LoadAverage()}"));
            Console.WriteLine("    " + output.Trim().Replace("\n", "\n    ", StringComparison.Ordinal));

            var exportStore = new BlobExportStore(blobs);
            var all = new List<byte>();
            foreach (var d in days) all.AddRange(await exportStore.ReadDailyAsync(d, CancellationToken.None) ?? throw new InvalidOperationException($"No export for {d}."));
            exports.Add([.. all]);
        }
        for (var i = 1; i < exports.Count; i++)
        {
            var same = exports[i].AsSpan().SequenceEqual(exports[0]);
            Console.WriteLine($"exports with S={shardCounts[i]} {(same ? "equal" : "DIFFER FROM")} those with S={shardCounts[0]} ({exports[0].Length:N0} bytes)");
            if (!same) return 1;
        }
        return 0;
    }

    [GeneratedRegex(@"([\d,]+) rows written")]
    private static partial Regex Rows();
}
