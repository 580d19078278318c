using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Endpoints.Dashboard;
using Pipeline.Hosting.Endpoints.Http;
using Pipeline.Hosting.Endpoints.Metrics;
using Pipeline.Hosting.Endpoints.OpenApi;
using Pipeline.Hosting.Entries;
using Pipeline.Core;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Pipeline.Core.Processing;
using Pipeline.Core.Query;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;
using Pipeline.Core.Sweep;
using Pipeline.Core.Time;
using Pipeline.Storage;

namespace Pipeline.Hosting;

public static class PipelineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the whole pipeline: storage adapters, the domain handlers, and the entry points
    /// both hosts call. Options are validated at start-up.
    /// </summary>
    public static IServiceCollection AddPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPipelineStorage(configuration);
        services.TryAddSingleton(TimeProvider.System); // once: Storage registers it too, and a host may register its own clock first
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<PipelineOptions>>().Value);
        services.AddSingleton(sp => new ReportingCalendar(sp.GetRequiredService<PipelineOptions>().ReportingTimeZone));
        services.AddSingleton(SceneTable.Default);

        // One limiter per instance: each enforces Pipeline:RateLimit divided by Pipeline:MaxInstances.
        services.AddSingleton(sp => new IngestRateLimiter(sp.GetRequiredService<PipelineOptions>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IngestHandler>();
        services.AddSingleton<ProcessHandler>();
        services.AddSingleton<RollupEngine>();
        services.AddOptions<RollupOptions>()
            .Bind(configuration.GetSection(RollupOptions.Section))
            .Validate(o => o.StallAfter > TimeSpan.Zero, "Rollup:StallAfter must be a positive time span (for example 00:15:00).")
            .ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<RollupOptions>>().Value);
        services.AddSingleton<RollupPlanner>();
        services.AddSingleton<ShardRollupHandler>();
        services.AddSingleton<DayFinaliseHandler>();
        services.AddSingleton<RollupRunner>();
        services.AddOptions<SweepOptions>()
            .Bind(configuration.GetSection(SweepOptions.Section))
            .Validate(o => o.Problem() is null, "Sweep settings are invalid: check Sweep:GracePeriod, Sweep:Lookback, Sweep:RetryInterval and Sweep:MaxSweeps.")
            .ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<SweepOptions>>().Value);
        services.AddSingleton<LandingSweeper>();
        services.AddSingleton<EventCompactor>();

        services.AddSingleton<IngestEndpoint>();
        services.AddSingleton(sp => new IngestKeyCache(sp.GetRequiredService<IIngestKeyStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ReadKeyAuthenticator>();
        services.AddSingleton<MetricQueryService>();
        services.AddSingleton<MetricsQueryEndpoint>();
        services.AddSingleton<CatalogEndpoint>();
        services.AddSingleton<OpenApiEndpoint>();
        services.AddSingleton<RestatementsEndpoint>();
        services.AddSingleton<QueueDelivery>();
        services.AddSingleton<DashboardEndpoint>();
        services.AddSingleton<ProcessingQueueEntry>();
        services.AddSingleton<InboundQueueEntry>();
        services.AddSingleton<RollupEntry>();
        services.AddSingleton<RollupShardEntry>();
        services.AddSingleton<RollupDayEntry>();
        services.AddSingleton<SweepEntry>();
        return services;
    }
}
