using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Core;
using Pipeline.Core.Ports;
using Pipeline.Storage.Blobs;
using Pipeline.Storage.Queues;
using Pipeline.Storage.Resilience;
using Pipeline.Storage.Tables;

namespace Pipeline.Storage;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers the storage side of the pipeline, all singletons: <see cref="PipelineStorageOptions"/>
    /// (read as its remarks describe, validated at start-up), the Blob, Queue (Base64) and Table
    /// service clients through Microsoft.Extensions.Azure (one shared credential for identity-based
    /// access, the SDK's retry settings as the clients' defaults, the SDK's logs forwarded to the host's
    /// logging), every port of <c>Pipeline.Core.Ports</c> (the landing store and the processing queue
    /// behind the shared <see cref="DurableWriteResilience"/>, bound from <c>Pipeline:Resilience</c>),
    /// and <see cref="StorageProvisioner"/>. The ports read the domain's options: call
    /// <c>AddPipelineCore</c> too.
    /// </summary>
    public static IServiceCollection AddPipelineStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<PipelineStorageOptions>()
            .Configure(o => o.ReadFrom(configuration))
            .Validate(o => o.IsConfigured, PipelineStorageOptions.MissingConfigurationMessage)
            .ValidateOnStart();

        // The Functions convention (PipelineStorage__blobServiceUri, __queueServiceUri, __tableServiceUri,
        // __clientId, or a connection string) is shared with the queue triggers' Connection setting, so the
        // options read it once and the clients are made from them; the factory, the shared credential and
        // the default client options are Microsoft.Extensions.Azure's.
        static PipelineStorageOptions Storage(IServiceProvider sp) => sp.GetRequiredService<IOptions<PipelineStorageOptions>>().Value;
        services.AddAzureClients(clients =>
        {
            clients.UseCredential(sp => Storage(sp).CreateCredential());
            clients.ConfigureDefaults((options, sp) => Storage(sp).ApplyTo(options));
            clients.AddClient<BlobServiceClient, BlobClientOptions>((options, credential, sp) => Storage(sp).CreateBlobServiceClient(options, credential));
            clients.AddClient<QueueServiceClient, QueueClientOptions>((options, credential, sp) => Storage(sp).CreateQueueServiceClient(options, credential));
            clients.AddClient<TableServiceClient, TableClientOptions>((options, credential, sp) => Storage(sp).CreateTableServiceClient(options, credential));
        });
        services.TryAddSingleton<StorageProvisioner>();

        services.AddOptions<DurableWriteResilienceOptions>()
            .Bind(configuration.GetSection(DurableWriteResilienceOptions.Section))
            .Validate(o => o.Timeout > TimeSpan.Zero && o.SamplingDuration > TimeSpan.Zero && o.BreakDuration >= TimeSpan.FromMilliseconds(500),
                "Pipeline:Resilience: Timeout and SamplingDuration must be positive time spans, and BreakDuration at least 00:00:00.500 (the circuit breaker's minimum).")
            .Validate(o => o.FailureRatio is > 0 and <= 1 && o.MinimumThroughput >= 2,
                "Pipeline:Resilience: FailureRatio must be above 0 and at most 1, and MinimumThroughput at least 2 (the circuit breaker's minimum).")
            .ValidateOnStart();
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<DurableWriteResilienceOptions>>().Value);
        services.TryAddSingleton(sp => new DurableWriteResilience(
            sp.GetRequiredService<DurableWriteResilienceOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<DurableWriteResilience>>()));

        services.TryAddSingleton<BlobLandingStore>();
        services.TryAddSingleton<QueueProcessingQueue>();
        services.TryAddSingleton<ILandingStore>(sp => new ResilientLandingStore(sp.GetRequiredService<BlobLandingStore>(), sp.GetRequiredService<DurableWriteResilience>()));
        services.TryAddSingleton<IProcessingQueue>(sp => new ResilientProcessingQueue(sp.GetRequiredService<QueueProcessingQueue>(), sp.GetRequiredService<DurableWriteResilience>()));

        services.TryAddSingleton<BlobLandingInventory>();
        services.TryAddSingleton<ILandingInventory>(sp => sp.GetRequiredService<BlobLandingInventory>());
        services.TryAddSingleton<IProcessedBatchLedger>(sp => sp.GetRequiredService<BlobLandingInventory>());

        services.TryAddSingleton<BlobRejectedEventStore>();
        services.TryAddSingleton<IRejectedEventStore>(sp => sp.GetRequiredService<BlobRejectedEventStore>());
        services.TryAddSingleton<IIngestKeyStore, TableIngestKeyStore>();
        services.TryAddSingleton<IIngestReceiptLedger, TableIngestReceiptLedger>();
        services.TryAddSingleton<IEventStore, BlobEventStore>();
        services.TryAddSingleton<IDirtyDayLedger, TableDirtyDayLedger>();
        services.TryAddSingleton<IFoldedDayLedger, TableFoldedDayLedger>();
        services.TryAddSingleton<IRollupStateStore, BlobRollupStateStore>();
        services.TryAddSingleton<IRollupRunStore, TableRollupRunStore>();
        services.TryAddSingleton<IRollupQueue, QueueRollupQueue>();
        services.TryAddSingleton<IRestatementStore, TableRestatementStore>();
        services.TryAddSingleton<IMetricsStore, TableMetricsStore>();
        services.TryAddSingleton<IMetricsReader, TableMetricsReader>();
        services.TryAddSingleton<IExportStore, BlobExportStore>();
        services.TryAddSingleton<PoisonReasonStore>();
        services.TryAddSingleton<PoisonQueues>();
        return services;
    }
}
