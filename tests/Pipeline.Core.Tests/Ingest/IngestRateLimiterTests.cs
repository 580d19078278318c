using System.ComponentModel.DataAnnotations;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Ingest;

public class IngestRateLimiterTests
{
    private readonly FakeTimeProvider _time = new(Now);

    private IngestRateLimiter Limiter(double rate, double burst, int instances = 1, Action<RateLimitOptions>? configure = null)
    {
        var options = new RateLimitOptions { EventsPerSecond = rate, Burst = burst };
        configure?.Invoke(options);
        return new IngestRateLimiter(options, instances, _time);
    }

    [Fact]
    public void A_full_bucket_admits_the_burst_then_refuses_with_the_exact_wait()
    {
        var limiter = Limiter(rate: 100, burst: 1000);
        Assert.Null(limiter.TryAcquire("s", 600));
        Assert.Null(limiter.TryAcquire("s", 400));
        // Empty: one event needs 1 token at 100/s = 10 ms; 500 events need 5 s.
        Assert.Equal(TimeSpan.FromMilliseconds(10), limiter.Check("s"));
        Assert.Equal(TimeSpan.FromSeconds(5), limiter.TryAcquire("s", 500));
        // A refusal takes nothing.
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Null(limiter.TryAcquire("s", 500));
        Assert.NotNull(limiter.Check("s"));
    }

    [Fact]
    public void The_bucket_refills_at_the_rate_and_never_above_the_burst()
    {
        var limiter = Limiter(rate: 10, burst: 50);
        Assert.Null(limiter.TryAcquire("s", 50));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(limiter.TryAcquire("s", 20));
        Assert.NotNull(limiter.TryAcquire("s", 1));
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Null(limiter.TryAcquire("s", 50));
        Assert.Equal(TimeSpan.FromSeconds(0.1), limiter.Check("s"));
    }

    [Fact]
    public void Over_a_long_run_the_admitted_events_match_the_rate()
    {
        var limiter = Limiter(rate: 250, burst: 1000);
        var admitted = 0;
        // A client sending 100-event batches every 100 ms (1000 events/s) for 60 s.
        for (var i = 0; i < 600; i++)
        {
            if (limiter.TryAcquire("s", 100) is null) admitted += 100;
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }
        // burst + rate × time, to within one batch.
        Assert.InRange(admitted, 1000 + 250 * 60 - 100, 1000 + 250 * 60);
    }

    [Fact]
    public void A_batch_larger_than_the_bucket_passes_when_the_bucket_is_full_and_is_paid_back()
    {
        // 100 instances share 20,000 events/s with bursts of 20,000: 200 a second and 200 at once here.
        var limiter = Limiter(rate: 20_000, burst: 20_000, instances: 100);
        Assert.Equal((200.0, 200.0), limiter.PerInstance("s"));
        Assert.Null(limiter.TryAcquire("s", 1000)); // full bucket: a full batch passes, 800 in debt
        Assert.Equal(TimeSpan.FromSeconds(5), limiter.TryAcquire("s", 1000)); // needs 200 tokens: debt 800 + 200 at 200/s
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Null(limiter.TryAcquire("s", 1000));
    }

    [Fact]
    public void Sources_have_separate_buckets_and_overrides()
    {
        var limiter = Limiter(rate: 10, burst: 10, configure: o => o.Sources["payments"] = new SourceRateLimit { Burst = 1000 });
        Assert.Equal((10.0, 1000.0), limiter.PerInstance("payments"));
        Assert.Null(limiter.TryAcquire("sdk", 10));
        Assert.NotNull(limiter.Check("sdk"));
        Assert.Null(limiter.TryAcquire("payments", 1000));
        Assert.Null(limiter.TryAcquire("other", 10));
    }

    [Fact]
    public void Charge_takes_tokens_without_asking_and_debt_is_bounded()
    {
        var limiter = Limiter(rate: 1, burst: 10);
        for (var i = 0; i < 100_000; i++) limiter.Charge("s", 1);
        // At most burst + 1000 in debt: 1011 tokens to one event at 1/s.
        Assert.Equal(TimeSpan.FromSeconds(1011), limiter.Check("s"));
    }

