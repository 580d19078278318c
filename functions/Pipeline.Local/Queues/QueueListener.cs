using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Azure.Storage.Queues.Specialized;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Local.Queues;

/// <summary>Settings of a <see cref="QueueListener"/>; the defaults are the Functions host's (host.json).</summary>
public sealed class QueueListenerOptions
{
    /// <summary>Messages received per poll (the service's maximum is 32; the host's batchSize is 16).</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>
    /// A new batch is received as soon as at most this many messages are still being handled (the host's
    /// newBatchThreshold), so a slow message does not hold back the next batch: with the defaults up to
    /// 16 + 8 = 24 messages are in hand at once, as in the Functions host.
    /// </summary>
    public int NewBatchThreshold { get; set; } = 8;

    /// <summary>Messages handled at once, at most (a cap below <see cref="BatchSize"/> + <see cref="NewBatchThreshold"/>; 1 handles one message at a time).</summary>
    public int MaxConcurrency { get; set; } = 24;

    /// <summary>How long a received message stays invisible; a failed message reappears after it.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Deliveries before a message is moved to the poison queue.</summary>
    public int MaxDequeueCount { get; set; } = StorageNames.MaxDequeueCount;

    /// <summary>First wait after an empty poll; doubles up to <see cref="MaxPollingInterval"/>.</summary>
    public TimeSpan MinPollingInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait between polls of an empty queue (the host's maxPollingInterval).</summary>
    public TimeSpan MaxPollingInterval { get; set; } = TimeSpan.FromSeconds(2);
}


/// <summary>
/// The local runner's queue trigger: polls a queue, hands each message to a handler, deletes it on
/// success, and after <see cref="QueueListenerOptions.MaxDequeueCount"/> failed deliveries moves it
/// (its original body) to <c>&lt;queue&gt;-poison</c>, as the Functions host does.
/// </summary>
/// <remarks>
/// A failed message is not released early: it reappears when its visibility timeout ends, which
/// spaces out the retries. Handlers must be idempotent (a message can be delivered more than once).
/// The reason a message became poison (the last exception's message) is logged as an error and,
/// when a <see cref="BlobContainerClient"/> is given (the <c>rejected</c> container), also written
/// as a <see cref="PoisonRecord"/> blob under <c>poison/</c>. The queue clients must use
/// <see cref="QueueMessageEncoding.Base64"/>, like the producers.
/// </remarks>
public sealed class QueueListener
{
    private readonly QueueClient _queue;
    private readonly QueueClient _poisonQueue;
    private readonly Func<QueueMessage, CancellationToken, Task> _handler;
    private readonly ILogger _logger;
    private readonly QueueListenerOptions _options;
    private readonly PoisonReasonStore? _poisonReasons;
    private readonly TimeProvider _time;
    private int _inFlight;

