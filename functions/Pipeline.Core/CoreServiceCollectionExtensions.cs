using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pipeline.Core.Ingest;
using Pipeline.Core.Processing;
using Pipeline.Core.Query;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;
using Pipeline.Core.Sweep;
using Pipeline.Core.Time;

namespace Pipeline.Core;

public static class CoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers the domain, all singletons: the one <see cref="TimeProvider"/> (unless the host registered
    /// its own clock first), the options of the domain bound from configuration and validated once, at
    /// start-up (<see cref="PipelineOptions"/> from <c>Pipeline</c> by the source-generated
    /// <see cref="PipelineOptionsValidator"/>, <see cref="RollupOptions"/> from <c>Rollup</c>,
    /// <see cref="SweepOptions"/> from <c>Sweep</c>), the scene table, the reporting calendar, and the
    /// handlers of ingest, processing, rollup, sweep and query. Their ports (<c>Ports/</c>) come from
    /// the storage module.
    /// </summary>
    public static IServiceCollection AddPipelineCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.TryAddSingleton(TimeProvider.System);

        services.AddOptions<PipelineOptions>().Bind(configuration.GetSection(PipelineOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PipelineOptions>, PipelineOptionsValidator>());
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<PipelineOptions>>().Value);

        services.AddOptions<RollupOptions>().Bind(configuration.GetSection(RollupOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RollupOptions>>(
            new ProblemValidator<RollupOptions>(o => o.StallAfter > TimeSpan.Zero ? null : $"{RollupOptions.Section}:StallAfter must be a positive time span (for example 00:15:00); got {o.StallAfter}.")));
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<RollupOptions>>().Value);

        services.AddOptions<SweepOptions>().Bind(configuration.GetSection(SweepOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SweepOptions>>(new ProblemValidator<SweepOptions>(o => o.Problem())));
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<SweepOptions>>().Value);

        services.TryAddSingleton(sp => new ReportingCalendar(sp.GetRequiredService<PipelineOptions>().ReportingTimeZone));
        services.TryAddSingleton(SceneTable.Default);

        // One limiter per instance: each enforces Pipeline:RateLimit divided by Pipeline:MaxInstances.
        services.TryAddSingleton(sp => new IngestRateLimiter(sp.GetRequiredService<PipelineOptions>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IngestHandler>();
        services.TryAddSingleton(sp => new IngestKeyCache(sp.GetRequiredService<Ports.IIngestKeyStore>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<ProcessHandler>();

        services.TryAddSingleton<RollupEngine>();
        services.TryAddSingleton<RollupPlanner>();
        services.TryAddSingleton<ShardRollupHandler>();
        services.TryAddSingleton<DayFinaliseHandler>();
        services.TryAddSingleton<RollupRunner>();

        services.TryAddSingleton<LandingSweeper>();
        services.TryAddSingleton<EventCompactor>();

        services.TryAddSingleton<ReadKeyAuthenticator>();
        services.TryAddSingleton(sp => new CellSuppression(sp.GetRequiredService<Ports.IMetricsReader>(), sp.GetRequiredService<PipelineOptions>().Query.MinimumCellUsers));
        services.TryAddSingleton(sp => new MetricQueryService(sp.GetRequiredService<Ports.IMetricsReader>(), sp.GetRequiredService<CellSuppression>()));
        services.TryAddSingleton<RestatementAccess>();
        return services;
    }

    /// <summary>Validates options with the one rule that states their problem, keeping its precise message.</summary>
    private sealed class ProblemValidator<T>(Func<T, string?> problem) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options) =>
            problem(options) is { } message ? ValidateOptionsResult.Fail(message) : ValidateOptionsResult.Success;
    }
}
