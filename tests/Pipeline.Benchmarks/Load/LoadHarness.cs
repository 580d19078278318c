using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Azure.Data.Tables;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Pipeline.Core.Time;
using Pipeline.Local.Simulation;
using Pipeline.Storage;
using Pipeline.Local.Emulator;
using Pipeline.Storage.Tables;

namespace Pipeline.Benchmarks.Load;

/// <summary>
/// End-to-end load and soak harness. Starts a throw-away Azurite (temporary folder, free ports:
/// never the shared <c>.local/azurite</c> or ports 10000-10002), creates an ingest key, starts the
/// local runner's <c>serve</c> on a free loopback port, sends simulated batches at a steady event
/// rate for a bounded time (open loop: request i is due at i × batch/rate seconds), samples the
/// server's RSS and CPU and the processing queue, waits for processing to drain, rolls up the days
/// sent in a separate <c>rollup</c> process, and checks that the stored events, the events the
/// rollup read and the event-counting metrics (page views, shares, ad impressions and clicks,
/// sessions) equal what the server accepted, per reporting day. Stops everything it started.
/// </summary>
public static partial class LoadHarness
{
    private const string ReportingTimeZone = "Asia/Shanghai";
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The <c>load</c> verb: parses options, runs, prints the report; 0 when every check passed.</summary>
    public static async Task<int> RunCliAsync(string[] args)
    {
        if (args.Any(a => a is "--help" or "-h"))
        {
            Console.WriteLine(LoadOptions.Usage);
            return 0;
        }
        LoadOptions options;
        try
        {
            options = LoadOptions.Parse(args);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(LoadOptions.Usage);
            return 2;
        }
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        var report = await RunAsync(options, Console.Out, cancel.Token);
        report.WriteTo(Console.Out);
        return report.Passed ? 0 : 1;
    }

    /// <summary>Runs the whole load test; progress goes to <paramref name="log"/>.</summary>
    public static async Task<LoadReport> RunAsync(LoadOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        options.Validate();
        log = new ElapsedLog(log);
        log.WriteLine(options.Events is { } fixedCount
            ? $"load: {fixedCount:N0} events as fast as accepted, {options.Concurrency} clients, batches of {options.BatchSize} (gzip {options.GzipRate:P0}); {options.MiniPrograms:N0} mini-programs, {(options.Pages is { } p ? p.ToString(CultureInfo.InvariantCulture) : "7-10")} pages each, {UsersPerDay(options):N0} users; processing {(options.Processing ? "on" : "OFF")}"
            : $"load: {options.Rate:N0} events/s for {options.Seconds} s in batches of {options.BatchSize} (gzip {options.GzipRate:P0}), at most {options.Concurrency} requests in flight");
        var loadAtStart = ProcessStats.LoadAverage();
        log.WriteLine($"machine: {Environment.ProcessorCount} processors; load average {loadAtStart}");

        log.WriteLine("Starting a throw-away Azurite (temporary folder, free ports)…");
        await using var azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions(), cancellationToken);
        var now = DateTimeOffset.UtcNow;
        var environment = new Dictionary<string, string>
        {
            ["PipelineStorage"] = azurite.ConnectionString,
            ["Pipeline__PseudonymisationKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)),
            ["Pipeline__ReportingTimeZone"] = ReportingTimeZone,
            // Daily, an hour before now (UTC): never during a run; the harness rolls up itself at the end.
            ["RollupSchedule"] = string.Create(CultureInfo.InvariantCulture, $"0 {now.AddHours(-1).Minute} {now.AddHours(-1).Hour} * * *"),
            ["DOTNET_gcServer"] = "0",
        };
        if (options.Events is not null)
        {
            // As fast as accepted: the source's limit (5,000 events/s by default) is raised far above any rate
            // this machine reaches, so the limiter still runs on every request but never answers 429.
            environment["Pipeline__RateLimit__Sources__load__EventsPerSecond"] = "1000000";
            environment["Pipeline__RateLimit__Sources__load__Burst"] = "1000000";
        }
        if (!options.Processing || options.ProcessAfter)
        {
            // Every listener polls once at start (the queues are empty then) and then waits a day.
            environment["LocalQueues__MinPollingInterval"] = "1.00:00:00";
            environment["LocalQueues__MaxPollingInterval"] = "1.00:00:00";
        }

        var logPath = Path.Combine(Path.GetTempPath(), $"pipeline-load-serve-{Environment.ProcessId}-{now.ToUnixTimeSeconds()}.log");
        using var server = PipelineProcess.StartServe(environment, logPath);
        // The key is made while serve starts (as `keys create` does it, without a second process start-up).
        var key = await CreateKeyAsync(azurite.ConnectionString, cancellationToken);
        var baseUri = await server.WaitUntilListeningAsync(TimeSpan.FromMinutes(2), cancellationToken);
        log.WriteLine($"serve: pid {server.Id} on {baseUri}, log {logPath}");
        var report = await DriveAsync(options, server, azurite.ProcessId, new Uri(baseUri, "/api/v1/events"), new StoreProbe(azurite.ConnectionString), environment, key, loadAtStart, log, cancellationToken);
        log.WriteLine("Stopping serve and Azurite (its folder is deleted).");
        return report;
    }

