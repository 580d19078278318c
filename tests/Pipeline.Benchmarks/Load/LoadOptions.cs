using System.Globalization;

namespace Pipeline.Benchmarks.Load;

/// <summary>What the load harness sends, and for how long.</summary>
public sealed record LoadOptions
{
    /// <summary>How long to send, in seconds (the soak's default is 10 minutes).</summary>
    public int Seconds { get; init; } = 600;

    /// <summary>Target events per second: batches of <see cref="BatchSize"/> events, one every BatchSize/Rate seconds.</summary>
    public int Rate { get; init; } = 1000;

    /// <summary>Events per request (1 to 1000, the contract's limit).</summary>
    public int BatchSize { get; init; } = 200;

    /// <summary>Requests in flight at most; when reached, sending falls behind schedule (reported as schedule lag).</summary>
    public int Concurrency { get; init; } = 16;

    /// <summary>Share of requests sent with <c>Content-Encoding: gzip</c>.</summary>
    public double GzipRate { get; init; } = 0.5;

    /// <summary>How long to wait, after sending stops, for processing to store every accepted event.</summary>
    public int DrainTimeoutSeconds { get; init; } = 600;

    /// <summary>Seconds between samples of the server's RSS, CPU and processing queue.</summary>
    public int SampleSeconds { get; init; } = 5;

    /// <summary>Mini-programs in the simulated ecosystem (more mini-programs and pages: more metric rows for the rollup to write).</summary>
    public int MiniPrograms { get; init; } = 40;

    /// <summary>Seed of the simulated traffic (each generated chunk uses the next seed).</summary>
    public int Seed { get; init; } = 42;

    /// <summary>
    /// When set, a fixed number of events sent as fast as they are accepted (closed loop: each of
    /// <see cref="Concurrency"/> clients sends its next batch as soon as the previous one is answered),
    /// instead of <see cref="Rate"/> for <see cref="Seconds"/>. Every body is built (and gzipped) before
    /// the clock starts, so the harness's own CPU while sending is only HTTP.
    /// </summary>
    public long? Events { get; init; }

    /// <summary>With <see cref="Events"/>: requests of the same shape sent before the clock starts (JIT, connection pools, caches), checked like the rest but not counted in the rate, the latencies or the CPU figures.</summary>
    public int Warmup { get; init; }

    /// <summary>Simulated users of each generated day; null: rate × seconds / 10, between 200 and 8,000.</summary>
    public int? Users { get; init; }

    /// <summary>At most this many distinct pages per mini-program (the simulator makes 7 to 10; routes past the Nth are folded onto the first N); null: as simulated.</summary>
    public int? Pages { get; init; }

    /// <summary>False: serve's queue listeners are kept idle (they poll once at start, then wait a day), to measure ingest alone; the harness then checks the processing queue holds one message per 202 instead of draining and rolling up.</summary>
    public bool Processing { get; init; } = true;

    /// <summary>
    /// True: send with serve's listeners idle (as <see cref="Processing"/> false), then start a second serve whose
    /// listeners drain the queue, and time that drain alone: processing's own throughput, not shared with ingest.
    /// </summary>
    public bool ProcessAfter { get; init; }

    /// <summary>False: no rollup at the end (processing still drains and accepted = stored is still checked).</summary>
    public bool Rollup { get; init; } = true;