    [Fact]
    public void Disabled_or_unlimited_admits_everything()
    {
        var off = new IngestRateLimiter(new RateLimitOptions { Enabled = false, EventsPerSecond = 1, Burst = 1 }, 1, _time);
        Assert.False(off.Enabled);
        for (var i = 0; i < 100; i++) Assert.Null(off.TryAcquire("s", 1000));
        Assert.Null(IngestRateLimiter.Unlimited.TryAcquire("s", 1000));
    }

    [Fact]
    public void Defaults_are_5000_events_a_second_bursts_of_20000_on_one_instance()
    {
        var options = new PipelineOptions { PseudonymisationKey = PseudonymisationKey };
        Assert.True(options.RateLimit.Enabled);
        Assert.Equal(1, options.MaxInstances);
        Assert.Equal((5000.0, 20000.0), new IngestRateLimiter(options, _time).PerInstance("any"));
        Assert.Empty(Validate(options));
    }

    [Fact]
    public void Bad_settings_fail_validation()
    {
        var options = new PipelineOptions { PseudonymisationKey = PseudonymisationKey, MaxInstances = 0 };
        Assert.Contains(Validate(options), m => m.Contains("MaxInstances", StringComparison.Ordinal));

        options = new PipelineOptions { PseudonymisationKey = PseudonymisationKey };
        options.RateLimit.EventsPerSecond = 0;
        Assert.Contains(Validate(options), m => m.Contains("EventsPerSecond", StringComparison.Ordinal));

        options = new PipelineOptions { PseudonymisationKey = PseudonymisationKey };
        options.RateLimit.Burst = -5;
        Assert.Contains(Validate(options), m => m.Contains("Burst", StringComparison.Ordinal));

        options = new PipelineOptions { PseudonymisationKey = PseudonymisationKey };
        options.RateLimit.Sources["x"] = new SourceRateLimit { EventsPerSecond = -1 };
        Assert.Contains(Validate(options), m => m.Contains("Sources:x:EventsPerSecond", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("payments", true)]
    [InlineData("Payments", true)]    // configuration keeps the case it was written in; the lookup ignores it
    [InlineData("pay_ments", false)]  // not a source name: the override could never apply
    [InlineData("pay ments", false)]
    public void A_source_override_must_name_a_possible_source(string name, bool valid)
    {
        var options = new PipelineOptions { PseudonymisationKey = PseudonymisationKey };
        options.RateLimit.Sources[name] = new SourceRateLimit { EventsPerSecond = 10 };

        var problems = Validate(options);

        Assert.Equal(valid, !problems.Any(m => m.Contains($"Sources:{name} is not a source name", StringComparison.Ordinal)));
        if (valid) Assert.Empty(problems);
    }

    // The validator the hosts run at start-up (source-generated: attributes, nested members, IValidatableObject).
    private static List<string> Validate(PipelineOptions options)
    {
        var result = new Pipeline.Core.PipelineOptionsValidator().Validate(null, options);
        return result.Failed ? result.Failures!.ToList() : [];
    }
}

/// <summary>The rate limit as the ingest handler applies it.</summary>
public class IngestHandlerRateLimitTests
{
    private readonly FakeTimeProvider _time = new(Now);
    private readonly FakeKeyStore _keys = new();
    private readonly FakeLandingStore _landing = new();
    private readonly FakeQueue _queue = new();
    private readonly FakeRejectedStore _rejected = new();
    private readonly IngestHandler _handler;
    private readonly string _apiKey;

    public IngestHandlerRateLimitTests()
    {
        IngestKeyRecord record;
        (_apiKey, record) = IngestKeys.Create(AllPrograms.Name, Now.AddDays(-1));
        _keys.Keys[record.KeyId] = record;
        _keys.Sources[AllPrograms.Name] = AllPrograms;
        var options = new PipelineOptions { PseudonymisationKey = PseudonymisationKey };
        options.RateLimit.EventsPerSecond = 10;
        options.RateLimit.Burst = 20;
        _handler = new IngestHandler(new IngestKeyCache(_keys, _time), _landing, _queue, _rejected, new FakeReceipts(), options, _time, new IngestRateLimiter(options, _time));
    }

    private Task<IngestOutcome> Post(int events) => Post(new MemoryStream(Encoding.UTF8.GetBytes(
        Body(Enumerable.Range(0, events).Select(i => (System.Text.Json.Nodes.JsonNode)Event(eventId: "e" + i)).ToArray()))));

    private Task<IngestOutcome> Post(Stream body) =>
        _handler.HandleAsync(new IngestRequest(_apiKey, "application/json", null, body), CancellationToken.None);

    [Fact]
    public async Task Over_the_limit_is_429_with_retry_after_and_nothing_stored_then_a_later_request_succeeds()
    {
        Assert.Equal(202, (await Post(15)).Status);
        var outcome = await Post(10); // 5 tokens left, 10 needed: 0.5 s, rounded up to 1 s
        Assert.Equal(429, outcome.Status);
        Assert.Equal(IngestErrorCodes.RateLimited, outcome.ErrorCode);
        Assert.Equal(TimeSpan.FromSeconds(1), outcome.RetryAfter);
        Assert.Equal((AllPrograms.Name, (string?)null), (outcome.Source, outcome.BatchId));
        Assert.Contains("\"code\":\"rate_limited\"", Encoding.UTF8.GetString(outcome.Body));
        Assert.Single(_landing.Written);
        Assert.Empty(_rejected.Written);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(202, (await Post(10)).Status);
        Assert.Equal(2, _landing.Written.Count);
    }

    [Fact]
    public async Task An_empty_bucket_is_answered_before_the_body_is_read()
    {
        Assert.Equal(202, (await Post(20)).Status);
        var body = new UnreadableStream();
        var outcome = await Post(body);
        Assert.Equal(429, outcome.Status);
        Assert.Equal(TimeSpan.FromSeconds(1), outcome.RetryAfter); // 1 token at 10/s = 0.1 s, rounded up
        Assert.False(body.WasRead);
    }

    [Fact]
    public async Task Authentication_and_content_type_are_checked_before_the_limit()
    {
        Assert.Equal(202, (await Post(20)).Status);
        var unauthenticated = await _handler.HandleAsync(new IngestRequest("nope", "application/json", null, new MemoryStream()), CancellationToken.None);
        Assert.Equal(401, unauthenticated.Status);
        var wrongType = await _handler.HandleAsync(new IngestRequest(_apiKey, "text/plain", null, new MemoryStream()), CancellationToken.None);
        Assert.Equal(415, wrongType.Status);
    }

    [Fact]
    public async Task A_body_that_is_not_json_costs_one_token()
    {
        for (var i = 0; i < 20; i++)
            Assert.Equal(400, (await Post(new MemoryStream("nope"u8.ToArray()))).Status);
        Assert.Equal(429, (await Post(new MemoryStream("nope"u8.ToArray()))).Status);
    }

    [Fact]
    public async Task The_trusted_queue_path_is_not_limited()
    {
        var body = Encoding.UTF8.GetBytes(Body(Enumerable.Range(0, 100).Select(i => (System.Text.Json.Nodes.JsonNode)Event(eventId: "q" + i)).ToArray()));
        for (var i = 0; i < 5; i++)
            Assert.Equal(202, (await _handler.HandleTrustedAsync(AllPrograms.Name, body, CancellationToken.None)).Status);
    }

    private sealed class UnreadableStream : MemoryStream
    {
        public bool WasRead { get; private set; }
        public override int Read(byte[] buffer, int offset, int count) { WasRead = true; return 0; }
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) { WasRead = true; return ValueTask.FromResult(0); }
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) { WasRead = true; return Task.FromResult(0); }
    }
}
