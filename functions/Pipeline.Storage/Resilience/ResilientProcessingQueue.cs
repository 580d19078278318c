using Pipeline.Core.Events;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Resilience;

/// <summary>The processing queue behind the shared durable-write timeout and circuit breaker.</summary>
public sealed class ResilientProcessingQueue(IProcessingQueue inner, DurableWriteResilience resilience) : IProcessingQueue
{
    public Task EnqueueAsync(ProcessingMessage message, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("enqueueing the claim-check message", ct => inner.EnqueueAsync(message, ct), cancellationToken);
}
