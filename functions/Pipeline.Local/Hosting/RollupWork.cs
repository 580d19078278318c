using Pipeline.Local.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Storage.Queues;

namespace Pipeline.Local.Hosting;

/// <summary>
/// Runs a rollup request while this process works the rollup queues, so the run completes whether
/// or not a <c>serve</c> (or the Functions app) is listening too: the operator verbs, the demo and
/// the tests use it. Other processes on the same storage account share the work.
/// </summary>
internal static class RollupWork
{
    public static async Task<T> WhileWorkingAsync<T>(this IServiceProvider services, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        var options = new QueueListenerOptions();
        var configuration = services.GetService<IConfiguration>();
        configuration?.GetSection("LocalQueues").Bind(options);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var listeners = QueueWorkers.RollupListeners(services, options, configuration?.GetValue<int?>("LocalQueues:RollupShardConcurrency"))
            .Select(l => l.RunAsync(stop.Token)).ToArray();
        try
        {
            return await action(cancellationToken);
        }
        finally
        {
            await stop.CancelAsync();
            try { await Task.WhenAll(listeners); } catch (OperationCanceledException) { }
        }
    }
}
