using Azure;
using Polly;
using Polly.Retry;

namespace Pipeline.Storage.Resilience;

/// <summary>
/// Retry of a read-modify-write whose conditional write lost a race: 412 (ETag no longer matches)
/// or 409 (someone created the entity first). This is the one retry Polly adds over storage; the
/// SDK already retries transport faults.
/// </summary>
public static class OptimisticConcurrency
{
    /// <summary>A pipeline that re-runs the whole read-modify-write on a conflict, a few times, with jittered back-off.</summary>
    public static ResiliencePipeline CreatePipeline(int maxAttempts = 8) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<RequestFailedException>(e => e.Status is 412 or 409),
            MaxRetryAttempts = maxAttempts,
            Delay = TimeSpan.FromMilliseconds(20),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();
}
