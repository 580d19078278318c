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

    public const string Usage = """
        load [--seconds 600] [--rate 1000] [--batch 200] [--concurrency 16] [--gzip 0.5] [--sample 5] [--drain-timeout 600] [--mini-programs 40] [--seed 42]
          --seconds        how long to send (default 600: the 10-minute soak)
          --rate           target events per second, sent as batches of --batch events at rate/batch requests per second
          --batch          events per request (1..1000)
          --concurrency    requests in flight at most (when reached, sending falls behind schedule; reported)
          --gzip           share of requests sent with Content-Encoding: gzip (0..1)
          --sample         seconds between samples of server RSS, CPU and the processing queue
          --drain-timeout  seconds to wait after sending for processing to store every accepted event
          --mini-programs  mini-programs in the simulated ecosystem
          --seed           seed of the simulated traffic
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
    }
}
