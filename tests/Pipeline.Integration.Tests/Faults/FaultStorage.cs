using System.Diagnostics;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Local.Cli;
using Pipeline.Local.Hosting;
using Pipeline.Storage;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>The pipeline's services over one test Azurite, from outside any runner: keys, rollups, queue probes.</summary>
public sealed class FaultStorage : IAsyncDisposable
{
    private FaultStorage(string connectionString, ServiceProvider services)
    {
        ConnectionString = connectionString;
        Services = services;
        var queues = new QueueServiceClient(connectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        ProcessingQueue = queues.GetQueueClient(StorageNames.ProcessingQueue);
        InboundQueue = queues.GetQueueClient(StorageNames.InboundQueue);
        PoisonQueue = queues.GetQueueClient(StorageNames.ProcessingPoisonQueue);
    }

    public string ConnectionString { get; }
    public ServiceProvider Services { get; }
    public QueueClient ProcessingQueue { get; }
    public QueueClient InboundQueue { get; }
    public QueueClient PoisonQueue { get; }

    public static async Task<FaultStorage> OpenAsync(string connectionString)
    {
        var settings = RunnerProcess.Settings(connectionString).ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => kv.Value);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new FaultStorage(connectionString, await LocalServices.StartAsync(configuration, CancellationToken.None));
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>Registers a source for every mini-program and returns a new ingest key.</summary>
    public Task<string> CreateKeyAsync(string source) =>
        KeysCommand.CreateKeyAsync(Services, KeysCommand.ParseSource(source, "*"), CancellationToken.None);

    public async Task<int> ProcessingBacklogAsync() => (await ProcessingQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount;

    /// <summary>
    /// Waits until the processing and inbound queues are empty, seen twice 250 ms apart. A message is
    /// deleted only once handled, and the count includes invisible (in-flight) messages, so empty
    /// means every message was handled (or moved to the poison queue).
    /// </summary>
    public async Task WaitUntilDrainedAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var quiet = 0;
        while (quiet < 2)
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"The queues were not drained within {timeout.TotalSeconds:0} s ({await ProcessingBacklogAsync()} processing messages left).");
            await Task.Delay(250);
            var empty = (await ProcessingQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0
                && (await InboundQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0;
            quiet = empty ? quiet + 1 : 0;
        }
    }

    public async ValueTask DisposeAsync() => await Services.DisposeAsync();
}
