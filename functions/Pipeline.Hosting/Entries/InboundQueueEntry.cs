using System.Text;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;

namespace Pipeline.Hosting.Entries;

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
        switch (outcome.Kind)
        {
            case IngestResultKind.Accepted:
                logger.LogInformation("Inbound batch {BatchId} from {Source}: {Accepted} accepted, {Rejected} rejected", outcome.BatchId, source, outcome.Accepted, outcome.Rejected);
                return;
            case IngestResultKind.Invalid:
                // Done: the rejected events are kept with their reasons by the handler; retrying cannot make them valid.
                logger.LogWarning("Inbound message from {Source} rejected whole ({ErrorCode}): {Message}; {Rejected} events rejected one by one",
                    source, outcome.ErrorCode, outcome.ErrorMessage, outcome.Rejected);
                return;
            case IngestResultKind.Unavailable:
                // Retry: storage may come back; the queue delivers the message again.
                throw new StorageUnavailableException($"Inbound batch from {source} not stored ({outcome.ErrorCode}); the message will be retried.", outcome.Failure);
            default:
                // Poison: an unregistered source or an oversized batch will not change by retrying; an operator must look.
                throw new InvalidOperationException($"Inbound message from {source} refused: {outcome.Kind} ({outcome.ErrorCode}): {outcome.ErrorMessage}");
        }
    }
}
