using System.Collections.Concurrent;

namespace Pipeline.Core.Ingest;

/// <summary>
/// Per-source token buckets of one instance, for the ingest endpoint's <c>429</c>. Each authenticated
/// source has a bucket of capacity <c>Burst / MaxInstances</c> that fills at
/// <c>EventsPerSecond / MaxInstances</c> tokens a second (see <see cref="RateLimitOptions"/>); an event
/// costs one token. So the whole app never admits more than the configured rate for a source, however
/// its requests spread over at most <see cref="PipelineOptions.MaxInstances"/> instances.
/// </summary>
/// <remarks>
/// <para>
/// A batch is admitted when the bucket holds at least <c>min(cost, capacity)</c> tokens, and then the
/// whole cost is taken, so the bucket may go below zero (into "debt") by less than one batch. That way
/// a 1000-event batch passes even when a small per-instance capacity is below 1000, and the long-run
/// rate is still exact: the debt is paid back before the next batch is admitted.
/// </para>
/// <para>
/// Why not <c>System.Threading.RateLimiting.TokenBucketRateLimiter</c>: in .NET 10 it reads
/// <c>Stopwatch</c> directly and takes no <see cref="TimeProvider"/>, so its refill cannot be driven by a
/// fake clock in tests (and it is not in the base framework that Core references, only in ASP.NET
/// Core's); it also refuses a permit count above its capacity outright, which would make a full batch
/// impossible wherever <c>Burst / MaxInstances</c> is under 1000. The arithmetic here is a few lines.
/// </para>
/// <para>Memory: one small bucket per source that has authenticated on this instance (sources are registered by operators, so few).</para>
/// </remarks>
public sealed class IngestRateLimiter
{
    private readonly RateLimitOptions? _options;
    private readonly int _instances;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>The limiter of the app's settings: <see cref="PipelineOptions.RateLimit"/> divided by <see cref="PipelineOptions.MaxInstances"/>.</summary>
    public IngestRateLimiter(PipelineOptions options, TimeProvider time)
        : this((options ?? throw new ArgumentNullException(nameof(options))).RateLimit, options.MaxInstances, time)
    {
    }

    /// <param name="options">The whole-app limits; null or not <see cref="RateLimitOptions.Enabled"/>: unlimited.</param>
    /// <param name="maxInstances">The divisor: how many instances may share the load.</param>
    /// <param name="time">The clock of the refill.</param>
    public IngestRateLimiter(RateLimitOptions? options, int maxInstances, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInstances, 1);
        _options = options is { Enabled: true } ? options : null;
        _instances = maxInstances;
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    /// <summary>A limiter that admits everything (the trusted queue path, and hosts that set none).</summary>
    public static IngestRateLimiter Unlimited { get; } = new(null, 1, TimeProvider.System);

    public bool Enabled => _options is not null;

    /// <summary>This instance's share of <paramref name="source"/>'s limit: tokens per second and bucket capacity.</summary>
    public (double EventsPerSecond, double Burst) PerInstance(string source)
    {
        if (_options is null) return (double.PositiveInfinity, double.PositiveInfinity);
        var (rate, burst) = _options.For(source);
        return (rate / _instances, burst / _instances);
    }

    /// <summary>
    /// The cheap check before a body is read: null when <paramref name="source"/> may send now (its bucket
    /// holds a token), otherwise how long until it may. Takes nothing.
    /// </summary>
    public TimeSpan? Check(string source) => Take(source, 1, take: false);

    /// <summary>Takes <paramref name="events"/> tokens (at least 1) and returns null, or takes nothing and returns the wait before the batch would be admitted.</summary>
    public TimeSpan? TryAcquire(string source, int events) => Take(source, Math.Max(1, events), take: true);

    /// <summary>Takes <paramref name="events"/> tokens whatever the bucket holds (for requests answered anyway, such as a body that is not JSON).</summary>
    public void Charge(string source, int events)
    {
        if (_options is null) return;
        GetBucket(source).Charge(Math.Max(1, events), _time.GetTimestamp(), _time.TimestampFrequency);
    }

    private TimeSpan? Take(string source, int cost, bool take)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (_options is null) return null;
        return GetBucket(source).TryTake(cost, take, _time.GetTimestamp(), _time.TimestampFrequency);
    }

    private Bucket GetBucket(string source) =>
        _buckets.GetOrAdd(source, static (s, self) =>
        {
            var (rate, burst) = self.PerInstance(s);
            return new Bucket(rate, burst, self._time.GetTimestamp());
        }, this);

    /// <summary>A token bucket: <c>capacity</c> tokens at most, refilled continuously at <c>rate</c> per second.</summary>
    private sealed class Bucket(double rate, double capacity, long now)
    {
        private readonly Lock _lock = new();
        private readonly double _rate = rate;
        private readonly double _capacity = capacity;
        private double _tokens = capacity;
        private long _last = now;

        public TimeSpan? TryTake(int cost, bool take, long now, long frequency)
        {
            lock (_lock)
            {
                Refill(now, frequency);
                var need = Math.Min(cost, _capacity);
                if (_tokens >= need)
                {
                    if (take) _tokens -= cost;
                    return null;
                }
                var seconds = (need - _tokens) / _rate;
                return TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds / 2));
            }
        }

        public void Charge(int cost, long now, long frequency)
        {
            lock (_lock)
            {
                Refill(now, frequency);
                // Bounded debt: never more than one full bucket plus one batch below zero.
                _tokens = Math.Max(_tokens - cost, -_capacity - IngestLimits.MaxEvents);
            }
        }

        private void Refill(long now, long frequency)
        {
            if (now <= _last) return;
            var elapsed = (double)(now - _last) / frequency;
            _tokens = Math.Min(_capacity, _tokens + elapsed * _rate);
            _last = now;
        }
    }
}
