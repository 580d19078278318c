using System.Globalization;

namespace Pipeline.Benchmarks.Load;

/// <summary>One sample of the server while the harness runs.</summary>
public sealed record LoadSample(double Seconds, double RssMiB, double CpuPercent, long AcceptedEvents, long Requests, int QueueDepth, double OldestMessageSeconds, string LoadAverage);

/// <summary>A metric's expected and rolled-up whole-platform value for one day.</summary>
public sealed record MetricCheck(DateOnly Day, string Metric, long Expected, double? RolledUp)
{
    public bool Matches => RolledUp is { } v ? v == Expected : Expected == 0;
}

/// <summary>A day's accepted and stored event counts.</summary>
public sealed record DayCheck(DateOnly Day, long Accepted, long Stored)
{
    public bool Matches => Accepted == Stored;
}

/// <summary>Everything a load run measured, and whether the counts and answers were right.</summary>
public sealed class LoadReport
{
    public required LoadOptions Options { get; init; }
    public required string LoadAverageAtStart { get; init; }
    public required string LoadAverageAtEnd { get; init; }
    public required IReadOnlyDictionary<int, long> ByStatus { get; init; }
    public required long Requests { get; init; }
    public required long SentEvents { get; init; }
    public required long AcceptedEvents { get; init; }
    public required long PartialAccepts { get; init; }
    public required long FailedRequests { get; init; }
    public required double SendSeconds { get; init; }
    public required TimeSpan MaxScheduleLag { get; init; }
    /// <summary>Request latencies in milliseconds, ascending.</summary>
    public required double[] Latencies { get; init; }
    public required double ServerCpuSecondsSending { get; init; }
    public required double ServerCpuSecondsTotal { get; init; }
    /// <summary>CPU seconds of Azurite (one Node.js process) while sending.</summary>
    public double AzuriteCpuSecondsSending { get; init; }
    /// <summary>CPU seconds of the harness itself (the HTTP clients) while sending.</summary>
    public double HarnessCpuSecondsSending { get; init; }
    /// <summary>Busy CPU seconds of the whole machine while sending (/proc/stat: every process, other builds included).</summary>
    public double MachineCpuSecondsSending { get; init; }
    public string LoadAverageAfterSend { get; init; } = "?";
    /// <summary>Events accepted by the warm-up requests (before the clock started): in the checks, not in the rate or the CPU figures.</summary>
    public long WarmupEvents { get; init; }
    /// <summary>With processing off: messages on the processing queue after sending (must equal the 202s).</summary>
    public int? ClaimChecksQueued { get; init; }
    public required double DrainSeconds { get; init; }
    public required bool Drained { get; init; }
    public required double EndToEndSeconds { get; init; }
    public required int PoisonMessages { get; init; }
    public required double IdleRssMiB { get; init; }
    public required double RssAfterSendMiB { get; init; }
    public required double RssAfterDrainMiB { get; init; }
    public required double PeakRssMiB { get; init; }
    public required double RollupSeconds { get; init; }
    public required long RollupEventsRead { get; init; }
    public required string RollupSummary { get; init; }
    public required IReadOnlyList<DayCheck> Days { get; init; }
    public required IReadOnlyList<MetricCheck> Metrics { get; init; }
    public required IReadOnlyList<LoadSample> Samples { get; init; }

    public long StoredEvents => Days.Sum(d => d.Stored);

    /// <summary>Every accepted event stored once, read once by the rollup, and every event-counting metric equal to what was accepted.</summary>
    public bool CountsMatch => !Options.Processing ? Drained && AcceptedEvents == SentEvents : Drained && PoisonMessages == 0 && Days.All(d => d.Matches) && Metrics.All(m => m.Matches)
        && StoredEvents == AcceptedEvents && RollupEventsRead == AcceptedEvents;

    public bool Passed => CountsMatch && FailedRequests == 0;

    public double AcceptedPerSecond => SendSeconds > 0 ? TimedEvents / SendSeconds : 0;

    /// <summary>Accepted events the clock ran for (all but the warm-up's).</summary>
    public long TimedEvents => AcceptedEvents - WarmupEvents;

    public double Percentile(double p) =>
        Latencies.Length == 0 ? 0 : Latencies[Math.Clamp((int)Math.Ceiling(p / 100 * Latencies.Length) - 1, 0, Latencies.Length - 1)];

