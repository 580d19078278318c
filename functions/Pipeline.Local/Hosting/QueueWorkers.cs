using Pipeline.Local.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Hosting.Entries;
using Pipeline.Storage;
using Pipeline.Storage.Queues;

namespace Pipeline.Local.Hosting;

/// <summary>
/// The local runner's stand-in for the Functions queue triggers: one polling listener per queue,
/// (processing, inbound, and the rollup's shards and days), calling the same entry points, with the host's poison rule (after 5 deliveries the message
/// moves to <c>&lt;queue&gt;-poison</c>). Settings under <c>LocalQueues</c> tune the polling.
/// </summary>
internal sealed class QueueWorkers : BackgroundService
{
    private readonly IReadOnlyList<QueueListener> _listeners;

    public QueueWorkers(IServiceProvider services, IConfiguration configuration)
    {
        var options = new QueueListenerOptions();
        configuration.GetSection("LocalQueues").Bind(options);
        var processing = services.GetRequiredService<ProcessingQueueEntry>();
        var inbound = services.GetRequiredService<InboundQueueEntry>();
        _listeners =
        [
            services.CreateQueueListener(ProcessingQueueEntry.QueueName, (m, ct) => processing.HandleAsync(m.Body.ToString(), ct), options),
            services.CreateQueueListener(InboundQueueEntry.QueueName, (m, ct) => inbound.HandleAsync(m.Body.ToString(), ct), options),
            .. RollupListeners(services, options, configuration.GetValue<int?>("LocalQueues:RollupShardConcurrency")),
        ];
    }

    /// <summary>
    /// Listeners on the rollup's two queues (shards and days). <c>serve</c> runs them with the others;
    /// <c>rollup</c> runs them alone while it waits, so a run completes with or without a <c>serve</c>,
    /// and several processes on one storage account share a run's shards.
    /// </summary>
    /// <remarks>
    /// A shard invocation is a long, storage-heavy piece of work (it compacts and reads a whole
    /// (day, shard) and writes its state), so one process takes at most <c>LocalQueues:RollupShardConcurrency</c>
    /// of them at a time (default: its processor count): sixteen at once on two cores only make every
    /// storage call slower (and, against Azurite, time out). Other processes take the rest of the shards.
    /// </remarks>
    public static IReadOnlyList<QueueListener> RollupListeners(IServiceProvider services, QueueListenerOptions options, int? shardConcurrency = null)
    {
        var shards = services.GetRequiredService<RollupShardEntry>();
        var days = services.GetRequiredService<RollupDayEntry>();
        var perShard = Math.Max(1, shardConcurrency ?? Environment.ProcessorCount);
        var shardOptions = new QueueListenerOptions
        {
            // One at a time, the next as soon as one of the perShard in hand is done: a long shard never holds the other cores back.
            BatchSize = 1,
            NewBatchThreshold = Math.Min(options.MaxConcurrency, perShard) - 1,
            MaxConcurrency = Math.Min(options.MaxConcurrency, perShard),
            VisibilityTimeout = options.VisibilityTimeout,
            MaxDequeueCount = options.MaxDequeueCount,
            MinPollingInterval = options.MinPollingInterval,
            MaxPollingInterval = options.MaxPollingInterval,
        };
        return
        [
            services.CreateQueueListener(RollupShardEntry.QueueName, (m, ct) => shards.HandleAsync(m.Body.ToString(), ct), shardOptions),
            services.CreateQueueListener(RollupDayEntry.QueueName, (m, ct) => days.HandleAsync(m.Body.ToString(), ct), options),
        ];
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_listeners.Select(l => l.RunAsync(stoppingToken)));

    /// <summary>
    /// Waits until every queue is empty and nothing is in flight, seen twice in a row (an inbound
    /// message turns into a processing message, so one look at both queues is not enough).
    /// </summary>
    public async Task WaitUntilIdleAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var quietLooks = 0;
        while (quietLooks < 2)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), limit.Token);
                var idle = true;
                foreach (var listener in _listeners)
                    idle &= await listener.IsIdleAsync(limit.Token);
                quietLooks = idle ? quietLooks + 1 : 0;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The queues were not drained within {timeout.TotalSeconds:0} s.");
            }
        }
    }
}
