using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pipeline.Local.Queues;

/// <summary>The local runner's queue listeners, built from the pipeline's services.</summary>
internal static class QueueListenerServices
{
    /// <summary>
    /// A <see cref="QueueListener"/> for one of the pipeline's queues (for the local runner), with
    /// its <c>-poison</c> queue and poison reasons in the <c>rejected</c> container.
    /// </summary>
    public static QueueListener CreateQueueListener(
        this IServiceProvider services,
        string queueName,
        Func<Azure.Storage.Queues.Models.QueueMessage, CancellationToken, Task> handler,
        QueueListenerOptions? options = null)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger($"{typeof(QueueListener).FullName}[{queueName}]");
        return QueueListener.Create(
            services.GetRequiredService<QueueServiceClient>(),
            services.GetRequiredService<BlobServiceClient>(),
            queueName, handler, logger, options);
    }
}
