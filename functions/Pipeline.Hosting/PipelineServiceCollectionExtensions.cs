using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pipeline.Hosting.Endpoints.Dashboard;
using Pipeline.Hosting.Endpoints.Http;
using Pipeline.Hosting.Endpoints.Metrics;
using Pipeline.Hosting.Endpoints.OpenApi;
using Pipeline.Hosting.Entries;
using Pipeline.Core;
using Pipeline.Storage;

namespace Pipeline.Hosting;

public static class PipelineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the whole pipeline, module by module: the domain (<c>AddPipelineCore</c>), the storage
    /// adapters (<c>AddPipelineStorage</c>) and the hosting module (<see cref="AddPipelineHosting"/>).
    /// Each module registers its own options, validated at start-up.
    /// </summary>
    public static IServiceCollection AddPipeline(this IServiceCollection services, IConfiguration configuration) =>
        services.AddPipelineCore(configuration)
            .AddPipelineStorage(configuration)
            .AddPipelineHosting();

    /// <summary>The HTTP endpoints and the queue and timer entries that both hosts (Functions and the local runner) call.</summary>
    public static IServiceCollection AddPipelineHosting(this IServiceCollection services)
    {
        services.TryAddSingleton<IngestEndpoint>();
        services.TryAddSingleton<MetricsQueryEndpoint>();
        services.TryAddSingleton<CatalogEndpoint>();
        services.TryAddSingleton<OpenApiEndpoint>();
        services.TryAddSingleton<RestatementsEndpoint>();
        services.TryAddSingleton<DashboardEndpoint>();
        services.TryAddSingleton<QueueDelivery>();
        services.TryAddSingleton<ProcessingQueueEntry>();
        services.TryAddSingleton<InboundQueueEntry>();
        services.TryAddSingleton<RollupEntry>();
        services.TryAddSingleton<RollupShardEntry>();
        services.TryAddSingleton<RollupDayEntry>();
        services.TryAddSingleton<SweepEntry>();
        return services;
    }
}
