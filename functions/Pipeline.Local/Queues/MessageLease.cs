using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Local.Queues;

/// <summary>
/// Keeps a received message invisible while it is handled: every half visibility timeout it
/// extends the timeout, and <see cref="Current"/> holds the latest pop receipt, which the delete
/// (or the move to the poison queue) must use. A failed renewal is logged and ends the renewals:
/// the message then reappears when its timeout runs out, and processing is idempotent.
/// </summary>
internal sealed class MessageLease(QueueClient queue, QueueMessage message, TimeSpan visibilityTimeout, ILogger logger)
{
    /// <summary>The message with its latest pop receipt.</summary>
    public QueueMessage Current { get; private set; } = message;

    public async Task RunAsync(Func<CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        using var renewals = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var keeper = RenewUntilCancelledAsync(renewals.Token);
        try
        {
            await handle(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await renewals.CancelAsync().ConfigureAwait(false);
            await keeper.ConfigureAwait(false);
        }
    }

    private async Task RenewUntilCancelledAsync(CancellationToken cancellationToken)
    {
        var interval = visibilityTimeout / 2;
        try
        {
            while (true)
            {
                await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
                // The body must be passed (the content overloads are otherwise ambiguous); it is unchanged.
                UpdateReceipt receipt = await queue.UpdateMessageAsync(Current.MessageId, Current.PopReceipt, Current.Body, visibilityTimeout, cancellationToken).ConfigureAwait(false);
                Current = Current.Update(receipt);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Handling ended.
        }
        catch (RequestFailedException ex)
        {
            logger.LogWarning(ex, "Could not extend the visibility of message {MessageId} of queue {Queue}; it may be delivered again", Current.MessageId, queue.Name);
        }
    }
}
