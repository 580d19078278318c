using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Core.Ports;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Pipeline.Storage.Resilience;

/// <summary>Settings of <see cref="DurableWriteResilience"/>.</summary>
/// <remarks>
/// Bound from configuration section <c>Pipeline:Resilience</c> (app settings <c>Pipeline__Resilience__Timeout</c>,
/// <c>__FailureRatio</c>, <c>__MinimumThroughput</c>, <c>__SamplingDuration</c>, <c>__BreakDuration</c>) and
/// validated at start-up; the defaults suit production. Tests set them the same way, on the real host.
/// </remarks>
public sealed class DurableWriteResilienceOptions
{
    public const string Section = "Pipeline:Resilience";

    /// <summary>Longest time one durable write (a landing blob, an enqueue) may take before ingest gives up with <c>503</c>.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Share of failed calls over <see cref="SamplingDuration"/> that opens the circuit.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Calls needed in the sampling window before the ratio counts.</summary>
    public int MinimumThroughput { get; set; } = 10;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the circuit stays open: ingest answers <c>503</c> at once, with this as <c>Retry-After</c>.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// Timeout and circuit breaker around the ingest's durable writes (the landing blob and the
/// claim-check message), shared by <see cref="ResilientLandingStore"/> and
/// <see cref="ResilientProcessingQueue"/> so an outage seen by either opens the circuit for both.
/// There is deliberately no retry here: the SDK clients already retry transport faults, and a
/// second layer would multiply the attempts and the latency.
/// </summary>
/// <remarks>
/// A timed-out or rejected call surfaces as <see cref="StorageUnavailableException"/>, whose
/// <see cref="StorageUnavailableException.RetryAfter"/> is the remaining break time when the circuit is open.
/// </remarks>
public sealed class DurableWriteResilience
{
    private readonly ResiliencePipeline _pipeline;
    private readonly DurableWriteResilienceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private DateTimeOffset _openUntil = DateTimeOffset.MinValue;

    public DurableWriteResilience(DurableWriteResilienceOptions? options = null, TimeProvider? timeProvider = null, ILogger<DurableWriteResilience>? logger = null)
    {
        _options = options ?? new DurableWriteResilienceOptions();
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        StateProvider = new CircuitBreakerStateProvider();

        _pipeline = new ResiliencePipelineBuilder { TimeProvider = _time }
            // Outermost: the breaker counts timeouts as failures too.
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = _options.FailureRatio,
                MinimumThroughput = _options.MinimumThroughput,
                SamplingDuration = _options.SamplingDuration,
                BreakDuration = _options.BreakDuration,
                StateProvider = StateProvider,
                ShouldHandle = new PredicateBuilder().Handle<StorageUnavailableException>().Handle<TimeoutRejectedException>(),
                OnOpened = args =>
                {
                    lock (_gate) _openUntil = _time.GetUtcNow() + args.BreakDuration;
                    _logger.LogWarning(args.Outcome.Exception, "Storage circuit opened for {BreakDuration}: durable writes fail fast with 503", args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    _logger.LogInformation("Storage circuit closed: durable writes resumed");
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(_options.Timeout)
            .Build();
    }

    /// <summary>The circuit's state (for health checks and tests).</summary>
    public CircuitBreakerStateProvider StateProvider { get; }

    public async Task<T> ExecuteAsync<T>(string operation, Func<CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(async ct => await write(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (BrokenCircuitException ex)
        {
            throw new StorageUnavailableException($"Storage is unavailable: {operation} was not attempted, the circuit is open.", ex, RemainingBreak(ex));
        }
        catch (TimeoutRejectedException ex)
        {
            throw new StorageUnavailableException($"Storage is unavailable: {operation} timed out after {ex.Timeout.TotalSeconds:0.#} s.", ex, TimeSpan.FromSeconds(5));
        }
    }

    public Task ExecuteAsync(string operation, Func<CancellationToken, Task> write, CancellationToken cancellationToken) =>
        ExecuteAsync<bool>(operation, async ct =>
        {
            await write(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private TimeSpan RemainingBreak(BrokenCircuitException ex)
    {
        if (ex.RetryAfter is { } retryAfter && retryAfter > TimeSpan.Zero) return retryAfter;
        DateTimeOffset until;
        lock (_gate) until = _openUntil;
        var remaining = until - _time.GetUtcNow();
        return remaining > TimeSpan.FromSeconds(1) ? remaining : TimeSpan.FromSeconds(1);
    }
}