    /// <summary>An ingest key for a source that may write every mini-program; returns the plaintext key.</summary>
    private static async Task<string> CreateKeyAsync(string connectionString, CancellationToken cancellationToken)
    {
        var tables = new TableServiceClient(connectionString);
        await tables.CreateTableIfNotExistsAsync(StorageNames.IngestKeysTable, cancellationToken);
        await tables.CreateTableIfNotExistsAsync(StorageNames.IngestSourcesTable, cancellationToken);
        var store = new TableIngestKeyStore(tables);
        var now = DateTimeOffset.UtcNow;
        await store.SaveSourceAsync(new SourceRegistration("load", AllMiniPrograms: true, [], now), cancellationToken);
        var (plaintext, record) = IngestKeys.Create("load", now);
        await store.SaveKeyAsync(record, cancellationToken);
        return plaintext;
    }

    private static async Task<LoadReport> DriveAsync(LoadOptions options, PipelineProcess server, int? azuritePid, Uri endpoint, StoreProbe store,
        Dictionary<string, string> environment, string key, string loadAtStart, TextWriter log, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            Timeout = TimeSpan.FromSeconds(100),
        };
        var idleRss = ProcessStats.RssKb(server.Id) / 1024.0;
        log.WriteLine($"serve is up; RSS {idleRss:N0} MiB");

        using var stopGenerating = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var batches = Channel.CreateBounded<List<SimulatedEvent>>(new BoundedChannelOptions(Math.Max(8, 60_000 / options.BatchSize)) { SingleReader = true, SingleWriter = true });
        var generator = Task.Run(() => GenerateAsync(options, batches.Writer, stopGenerating.Token), CancellationToken.None);
        var total = options.Events is { } fixedCount
            ? (fixedCount + options.BatchSize - 1) / options.BatchSize
            : Math.Max(1, (long)options.Rate * options.Seconds / options.BatchSize);
        PreparedBatch[]? prepared = null;
        if (options.Events is { } count)
        {
            // Everything is built before the clock starts: the harness then only does HTTP while sending.
            var watch = Stopwatch.StartNew();
            prepared = new PreparedBatch[total + options.Warmup];
            var left = count + (long)options.Warmup * options.BatchSize;
            for (long i = 0; i < prepared.Length; i++)
            {
                var batch = await batches.Reader.ReadAsync(cancellationToken);
                if (batch.Count > left) batch = batch.GetRange(0, (int)left);
                left -= batch.Count;
                var gzip = (i % 1000) < options.GzipRate * 1000;
                var json = Body(batch);
                prepared[i] = new PreparedBatch(batch, gzip ? BenchData.Gzip(json) : json, gzip);
            }
            await stopGenerating.CancelAsync();
            try { await generator; } catch (OperationCanceledException) { }
            var bytes = prepared.Sum(p => (long)p.Body.Length);
            var users = prepared.SelectMany(p => p.Events).Select(e => e.UserId).Distinct().Count();
            var programs = prepared.SelectMany(p => p.Events).Select(e => e.MiniProgramId).Distinct().Count();
            log.WriteLine($"prepared {prepared.Length:N0} bodies ({options.Warmup:N0} to warm up) of {count + (long)options.Warmup * options.BatchSize:N0} events ({bytes / 1024.0 / 1024.0:N1} MiB as sent, {bytes / (double)count:N0} B/event) from {users:N0} users in {programs:N0} mini-programs in {watch.Elapsed.TotalSeconds:0.0} s");
        }
        else
        {
            // Let the first chunk be ready before the clock starts.
            while (batches.Reader.Count < Math.Min(50, total) && !generator.IsCompleted) await Task.Delay(50, cancellationToken);
        }

