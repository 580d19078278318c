using System.Text;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;

namespace Pipeline.Api.Queues;

/// <summary>
/// Entry point of the inbound queue, where trusted back ends put
/// <c>{"source": "…", "batch": {…}}</c>. The batch goes through the same
/// <see cref="IngestHandler"/> as HTTP, so the same rules and the same storage apply.
/// </summary>
public sealed class InboundQueueEntry(IngestHandler handler, ILogger<InboundQueueEntry> logger)
{
    public const string QueueName = Pipeline.Storage.StorageNames.InboundQueue;

    public async Task HandleAsync(string message, CancellationToken cancellationToken)
    {
        if (!InboundEnvelope.TryParse(Encoding.UTF8.GetBytes(message), out var source, out var body, out var error))
            // Never valid, however often it is retried: failing sends it to the poison queue, where an operator sees it.
            throw new FormatException($"Inbound message rejected: {error}");

        var outcome = await handler.HandleTrustedAsync(source, body, cancellationToken).ConfigureAwait(false);
        switch (outcome.Status)
        {
            case 202:
                logger.LogInformation("Inbound batch {BatchId} from {Source}: {Accepted} accepted, {Rejected} rejected", outcome.BatchId, source, outcome.Accepted, outcome.Rejected);
                return;
            case 400:
                // The rejected events are kept with their reasons by the handler; the message itself is done.
                logger.LogWarning("Inbound message from {Source} rejected whole ({ErrorCode}): {Body}", source, outcome.ErrorCode, Encoding.UTF8.GetString(outcome.Body));
                return;
            case >= 500:
                throw new StorageUnavailableException($"Inbound batch from {source} not stored ({outcome.ErrorCode}); the message will be retried.");
            default:
                throw new InvalidOperationException($"Inbound message from {source} refused with {outcome.Status} ({outcome.ErrorCode}): {Encoding.UTF8.GetString(outcome.Body)}");
        }
    }
}
