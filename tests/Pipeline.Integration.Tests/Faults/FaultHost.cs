using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Pipeline.Local.Hosting;
using Pipeline.Storage.Resilience;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// The local runner's real host (<see cref="LocalPipelineHost"/>: its endpoints, queue listeners and schedules),
/// in-process, configured like <c>serve</c> by settings only: the durable-write circuit breaker's timings come
/// from <c>Pipeline:Resilience</c> (the default 15 s break would make an outage test wait that long after storage
/// is back), and the schedules are far away (<see cref="RunnerProcess.Settings"/>).
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
        var settings = RunnerProcess.Settings(connectionString);
        settings["Pipeline__Resilience__Timeout"] = resilience.Timeout.ToString("c");
        settings["Pipeline__Resilience__FailureRatio"] = resilience.FailureRatio.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Pipeline__Resilience__MinimumThroughput"] = resilience.MinimumThroughput.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Pipeline__Resilience__SamplingDuration"] = resilience.SamplingDuration.ToString("c");
        settings["Pipeline__Resilience__BreakDuration"] = resilience.BreakDuration.ToString("c");
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => kv.Value))
            .Build();

        var app = LocalPipelineHost.Build(configuration, "http://127.0.0.1:0", background: true, LogLevel.Warning);
        await LocalPipelineHost.StartAsync(app, CancellationToken.None);
        return new FaultHost(app, new Uri(LocalPipelineHost.ListeningAddress(app)));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