    public void WriteTo(TextWriter w)
    {
        var c = CultureInfo.InvariantCulture;
        var o = Options;
        void L(FormattableString line) => w.WriteLine(line.ToString(c));
        w.WriteLine();
        w.WriteLine("## Load harness result");
        w.WriteLine();
        if (o.Events is { } fixedCount)
            L($"- target: {fixedCount:N0} events as fast as accepted by {o.Concurrency} clients, batches of {o.BatchSize}, gzip {o.GzipRate:P0}, {o.MiniPrograms:N0} mini-programs, pages {(o.Pages is { } p ? p.ToString(c) : "7-10")}, {o.Users?.ToString("N0", c) ?? "default"} users, processing {(o.Processing ? "on" : "OFF")}; {Environment.ProcessorCount} processors; load average {LoadAverageAtStart} at start, {LoadAverageAtEnd} at end");
        else
        L($"- target: {o.Rate:N0} events/s for {o.Seconds} s, batches of {o.BatchSize}, gzip {o.GzipRate:P0}, at most {o.Concurrency} requests in flight; {Environment.ProcessorCount} processors; load average {LoadAverageAtStart} at start, {LoadAverageAtEnd} at end");
        L($"- requests: {Requests:N0} in {SendSeconds:0.0} s; status {string.Join(", ", ByStatus.OrderBy(kv => kv.Key).Select(kv => string.Create(c, $"{kv.Key}: {kv.Value:N0}")))} (0 = no answer); 202s with rejected events: {PartialAccepts:N0}; max schedule lag {MaxScheduleLag.TotalMilliseconds:N0} ms");
        L($"- accepted: {AcceptedEvents:N0} of {SentEvents:N0} events sent{(WarmupEvents > 0 ? string.Create(c, $" ({WarmupEvents:N0} of them in the untimed warm-up)") : "")}; **{AcceptedPerSecond:N0} events/s** accepted while the clock ran");
        L($"- request latency (ms): p50 {Percentile(50):0.0}, p95 {Percentile(95):0.0}, p99 {Percentile(99):0.0}, max {(Latencies.Length > 0 ? Latencies[^1] : 0):0.0}");
        L($"- server CPU: {ServerCpuSecondsSending:0.0} s while sending ({ServerCpuSecondsSending / Math.Max(SendSeconds, 1e-9) * 100:0}% of one core), {ServerCpuSecondsTotal:0.0} s until drained");
        var perEvent = 1e6 / Math.Max(TimedEvents, 1);
        L($"- CPU per accepted event while sending (µs): serve {ServerCpuSecondsSending * perEvent:0.0}, Azurite {AzuriteCpuSecondsSending * perEvent:0.0}, harness {HarnessCpuSecondsSending * perEvent:0.0}, whole machine {MachineCpuSecondsSending * perEvent:0.0} ({MachineCpuSecondsSending / Math.Max(SendSeconds, 1e-9) / Environment.ProcessorCount * 100:0}% of {Environment.ProcessorCount} cores busy); load average after sending {LoadAverageAfterSend}");
        if (!o.Processing)
            L($"- processing OFF (ingest alone): {ClaimChecksQueued:N0} claim checks on the processing queue for {ByStatus.GetValueOrDefault(202):N0} answers 202{(Drained ? "" : " ≠")}");
        else
        L($"- processing: {(Drained ? "drained" : "NOT drained")} {DrainSeconds:0.0} s after sending stopped; max processing lag (oldest waiting message) {(Samples.Count > 0 ? Samples.Max(s => s.OldestMessageSeconds) : 0):0.0} s; max queue depth {(Samples.Count > 0 ? Samples.Max(s => s.QueueDepth) : 0):N0}; {AcceptedEvents / Math.Max(EndToEndSeconds, 1e-9):N0} events/s from first request to all stored; poison messages {PoisonMessages}");
        L($"- server RSS (MiB): {IdleRssMiB:N0} idle, {RssAfterSendMiB:N0} when sending stopped, {RssAfterDrainMiB:N0} when drained, peak {PeakRssMiB:N0}");
        L($"- rollup (separate process): {RollupSeconds:0.0} s wall: {RollupSummary}");
        w.WriteLine();
        w.WriteLine("| day | accepted (202) | stored in the event store |");
        w.WriteLine("| --- | ---: | ---: |");
        foreach (var d in Days) L($"| {d.Day:yyyy-MM-dd} | {d.Accepted:N0} | {d.Stored:N0}{(d.Matches ? "" : " ≠")} |");
        L($"| total | {AcceptedEvents:N0} | {StoredEvents:N0} (rollup read {RollupEventsRead:N0}) |");
        w.WriteLine();
        w.WriteLine("| day | metric (total) | expected from accepted events | rolled up |");
        w.WriteLine("| --- | --- | ---: | ---: |");
        foreach (var m in Metrics)
            L($"| {m.Day:yyyy-MM-dd} | {m.Metric} | {m.Expected:N0} | {(m.RolledUp is { } v ? v.ToString("N0", c) : "no row")}{(m.Matches ? "" : " ≠")} |");
        w.WriteLine();
        if (!o.Processing)
            w.WriteLine(CountsMatch ? "CHECK OK (processing off): every event accepted, one claim check queued per 202." : "CHECK FAILED: not every event accepted, or claim checks differ from the 202s.");
        else
        w.WriteLine(CountsMatch
            ? "CHECK OK: every accepted event is stored once and read by the rollup, and the event-counting metrics equal the accepted events."
            : "CHECK FAILED: counts differ (see above).");
        if (FailedRequests > 0) L($"CHECK FAILED: {FailedRequests:N0} requests answered 5xx or not at all.");
        w.WriteLine();
        L($"Server samples every {o.SampleSeconds} s:");
        w.WriteLine();
        w.WriteLine(SampleHeader);
        w.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var s in Samples) w.WriteLine(Format(s));
    }

    public const string SampleHeader = "| t (s) | RSS (MiB) | CPU | accepted events | requests | queue | lag (s) | load average |";

    public static string Format(LoadSample s) => string.Create(CultureInfo.InvariantCulture,
        $"| {s.Seconds:0} | {s.RssMiB:N0} | {s.CpuPercent:0}% | {s.AcceptedEvents:N0} | {s.Requests:N0} | {s.QueueDepth:N0} | {s.OldestMessageSeconds:0.0} | {s.LoadAverage} |");
}
