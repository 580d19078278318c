using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
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
    /// service clients, every port of <c>Pipeline.Core.Ports</c> (the landing store and the
    /// processing queue behind the shared <see cref="DurableWriteResilience"/>),
    /// <see cref="StorageProvisioner"/>, and <see cref="PipelineOptions"/> bound from section
    /// <c>Pipeline</c> with data-annotation validation at start-up.
    /// </summary>
    public static IServiceCollection AddPipelineStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<PipelineOptions>()
            .Bind(configuration.GetSection(PipelineOptions.Section))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PipelineOptions>, PipelineOptionsValidator>());

        services.AddOptions<PipelineStorageOptions>()
            .Configure(o => Copy(PipelineStorageOptions.FromConfiguration(configuration), o))
            .Validate(o => o.IsConfigured, PipelineStorageOptions.MissingConfigurationMessage)
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<PipelineStorageOptions>>().Value.CreateBlobServiceClient());
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<PipelineStorageOptions>>().Value.CreateQueueServiceClient());
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<PipelineStorageOptions>>().Value.CreateTableServiceClient());
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

    private static void Copy(PipelineStorageOptions from, PipelineStorageOptions to)
    {
        to.ConnectionString = from.ConnectionString;
        to.BlobServiceUri = from.BlobServiceUri;
        to.QueueServiceUri = from.QueueServiceUri;
        to.TableServiceUri = from.TableServiceUri;
        to.ManagedIdentityClientId = from.ManagedIdentityClientId;
        to.MaxRetries = from.MaxRetries;
        to.NetworkTimeout = from.NetworkTimeout;
        to.RetryDelay = from.RetryDelay;
        to.MaxRetryDelay = from.MaxRetryDelay;
    }
}
