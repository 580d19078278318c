using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Api.Http;
using Pipeline.Api.Metrics;
using Pipeline.Api.Queues;
using Pipeline.Core;
using Pipeline.Core.Ingest;
using Pipeline.Core.Processing;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;
using Pipeline.Core.Time;
using Pipeline.Storage;

namespace Pipeline.Api;

public static class PipelineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the whole pipeline: storage adapters, the domain handlers, and the entry points
    /// both hosts call. Options are validated at start-up.
    /// </summary>
    public static IServiceCollection AddPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPipelineStorage(configuration);
        services.AddSingleton<IValidateOptions<PipelineOptions>, PipelineOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<PipelineOptions>>().Value);
        services.AddSingleton(sp => new ReportingCalendar(sp.GetRequiredService<PipelineOptions>().ReportingTimeZone));
        services.AddSingleton(SceneTable.Default);

        services.AddSingleton<IngestHandler>();
        services.AddSingleton<ProcessHandler>();
        services.AddSingleton<RollupEngine>();
        services.AddSingleton<RollupRunner>();

        services.AddSingleton<IngestEndpoint>();
        services.AddSingleton<MetricsQueryEndpoint>();
        services.AddSingleton<ProcessingQueueEntry>();
        services.AddSingleton<InboundQueueEntry>();
        services.AddSingleton<RollupEntry>();
        return services;
    }
}
