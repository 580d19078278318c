using System.Net.Http.Headers;
using System.Text;
using Pipeline.Core.Ingest;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Ports;
using Pipeline.Local.Cli;
using Pipeline.Local.Hosting;

namespace Pipeline.Integration.Tests.EndToEnd;

/// <summary>
/// One running local runner (Kestrel on a free port, queue listeners, no schedule surprises)
/// against the shared Azurite, configured as the Azure deployment would be.
/// </summary>
public sealed class PipelineHost : IAsyncDisposable
{
    public const string PseudonymisationKey = "integration-tests-pseudonymisation-key-0123456789";

    private PipelineHost(WebApplication app, string address)
    {
        App = app;
        Address = address;
        Http = new HttpClient { BaseAddress = new Uri(address) };
    }

    public WebApplication App { get; }
    public string Address { get; }
    public HttpClient Http { get; }
    public IServiceProvider Services => App.Services;

    public static async Task<PipelineHost> StartAsync(string connectionString, bool background = true, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["PipelineStorage"] = connectionString,
            ["Pipeline:PseudonymisationKey"] = PseudonymisationKey,
            ["Pipeline:ReportingTimeZone"] = "Asia/Shanghai",
            ["Pipeline:EventStoreShards"] = "4",
            // Far away: the tests roll up explicitly.
            ["RollupSchedule"] = "0 0 0 1 1 *",
            ["LocalQueues:MaxPollingInterval"] = "00:00:00.200",
            ["LocalQueues:VisibilityTimeout"] = "00:00:05",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) values[k] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var app = LocalPipelineHost.Build(configuration, "http://127.0.0.1:0", background, LogLevel.Warning);
        await LocalPipelineHost.StartAsync(app, CancellationToken.None);
        return new PipelineHost(app, LocalPipelineHost.ListeningAddress(app));
    }

    public async Task<string> CreateKeyAsync(string source, params string[] miniPrograms)
        => await KeysCommand.CreateKeyAsync(Services, KeysCommand.ParseSource(source, miniPrograms.Length == 0 ? "*" : string.Join(",", miniPrograms)), CancellationToken.None);

    /// <summary>A read key (as <c>keys create --read</c>): every mini-program when none is named (the platform's analysts).</summary>
    public async Task<string> CreateReadKeyAsync(string reader, params string[] miniPrograms)
        => await KeysCommand.CreateKeyAsync(Services, KeysCommand.ParseSource(reader, miniPrograms.Length == 0 ? "*" : string.Join(",", miniPrograms)), CancellationToken.None, ApiKeyKind.Read);

    /// <summary>GET with <c>X-Api-Key</c>.</summary>
    public async Task<HttpResponseMessage> GetAsync(string key, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", key);
        return await Http.SendAsync(request);
    }

    public async Task<HttpResponseMessage> PostAsync(string key, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/events")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Api-Key", key);
        return await Http.SendAsync(request);
    }

    /// <summary>Waits until both queues are empty and nothing is in flight.</summary>
    public async Task WaitForProcessingAsync(TimeSpan? timeout = null)
    {
        var workers = Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<QueueWorkers>().Single();
        await workers.WaitUntilIdleAsync(timeout ?? TimeSpan.FromSeconds(60), CancellationToken.None);
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
