using Pipeline.Core.Events;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Resilience;

/// <summary>The landing store behind the shared durable-write timeout and circuit breaker (writes only; reads pass through).</summary>
public sealed class ResilientLandingStore(ILandingStore inner, DurableWriteResilience resilience) : ILandingStore
{
    public Task<string> WriteAsync(LandingBatch batch, CancellationToken cancellationToken) =>
        resilience.ExecuteAsync("writing the landing blob", ct => inner.WriteAsync(batch, ct), cancellationToken);

    public Task<LandingBatch?> ReadAsync(string path, CancellationToken cancellationToken) => inner.ReadAsync(path, cancellationToken);
}