        var tally = new LoadTally(new ReportingCalendar(ReportingTimeZone));
        long warmupEvents = 0;
        if (prepared is not null && options.Warmup > 0)
        {
            // Warm-up: the first requests, answered before the clock starts; checked with the rest, never timed.
            var warmupWatch = Stopwatch.StartNew();
            await SendClosedLoopAsync(http, endpoint, key, prepared.AsMemory(0, options.Warmup), options.Concurrency, tally);
            warmupEvents = tally.AcceptedEvents;
            tally.ClearLatencies();
            log.WriteLine($"warm-up: {options.Warmup:N0} requests, {warmupEvents:N0} events accepted in {warmupWatch.Elapsed.TotalSeconds:0.0} s (not timed)");
            prepared = prepared[options.Warmup..];
        }
        var samples = new List<LoadSample>();
        var cpuStart = ProcessStats.CpuSeconds(server.Id);
        var azuriteCpuStart = azuritePid is { } a0 ? ProcessStats.CpuSeconds(a0) : 0;
        var harnessCpuStart = Environment.CpuUsage.TotalTime.TotalSeconds;
        var machineCpuStart = ProcessStats.MachineCpuSeconds();
        var wall = Stopwatch.StartNew();
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        log.WriteLine(LoadReport.SampleHeader);
        var sampler = Task.Run(() => SampleAsync(options, server, store, tally, wall, cpuStart, samples, log, stopSampling.Token), CancellationToken.None);

