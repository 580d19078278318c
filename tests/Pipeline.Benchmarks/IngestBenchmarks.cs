using BenchmarkDotNet.Attributes;
using Pipeline.Core.Ingest;

namespace Pipeline.Benchmarks;

/// <summary>Ingest's CPU work per request: read (gunzip) the body, then parse and validate it.</summary>
public class IngestBenchmarks
{
    private BatchParser _parser = null!;
    private byte[] _body = null!;
    private byte[] _gzipBody = null!;

    /// <summary>Events in the batch (the contract allows 1 to 1000; SDKs typically send ~200).</summary>
    [Params(200, 1000)]
    public int Events { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var events = BenchData.Simulated(users: 2000).Take(Events).ToList();
        if (events.Count != Events) throw new InvalidOperationException("Not enough simulated events.");
        _body = BenchData.Body(events, BenchData.End);
        _gzipBody = BenchData.Gzip(_body);
        _parser = new BatchParser(new UserPseudonymizer(BenchData.PseudonymisationKey));
        var check = _parser.Parse(_body, BenchData.Source, BenchData.End);
        if (check.Accepted.Count != Events) throw new InvalidOperationException($"Setup: only {check.Accepted.Count} of {Events} events accepted ({check.ErrorCode}).");
        Console.WriteLine($"// body: {_body.Length:N0} bytes JSON ({_body.Length / Events} B/event), {_gzipBody.Length:N0} bytes gzip");
    }

    [Benchmark(Description = "BatchParser.Parse")]
    public int Parse() => _parser.Parse(_body, BenchData.Source, BenchData.End).Accepted.Count;

    [Benchmark(Description = "BodyReader.ReadAsync (gzip)")]
    public async Task<int> ReadGzip()
    {
        using var result = await BodyReader.ReadAsync(new MemoryStream(_gzipBody, writable: false), gzip: true, CancellationToken.None);
        return result.Body.Length;
    }

    [Benchmark(Description = "ReadAsync (gzip) + Parse")]
    public async Task<int> ReadGzipAndParse()
    {
        using var result = await BodyReader.ReadAsync(new MemoryStream(_gzipBody, writable: false), gzip: true, CancellationToken.None);
        return _parser.Parse(result.Body, BenchData.Source, BenchData.End).Accepted.Count;
    }
}

/// <summary>The keyed hash that replaces every userId (once per event at ingest).</summary>
public class PseudonymizerBenchmarks
{
    private readonly UserPseudonymizer _pseudonymizer = new(BenchData.PseudonymisationKey);
    private const string UserId = "oAbC_1x2y3z4-openid-0000123456"; // openid-like, 30 characters

    [Benchmark(Description = "UserPseudonymizer.Pseudonymize")]
    public string Pseudonymize() => _pseudonymizer.Pseudonymize(UserId);
}