    public QueueListener(
        QueueClient queue,
        Func<QueueMessage, CancellationToken, Task> handler,
        ILogger logger,
        QueueListenerOptions? options = null,
        QueueClient? poisonQueue = null,
        PoisonReasonStore? poisonReasons = null,
        TimeProvider? timeProvider = null)
    {
        _queue = queue ?? throw new ArgumentNullException(nameof(queue));
        _handler = handler ?? throw new ArgumentNullException(nameof(handler));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _options = options ?? new QueueListenerOptions();
        if (_options.BatchSize is < 1 or > 32) throw new ArgumentOutOfRangeException(nameof(options), "BatchSize must be 1 to 32.");
        if (_options.NewBatchThreshold < 0) throw new ArgumentOutOfRangeException(nameof(options), "NewBatchThreshold must be 0 or more.");
        if (_options.MaxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxConcurrency must be at least 1.");
        if (_options.MaxDequeueCount < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxDequeueCount must be at least 1.");
        // By default the poison queue is in the same account, with the same client options (encoding included).
        _poisonQueue = poisonQueue ?? queue.GetParentQueueServiceClient().GetQueueClient(queue.Name + StorageNames.PoisonSuffix);
        _time = timeProvider ?? TimeProvider.System;
        _poisonReasons = poisonReasons;
    }

    /// <summary>Creates a listener for a queue of the account, with its <c>-poison</c> queue and the <c>rejected</c> container for poison reasons.</summary>
    public static QueueListener Create(
        QueueServiceClient queueService,
        BlobServiceClient? blobService,
        string queueName,
        Func<QueueMessage, CancellationToken, Task> handler,
        ILogger logger,
        QueueListenerOptions? options = null) =>
        new(queueService.GetQueueClient(queueName), handler, logger, options,
            queueService.GetQueueClient(queueName + StorageNames.PoisonSuffix),
            blobService is null ? null : new PoisonReasonStore(blobService, TimeProvider.System));

    public string QueueName => _queue.Name;

    /// <summary>Polls until cancelled. Storage outages are logged and waited out, never thrown.</summary>
    /// <remarks>
    /// Two kinds of waiting: an empty queue is polled less and less often (doubling from
    /// <see cref="QueueListenerOptions.MinPollingInterval"/> to <see cref="QueueListenerOptions.MaxPollingInterval"/>,
    /// back to the minimum as soon as a message arrives), as the Functions host's queue trigger does; a
    /// failing receive is retried by a Polly pipeline (exponential back-off with jitter, capped at the
    /// maximum interval, for as long as the listener runs), as every other retry of the pipeline is.
    /// </remarks>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var receive = new ResiliencePipelineBuilder<int> { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions<int>
            {
                ShouldHandle = new PredicateBuilder<int>().Handle<Exception>(e => e is not OperationCanceledException || !cancellationToken.IsCancellationRequested),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.MinPollingInterval,
                MaxDelay = _options.MaxPollingInterval,
                OnRetry = args =>
                {
                    _logger.LogWarning(args.Outcome.Exception, "Receiving from queue {Queue} failed (attempt {Attempt}); retrying in {Delay}", _queue.Name, args.AttemptNumber + 1, args.RetryDelay);
                    return default;
                },
            })
            .Build();

        var idle = _options.MinPollingInterval;
        var running = new HashSet<Task>();
        _logger.LogInformation("Listening to queue {Queue}", _queue.Name);
        while (!cancellationToken.IsCancellationRequested)
        {
            // As the Functions host: the next batch is received once at most NewBatchThreshold messages are in hand.
            while (running.Count > 0 && (running.Count > _options.NewBatchThreshold || running.Count >= _options.MaxConcurrency))
                Observe(running, await Task.WhenAny(running).ConfigureAwait(false));

            int received;
            try
            {
                received = await receive.ExecuteAsync(static async (state, ct) => await state.Self.ReceiveAndStartAsync(state.Running, ct).ConfigureAwait(false), (Self: this, Running: running), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            if (received > 0)
            {
                idle = _options.MinPollingInterval;
                continue;
            }
            // Empty: poll less often, up to the maximum.
            var wait = idle;
            idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, _options.MaxPollingInterval.Ticks));
            try
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        // Stopping: the handlers in hand see the cancellation; their messages reappear after the visibility timeout.
        while (running.Count > 0) Observe(running, await Task.WhenAny(running).ConfigureAwait(false));
        _logger.LogInformation("Stopped listening to queue {Queue}", _queue.Name);
    }

    /// <summary>Receives up to a batch (never past <see cref="QueueListenerOptions.MaxConcurrency"/> in hand) and starts handling each message; returns how many were received.</summary>
    private async Task<int> ReceiveAndStartAsync(HashSet<Task> running, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _inFlight); // counts the receive too, so IsIdleAsync cannot see a message in our hands as gone
        try
        {
            var room = Math.Min(_options.BatchSize, _options.MaxConcurrency - running.Count);
            QueueMessage[] messages = (await _queue.ReceiveMessagesAsync(room, _options.VisibilityTimeout, cancellationToken).ConfigureAwait(false)).Value;
            foreach (var message in messages)
            {
                Interlocked.Increment(ref _inFlight);
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        await HandleAsync(message, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _inFlight);
                    }
                }, CancellationToken.None));
            }
            return messages.Length;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>Drops a finished handler; one that failed outside the handler's own error handling (its delete, its poison move) is logged: the message reappears and is retried.</summary>
    private void Observe(HashSet<Task> running, Task done)
    {
        running.Remove(done);
        if (done.Exception is { } failure)
            _logger.LogWarning(failure.GetBaseException(), "Finishing a message of queue {Queue} failed; it reappears after its visibility timeout", _queue.Name);
    }

    /// <summary>True when the queue is empty (its approximate count, which includes invisible messages, is 0) and nothing is being handled.</summary>
    public async Task<bool> IsIdleAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _inFlight) > 0) return false;
        QueueProperties properties = await _queue.GetPropertiesAsync(cancellationToken).ConfigureAwait(false);
        return properties.ApproximateMessagesCount == 0 && Volatile.Read(ref _inFlight) == 0;
    }

    private async Task HandleAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        if (message.DequeueCount > _options.MaxDequeueCount)
        {
            // Delivered too often without success or failure being recorded (a crash, a lost delete).
            await MoveToPoisonAsync(message, $"Dequeued {message.DequeueCount} times, more than the limit of {_options.MaxDequeueCount}.", null, cancellationToken).ConfigureAwait(false);
            return;
        }

        // The message stays invisible for as long as it is handled (as the Functions host renews
        // its lease), so a slow batch is not delivered to a second handler meanwhile.
        var lease = new MessageLease(_queue, message, _options.VisibilityTimeout, _logger);
        try
        {
            await lease.RunAsync(ct => _handler(message, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return; // shutting down: the message reappears after its visibility timeout
        }
        catch (Exception ex)
        {
            if (message.DequeueCount >= _options.MaxDequeueCount)
            {
                await MoveToPoisonAsync(lease.Current, ex.Message, ex, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _logger.LogWarning(ex, "Message {MessageId} of queue {Queue} failed on delivery {DequeueCount} of {MaxDequeueCount}; it will be retried after {VisibilityTimeout}",
                    message.MessageId, _queue.Name, message.DequeueCount, _options.MaxDequeueCount, _options.VisibilityTimeout);
            }
            return;
        }

        await DeleteAsync(lease.Current, cancellationToken).ConfigureAwait(false);
    }

    private async Task MoveToPoisonAsync(QueueMessage message, string reason, Exception? exception, CancellationToken cancellationToken)
    {
        _logger.LogError(exception, "Message {MessageId} of queue {Queue} moved to {PoisonQueue} after {DequeueCount} deliveries: {Reason}",
            message.MessageId, _queue.Name, _poisonQueue.Name, message.DequeueCount, reason);
        try
        {
            await _poisonQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await _poisonQueue.SendMessageAsync(message.Body, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (_poisonReasons is not null) await WriteReasonAsync(message, reason, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not deleted: the message comes back and the move is tried again.
            _logger.LogWarning(ex, "Moving message {MessageId} to {PoisonQueue} failed; it stays in {Queue}", message.MessageId, _poisonQueue.Name, _queue.Name);
            return;
        }
        await DeleteAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private Task WriteReasonAsync(QueueMessage message, string reason, CancellationToken cancellationToken) =>
        _poisonReasons!.RecordAsync(_queue.Name, message.MessageId, message.DequeueCount, message.InsertedOn, reason, message.Body.ToString(), cancellationToken);

    private async Task DeleteAsync(QueueMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Its visibility timeout ran out and someone else received it (the pop receipt changed): they will finish it.
            _logger.LogWarning("Message {MessageId} of queue {Queue} was handled but could not be deleted (visibility timeout expired); it will be handled again", message.MessageId, _queue.Name);
        }
    }
}
