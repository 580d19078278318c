using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Hosting.Entries;

/// <summary>
/// What the Functions app's queue triggers do around an entry: a failure on a message's last delivery
/// (<see cref="StorageNames.MaxDequeueCount"/>, host.json's <c>maxDequeueCount</c>) records why, in the same
/// place and form as the local listener does when it moves a message (<see cref="PoisonReasonStore"/>), then
/// rethrows, and the host moves the message to the <c>-poison</c> queue. So <c>poison list</c> shows the
/// reason whichever host poisoned the message.
/// </summary>
public sealed class QueueDelivery(PoisonReasonStore reasons, ILogger<QueueDelivery> logger)
{
    public async Task RunAsync(string queue, QueueMessage message, Func<string, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(handle);
        try
        {
            await handle(message.Body.ToString(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (message.DequeueCount >= StorageNames.MaxDequeueCount && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            logger.LogError(e, "Message {MessageId} of queue {Queue} failed on its last delivery ({DequeueCount}); the host moves it to {Queue}{Suffix}",
                message.MessageId, queue, message.DequeueCount, queue, StorageNames.PoisonSuffix);
            try
            {
                await reasons.RecordAsync(queue, message.MessageId, message.DequeueCount, message.InsertedOn, e.Message, message.Body.ToString(), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception recording) when (recording is not OperationCanceledException)
            {
                // The message is poisoned all the same; only its reason is missing (and the error above is in the log).
                logger.LogWarning(recording, "Recording why message {MessageId} of {Queue} is poisoned failed", message.MessageId, queue);
            }
            throw;
        }
    }
}