    public const string Usage = """
        load [--seconds 600] [--rate 1000] [--batch 200] [--concurrency 16] [--gzip 0.5] [--sample 5] [--drain-timeout 600] [--mini-programs 40] [--seed 42]
             [--events N] [--warmup 0] [--users N] [--pages N] [--no-processing] [--process-after] [--no-rollup]
          --seconds        how long to send (default 600: the 10-minute soak)
          --rate           target events per second, sent as batches of --batch events at rate/batch requests per second
          --events         send exactly N events as fast as they are accepted (closed loop: --concurrency clients, each sends
                           its next batch when the previous one is answered); replaces --seconds and --rate; bodies are
                           built and gzipped before the clock starts
          --batch          events per request (1..1000)
          --concurrency    requests in flight at most (when reached, sending falls behind schedule; reported)
          --gzip           share of requests sent with Content-Encoding: gzip (0..1)
          --sample         seconds between samples of server RSS, CPU and the processing queue
          --drain-timeout  seconds to wait after sending for processing to store every accepted event
          --mini-programs  mini-programs in the simulated ecosystem
          --seed           seed of the simulated traffic
          --warmup         with --events: requests sent before the clock starts (warm JIT and pools); checked, not timed
          --users          simulated users per generated day (default: rate x seconds / 10, 200..8000)
          --pages          at most N distinct pages per mini-program (the simulator makes 7 to 10)
          --no-processing  keep serve's queue listeners idle (ingest alone); checks one processing message per 202 instead
                           of draining, storing and rolling up
          --process-after  send with the listeners idle, then start a second serve and time processing alone as it drains
                           the queue (then the rollup and checks as usual)
          --no-rollup      skip the rollup at the end (processing still drains; accepted = stored is still checked)
        The 8-client ingest shape of docs/performance.md:
          load --events 300000 --warmup 40 --batch 500 --concurrency 8 --gzip 1 --mini-programs 2000 --pages 6 --users 50000
        The serve process listens on a free loopback port; storage is a throw-away Azurite on free ports.
        Exit code: 0 when every count matches and no request failed with a 5xx; 1 otherwise; 2 for bad options.
        """;

    /// <summary>Parses command-line options; throws <see cref="ArgumentException"/> or <see cref="FormatException"/> on bad input.</summary>
    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var options = new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            options = name switch
            {
                "--seconds" => options with { Seconds = NextInt() },
                "--rate" => options with { Rate = NextInt() },
                "--batch" => options with { BatchSize = NextInt() },
                "--concurrency" => options with { Concurrency = NextInt() },
                "--gzip" => options with { GzipRate = double.Parse(Next(), CultureInfo.InvariantCulture) },
                "--sample" => options with { SampleSeconds = NextInt() },
                "--drain-timeout" => options with { DrainTimeoutSeconds = NextInt() },
                "--mini-programs" => options with { MiniPrograms = NextInt() },
                "--seed" => options with { Seed = NextInt() },
                "--events" => options with { Events = long.Parse(Next(), CultureInfo.InvariantCulture) },
                "--users" => options with { Users = NextInt() },
                "--warmup" => options with { Warmup = NextInt() },
                "--pages" => options with { Pages = NextInt() },
                "--no-processing" => options with { Processing = false },
                "--process-after" => options with { ProcessAfter = true },
                "--no-rollup" => options with { Rollup = false },
                _ => throw new ArgumentException($"Unknown option {name}."),
            };
        }
        options.Validate();
        return options;
    }

    public void Validate()
    {
        if (Seconds is < 1 or > 24 * 3600) throw new ArgumentException("--seconds must be 1 to 86400.");
        if (Rate < 1) throw new ArgumentException("--rate must be positive.");
        if (BatchSize is < 1 or > 1000) throw new ArgumentException("--batch must be 1 to 1000.");
        if (Concurrency < 1) throw new ArgumentException("--concurrency must be positive.");
        if (GzipRate is < 0 or > 1) throw new ArgumentException("--gzip must be 0 to 1.");
        if (SampleSeconds < 1) throw new ArgumentException("--sample must be positive.");
        if (MiniPrograms < 1) throw new ArgumentException("--mini-programs must be positive.");
        if (DrainTimeoutSeconds < 1) throw new ArgumentException("--drain-timeout must be positive.");
        if (Events is < 1) throw new ArgumentException("--events must be positive.");
        if (Warmup < 0) throw new ArgumentException("--warmup must be 0 or more.");
        if (Users is < 1) throw new ArgumentException("--users must be positive.");
        if (Pages is < 1) throw new ArgumentException("--pages must be positive.");
    }
}
