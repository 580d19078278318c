using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Hosting;
using Pipeline.Hosting.Endpoints.Dashboard;
using Pipeline.Hosting.Endpoints.Http;
using Pipeline.Hosting.Endpoints.Metrics;
using Pipeline.Hosting.Endpoints.OpenApi;
using Pipeline.Storage;

namespace Pipeline.Local.Hosting;

/// <summary>
/// The local twin of the Functions app: the same endpoints on Kestrel, the same queue entry
/// points behind polling listeners (with the Functions host's poison rule), and the rollup and the
/// landing sweeper on the same UTC schedules.
/// </summary>
internal static class LocalPipelineHost
{
    public static WebApplication Build(IConfiguration configuration, string urls, bool background, LogLevel pipelineLogLevel = LogLevel.Information, TimeProvider? clock = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddConfiguration(configuration);
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Pipeline", pipelineLogLevel);

        builder.Services.AddPipeline(builder.Configuration);
        if (clock is not null) builder.Services.AddSingleton(clock); // the last registration wins: the demo's replay clock
        if (background)
        {
            builder.Services.AddHostedService<QueueWorkers>();
            builder.Services.AddHostedService<RollupScheduler>();
            builder.Services.AddHostedService<SweepScheduler>();
        }

        var app = builder.Build();
        var api = app.MapGroup("/api");
        api.MapPost("/" + IngestEndpoint.Route, (HttpRequest request, IngestEndpoint endpoint, CancellationToken ct) => endpoint.HandleAsync(request, ct));
        api.MapGet("/" + MetricsQueryEndpoint.Route, (HttpRequest request, MetricsQueryEndpoint endpoint, CancellationToken ct) => endpoint.HandleAsync(request, ct));
        api.MapGet("/" + CatalogEndpoint.Route, (HttpRequest request, CatalogEndpoint endpoint) => endpoint.Handle(request));
        api.MapGet("/" + OpenApiEndpoint.Route, (HttpRequest request, OpenApiEndpoint endpoint) => endpoint.Handle(request));
        api.MapGet("/" + RestatementsEndpoint.Route, (HttpRequest request, RestatementsEndpoint endpoint, CancellationToken ct) => endpoint.HandleAsync(request, ct));
        // The dashboard at /dashboard/ (as at /api/dashboard/ in Azure); the root sends people there.
        app.MapGet("/", () => Results.Redirect("/dashboard/"));
        app.MapGet("/dashboard/{**path}", (HttpRequest request, DashboardEndpoint endpoint) => endpoint.Handle(request));
        app.MapGet("/healthz", () => Results.Text("ok"));
        return app;
    }

    /// <summary>Creates the containers, queues and tables (in Azure the templates do), then starts the host.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        await app.Services.GetRequiredService<StorageProvisioner>().EnsureCreatedAsync(cancellationToken);
        await app.StartAsync(cancellationToken);
    }

    /// <summary>The address Kestrel listens on (useful with port 0).</summary>
    public static string ListeningAddress(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
}