        var maxLag = TimeSpan.Zero;
        var sendStart = Stopwatch.GetTimestamp();
        if (prepared is not null)
        {
            await SendClosedLoopAsync(http, endpoint, key, prepared, options.Concurrency, tally);
        }
        else
        {
            // Open loop: request i is due at i * interval; at most Concurrency in flight.
            var interval = TimeSpan.FromSeconds(options.BatchSize / (double)options.Rate);
            using var slots = new SemaphoreSlim(options.Concurrency);
            var inFlight = new List<Task>();
            for (long i = 0; i < total; i++)
            {
                var wait = interval * i - Stopwatch.GetElapsedTime(sendStart);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken);
                else if (-wait > maxLag) maxLag = -wait;
                // Bounded in time too: a server that cannot keep up does not stretch the run.
                if (Stopwatch.GetElapsedTime(sendStart) > TimeSpan.FromSeconds(options.Seconds + 5)) break;
                var batch = await batches.Reader.ReadAsync(cancellationToken);
                await slots.WaitAsync(cancellationToken);
                var gzip = (i % 1000) < options.GzipRate * 1000;
                inFlight.Add(SendAndReleaseAsync(http, endpoint, key, batch, gzip, tally, slots));
                if (inFlight.Count > 4096) inFlight.RemoveAll(t => t.IsCompleted);
            }
            await Task.WhenAll(inFlight);
        }
        var sendSeconds = Stopwatch.GetElapsedTime(sendStart).TotalSeconds;
        var cpuSending = ProcessStats.CpuSeconds(server.Id) - cpuStart;
        var azuriteCpuSending = azuritePid is { } a1 ? ProcessStats.CpuSeconds(a1) - azuriteCpuStart : 0;
        var harnessCpuSending = Environment.CpuUsage.TotalTime.TotalSeconds - harnessCpuStart;
        var machineCpuSending = ProcessStats.MachineCpuSeconds() - machineCpuStart;
        var loadAfterSend = ProcessStats.LoadAverage();
        var rssAfterSend = ProcessStats.RssKb(server.Id) / 1024.0;
        var peakRssSending = ProcessStats.PeakRssKb(server.Id) / 1024.0;
        await stopGenerating.CancelAsync();
        try { await generator; } catch (OperationCanceledException) { }
        log.WriteLine($"sending done in {sendSeconds:0.0} s ({tally.AcceptedEvents - warmupEvents:N0} events accepted = {(tally.AcceptedEvents - warmupEvents) / sendSeconds:N0} events/s; load average {loadAfterSend})"
            + (options.Processing ? "; waiting for processing to drain…" : ""));

        PipelineProcess? processor = null;
        var processStart = Stopwatch.GetTimestamp(); // before the second serve starts: its start-up counts against processing
        if (options.ProcessAfter)
        {
            // Processing alone: a second serve with listening queues drains what the first one landed.
            var processing = new Dictionary<string, string>(environment);
            processing.Remove("LocalQueues__MinPollingInterval");
            processing.Remove("LocalQueues__MaxPollingInterval");
            var processorLog = Path.Combine(Path.GetTempPath(), $"pipeline-load-process-{Environment.ProcessId}.log");
            processor = PipelineProcess.StartServe(processing, processorLog);
            await processor.WaitUntilListeningAsync(TimeSpan.FromMinutes(2), cancellationToken);
            log.WriteLine($"processing serve: pid {processor.Id}, log {processorLog}; timing the drain of {tally.AcceptedEvents:N0} events");
        }
        using var processorScope = processor;

        if (!options.Processing && !options.ProcessAfter)
        {
            // Ingest alone: each 202 must have left exactly one claim check on the (unworked) processing queue.
            var (depth, _) = await store.ProcessingBacklogAsync(cancellationToken);
            var accepted202 = tally.ByStatus().GetValueOrDefault(202);
            await stopSampling.CancelAsync();
            await sampler;
            if (server.HasExited) throw new InvalidOperationException("serve exited during the run (see its log).");
            return new LoadReport
            {
                Options = options,
                LoadAverageAtStart = loadAtStart,
                LoadAverageAtEnd = ProcessStats.LoadAverage(),
                ByStatus = tally.ByStatus(),
                Requests = tally.Requests,
                SentEvents = tally.SentEvents,
                AcceptedEvents = tally.AcceptedEvents,
                PartialAccepts = tally.PartialAccepts,
                FailedRequests = tally.FailedRequests,
                SendSeconds = sendSeconds,
                MaxScheduleLag = maxLag,
                Latencies = tally.SortedLatencies(),
                ServerCpuSecondsSending = cpuSending,
                ServerCpuSecondsTotal = cpuSending,
                AzuriteCpuSecondsSending = azuriteCpuSending,
                HarnessCpuSecondsSending = harnessCpuSending,
                MachineCpuSecondsSending = machineCpuSending,
                LoadAverageAfterSend = loadAfterSend,
                WarmupEvents = warmupEvents,
                DrainSeconds = 0,
                Drained = depth == accepted202,
                ClaimChecksQueued = depth,
                EndToEndSeconds = sendSeconds,
                PoisonMessages = 0,
                IdleRssMiB = idleRss,
                RssAfterSendMiB = rssAfterSend,
                RssAfterDrainMiB = rssAfterSend,
                PeakRssMiB = peakRssSending,
                RollupSeconds = 0,
                RollupEventsRead = tally.AcceptedEvents,
                RollupSummary = "skipped (processing off)",
                Days = [],
                Metrics = [],
                Samples = samples,
            };
        }

        // Drained: nothing left in the processing queue and every accepted event in the event store.
        var drainStart = Stopwatch.GetTimestamp();
        Dictionary<DateOnly, long> stored = [];
        var drained = false;
        while (true)
        {
            var (depth, _) = await store.ProcessingBacklogAsync(cancellationToken);
            if (depth == 0)
            {
                stored = await store.StoredEventsByDayAsync(cancellationToken);
                if (stored.Values.Sum() >= tally.AcceptedEvents) { drained = true; break; }
            }
            if (Stopwatch.GetElapsedTime(drainStart) > TimeSpan.FromSeconds(options.DrainTimeoutSeconds))
            {
                stored = await store.StoredEventsByDayAsync(cancellationToken);
                log.WriteLine($"processing did not drain within {options.DrainTimeoutSeconds} s (queue {depth}, stored {stored.Values.Sum():N0})");
                break;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
        var drainSeconds = Stopwatch.GetElapsedTime(drainStart).TotalSeconds;
        log.WriteLine($"drained: {drained}, {stored.Values.Sum():N0} events stored; rolling up…");
        if (processor is not null)
        {
            var processSeconds = Stopwatch.GetElapsedTime(processStart).TotalSeconds;
            log.WriteLine($"processing alone: {tally.AcceptedEvents:N0} events stored in {processSeconds:0.0} s from the processing serve's start = {tally.AcceptedEvents / processSeconds:N0} events/s (processing serve CPU {ProcessStats.CpuSeconds(processor.Id):0.0} s, peak RSS {ProcessStats.PeakRssKb(processor.Id) / 1024.0:N0} MiB; load average {ProcessStats.LoadAverage()})");
        }
        var endToEnd = wall.Elapsed.TotalSeconds;
        var cpuTotal = ProcessStats.CpuSeconds(server.Id) - cpuStart;
        var rssAfterDrain = ProcessStats.RssKb(server.Id) / 1024.0;
        await stopSampling.CancelAsync();
        await sampler;
        var poison = await store.PoisonMessagesAsync(cancellationToken);
        if (server.HasExited) throw new InvalidOperationException("serve exited during the run (see its log).");
        var peakRss = ProcessStats.PeakRssKb(server.Id) / 1024.0;

        // Roll up every day that received events, today included (the scheduled rollup stops at yesterday).
        var expected = tally.Expected();
        var days = expected.Keys.Union(stored.Keys).Order().ToList();
        var rollupWatch = Stopwatch.StartNew();
        var rollupOutput = days.Count == 0 || !options.Rollup ? "" : await PipelineProcess.RunAsync(environment,
            ["rollup", "--from", days[0].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "--to", days[^1].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(30), cancellationToken);
        rollupWatch.Stop();
        log.WriteLine($"rollup done in {rollupWatch.Elapsed.TotalSeconds:0.0} s: {rollupOutput.Trim().Split('\n')[^1].Trim()}");
        // The report line ("rolled up N day(s) …: E events read, R rows written …"); the CLI prints its peak RSS after it.
        var rollupSummary = options.Rollup
            ? rollupOutput.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("rolled up", StringComparison.Ordinal)) ?? rollupOutput.Trim()
            : "skipped (--no-rollup)";
        var eventsRead = !options.Rollup ? tally.AcceptedEvents
            : EventsRead().Match(rollupSummary) is { Success: true } m
            ? long.Parse(m.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture)
            : -1;

        var metrics = new List<MetricCheck>();
        foreach (var day in options.Rollup ? days : [])
        {
            var totals = await store.TotalsAsync(day, cancellationToken);
            var x = expected.GetValueOrDefault(day) ?? new DayExpectation();
            foreach (var (metric, value) in new[]
            {
                ("users.page_views", x.PageViews), ("users.shares", x.Shares), ("platform.ad_impressions", x.AdImpressions),
                ("platform.ad_clicks", x.AdClicks), ("users.sessions", x.Sessions),
            })
                metrics.Add(new MetricCheck(day, metric, value, totals.TryGetValue(metric, out var v) ? v : null));
        }

        return new LoadReport
        {
            Options = options,
            LoadAverageAtStart = loadAtStart,
            LoadAverageAtEnd = ProcessStats.LoadAverage(),
            ByStatus = tally.ByStatus(),
            Requests = tally.Requests,
            SentEvents = tally.SentEvents,
            AcceptedEvents = tally.AcceptedEvents,
            PartialAccepts = tally.PartialAccepts,
            FailedRequests = tally.FailedRequests,
            SendSeconds = sendSeconds,
            MaxScheduleLag = maxLag,
            Latencies = tally.SortedLatencies(),
            ServerCpuSecondsSending = cpuSending,
            ServerCpuSecondsTotal = cpuTotal,
            AzuriteCpuSecondsSending = azuriteCpuSending,
            HarnessCpuSecondsSending = harnessCpuSending,
            MachineCpuSecondsSending = machineCpuSending,
            LoadAverageAfterSend = loadAfterSend,
            WarmupEvents = warmupEvents,
            DrainSeconds = drainSeconds,
            Drained = drained,
            EndToEndSeconds = endToEnd,
            PoisonMessages = poison,
            IdleRssMiB = idleRss,
            RssAfterSendMiB = rssAfterSend,
            RssAfterDrainMiB = rssAfterDrain,
            PeakRssMiB = peakRss,
            RollupSeconds = rollupWatch.Elapsed.TotalSeconds,
            RollupEventsRead = eventsRead,
            RollupSummary = rollupSummary,
            Days = days.Select(d => new DayCheck(d, expected.GetValueOrDefault(d)?.Events ?? 0, stored.GetValueOrDefault(d))).ToList(),
            Metrics = metrics,
            Samples = samples,
        };
    }

    /// <summary>
    /// Batches of valid simulated events, one simulated day (the 24 hours before now) at a time,
    /// each chunk with the next seed (so new event ids), written ahead into a bounded channel.
    /// </summary>
    private static async Task GenerateAsync(LoadOptions options, ChannelWriter<List<SimulatedEvent>> writer, CancellationToken cancellationToken)
    {
        var end = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var users = UsersPerDay(options);
        try
        {
            for (var chunk = 0; !cancellationToken.IsCancellationRequested; chunk++)
            {
                var simulation = BenchData.Options(users, seed: options.Seed + chunk, days: 1, end: end);
                simulation.MiniPrograms = options.MiniPrograms;
                var events = TrafficGenerator.Generate(simulation).Requests
                    .Where(r => r.Kind == PlannedRequestKind.Batch)
                    .SelectMany(r => r.Events)
                    // Valid events with their own timestamps (no clock-skew cases), so the harness knows each one's reporting day.
                    .Where(e => e.IsValid && e.TimestampFromSentAt is null)
                    .ToList();
                if (options.Pages is { } pages) FoldPages(events, pages);
                for (var i = 0; i + options.BatchSize <= events.Count; i += options.BatchSize)
                    await writer.WriteAsync(events.GetRange(i, options.BatchSize), cancellationToken);
            }
        }
        finally
        {
            writer.TryComplete();
        }
    }

    /// <summary>Closed loop: each of <paramref name="clients"/> sends its next batch as soon as its previous one is answered.</summary>
    private static Task SendClosedLoopAsync(HttpClient http, Uri endpoint, string key, ReadOnlyMemory<PreparedBatch> batches, int clients, LoadTally tally)
    {
        long next = -1;
        return Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < batches.Length; i = Interlocked.Increment(ref next))
                await SendAsync(http, endpoint, key, batches.Span[(int)i], tally);
        }, CancellationToken.None)));
    }

    /// <summary>A request ready to send: its events (for the tally) and its body as sent.</summary>
    private sealed record PreparedBatch(List<SimulatedEvent> Events, byte[] Body, bool Gzip);

    /// <summary>About 13 events per simulated user and day: small chunks for short runs, so that generating does not delay the start.</summary>
    private static int UsersPerDay(LoadOptions options) =>
        options.Users ?? (int)Math.Clamp((long)options.Rate * options.Seconds / 10, 200, 8000);

    /// <summary>
    /// At most <paramref name="pages"/> distinct <c>props.page</c> routes per mini-program: the first
    /// N routes seen keep their names, later ones are folded onto them (the simulator draws 7 to 10
    /// per program). Only the route string changes, so every event stays valid.
    /// </summary>
    internal static void FoldPages(List<SimulatedEvent> events, int pages)
    {
        var seen = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.Props["page"]?.GetValue<string>() is not { } page) continue;
            if (!seen.TryGetValue(e.MiniProgramId, out var routes)) seen[e.MiniProgramId] = routes = [];
            var index = routes.IndexOf(page);
            if (index < 0)
            {
                routes.Add(page);
                index = routes.Count - 1;
            }
            if (index >= pages) e.Props["page"] = routes[index % pages];
        }
    }

    private static async Task SendAndReleaseAsync(HttpClient http, Uri endpoint, string key, List<SimulatedEvent> batch, bool gzip, LoadTally tally, SemaphoreSlim slots)
    {
        try
        {
            var json = Body(batch);
            await SendAsync(http, endpoint, key, new PreparedBatch(batch, gzip ? BenchData.Gzip(json) : json, gzip), tally);
        }
        finally
        {
            slots.Release();
        }
    }

    private static async Task SendAsync(HttpClient http, Uri endpoint, string key, PreparedBatch batch, LoadTally tally)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(batch.Body) };
        message.Headers.Add("X-Api-Key", key);
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (batch.Gzip) message.Content.Headers.ContentEncoding.Add("gzip");
        var started = Stopwatch.GetTimestamp();
        int status;
        string text;
        try
        {
            using var response = await http.SendAsync(message);
            status = (int)response.StatusCode;
            text = await response.Content.ReadAsStringAsync();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            status = 0;
            text = e.Message;
        }
        var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        tally.Record(status, ms, batch.Events, status == 202 ? RejectedIndexes(text) : []);
    }

    /// <summary>A request body without <c>sentAt</c>: timestamps are taken as sent, so each event's reporting day is known here exactly.</summary>
    internal static byte[] Body(List<SimulatedEvent> batch)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("events");
            foreach (var e in batch) e.WriteTo(writer, e.Time);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static HashSet<int> RejectedIndexes(string body)
    {
        var indexes = new HashSet<int>();
        using var doc = JsonDocument.Parse(body);
        if (doc.RootElement.TryGetProperty("rejected", out var rejected))
            foreach (var r in rejected.EnumerateArray()) indexes.Add(r.GetProperty("index").GetInt32());
        return indexes;
    }

    private static async Task SampleAsync(LoadOptions options, PipelineProcess server, StoreProbe store, LoadTally tally, Stopwatch wall, double cpuStart,
        List<LoadSample> samples, TextWriter log, CancellationToken cancellationToken)
    {
        var lastCpu = cpuStart;
        var lastTime = 0.0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try { await Task.Delay(TimeSpan.FromSeconds(options.SampleSeconds), cancellationToken); }
            catch (OperationCanceledException) { return; }
            var t = wall.Elapsed.TotalSeconds;
            var cpu = ProcessStats.CpuSeconds(server.Id);
            (int Depth, TimeSpan OldestAge) backlog;
            try { backlog = await store.ProcessingBacklogAsync(cancellationToken); }
            catch (OperationCanceledException) { return; }
            var sample = new LoadSample(t, ProcessStats.RssKb(server.Id) / 1024.0, (cpu - lastCpu) / (t - lastTime) * 100,
                tally.AcceptedEvents, tally.Requests, backlog.Depth, backlog.OldestAge.TotalSeconds, ProcessStats.LoadAverage());
            lastCpu = cpu;
            lastTime = t;
            lock (samples) samples.Add(sample);
            log.WriteLine(LoadReport.Format(sample));
        }
    }

    [GeneratedRegex(@"([\d,]+) events read")]
    private static partial Regex EventsRead();
}
