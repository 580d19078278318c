using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Hosting;
using Pipeline.Hosting.Endpoints.Http;
using Pipeline.Local.Hosting;
using Pipeline.Storage;
using Pipeline.Storage.Resilience;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// The local runner's ingest endpoint and queue listeners in-process, as <c>LocalPipelineHost</c>
/// builds them, but with the durable-write circuit breaker's timings given by the test (the default
/// 15 s break would make an outage test wait that long after storage is back).
/// </summary>
internal sealed class FaultHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FaultHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<FaultHost> StartAsync(string connectionString, DurableWriteResilienceOptions resilience)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        var settings = RunnerProcess.Settings(connectionString).ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => kv.Value);
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(resilience); // before AddPipeline, whose registration is TryAdd
        builder.Services.AddPipeline(builder.Configuration);
        builder.Services.AddHostedService<QueueWorkers>();
        var app = builder.Build();
        app.MapPost("/api/" + IngestEndpoint.Route, (HttpRequest request, IngestEndpoint endpoint, CancellationToken ct) => endpoint.HandleAsync(request, ct));
        await app.Services.GetRequiredService<StorageProvisioner>().EnsureCreatedAsync(CancellationToken.None);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FaultHost(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
