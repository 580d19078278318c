using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Hosting;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Core.Time;
using Pipeline.Storage;
using Pipeline.Local.Emulator;

namespace Pipeline.Client.Tests.EndToEnd;

/// <summary>
/// The real local runner, as an operator starts it: Azurite on free ports with a temporary
/// folder, then <c>pipeline serve</c> as its own process on a free port, configured through
/// environment variables. The tests drive it from outside, like an SDK: keys are created and
/// days rolled up through the pipeline's own services on the same storage account (what the
/// <c>keys</c> and <c>rollup</c> verbs do), metrics are read from <c>GET /api/v1/metrics</c>.
/// </summary>
public sealed partial class LocalRunner : IAsyncLifetime
{
    public const string ReportingTimeZone = "Asia/Shanghai";

    private AzuriteRunner? _azurite;
    private ServiceProvider? _services;
    private Process? _serve;
    private readonly List<string> _serveOutput = [];

    /// <summary>Base address of the running endpoint, for example <c>http://127.0.0.1:40123</c>.</summary>
    public Uri Endpoint { get; private set; } = null!;

    public ReportingCalendar Calendar { get; } = new(ReportingTimeZone);

    public HttpClient Http { get; } = new();

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3)); // includes an 'npm ci' of Azurite on a fresh clone
        _azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions(), timeout.Token);
        var settings = new Dictionary<string, string?>
        {
            ["PipelineStorage"] = _azurite.ConnectionString,
            ["Pipeline:PseudonymisationKey"] = "client-tests-pseudonymisation-key-0123456789abcdef",
            ["Pipeline:ReportingTimeZone"] = ReportingTimeZone,
            ["Pipeline:EventStoreShards"] = "4",
            // Far away: the tests roll up themselves.
            ["RollupSchedule"] = "0 0 0 1 1 *",
            ["LocalQueues:MaxPollingInterval"] = "00:00:00.200",
        };
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddPipeline(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        _services = services.BuildServiceProvider();
        await _services.GetRequiredService<StorageProvisioner>().EnsureCreatedAsync(timeout.Token);

        _serve = StartServe(settings);
        Endpoint = await WaitForListeningAsync(_serve, timeout.Token);
    }

    /// <summary>Registers a source that may write every mini-program and returns a new key for it (as <c>keys create</c>).</summary>
    public async Task<string> CreateKeyAsync(string source)
    {
        var store = _services!.GetRequiredService<IIngestKeyStore>();
        await store.SaveSourceAsync(new SourceRegistration(source, true, [], DateTimeOffset.UtcNow), CancellationToken.None);
        var (plaintext, record) = IngestKeys.Create(source, DateTimeOffset.UtcNow);
        await store.SaveKeyAsync(record, CancellationToken.None);
        return plaintext;
    }

    /// <summary>A platform read key (every mini-program), as <c>keys create --read --mini-programs *</c> makes; created on first use.</summary>
    private async Task<string> ReadKeyAsync()
    {
        if (_readKey is not null) return _readKey;
        var store = _services!.GetRequiredService<IIngestKeyStore>();
        await store.SaveReaderAsync(new SourceRegistration("client-tests-analyst", true, [], DateTimeOffset.UtcNow), CancellationToken.None);
        var (plaintext, record) = IngestKeys.Create("client-tests-analyst", DateTimeOffset.UtcNow, ApiKeyKind.Read);
        await store.SaveKeyAsync(record, CancellationToken.None);
        return _readKey = plaintext;
    }

    private string? _readKey;

    /// <summary>Waits until the serve process has processed every accepted batch (its queues are empty; Azure counts invisible messages too).</summary>
    public async Task WaitForProcessingAsync(TimeSpan? timeout = null)
    {
        var queues = _services!.GetRequiredService<QueueServiceClient>();
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var pending = 0;
            foreach (var name in new[] { StorageNames.ProcessingQueue, StorageNames.InboundQueue })
                pending += (await queues.GetQueueClient(name).GetPropertiesAsync()).Value.ApproximateMessagesCount;
            if (pending == 0) return;
            if (DateTime.UtcNow > until) throw new TimeoutException($"{pending} queue messages still pending. serve said:\n{ServeOutput}");
            await Task.Delay(100);
        }
    }

    /// <summary>Rolls up the given days (as <c>rollup --from --to</c>): this process plans the run, the <c>serve</c> child works its queues.</summary>
    public Task RollUpAsync(DateOnly from, DateOnly to) =>
        _services!.GetRequiredService<RollupRunner>().RunRangeAsync(from, to, CancellationToken.None);

    /// <summary>The reporting days an activity between the two instants can fall on.</summary>
    public (DateOnly From, DateOnly To) DaysBetween(DateTimeOffset first, DateTimeOffset last) =>
        (Calendar.DayOf(first.AddMinutes(-1)), Calendar.DayOf(last.AddMinutes(1)));

    /// <summary>The value of one metric row of a day, from the query endpoint; 0 when the row (or the day) is absent.</summary>
    public async Task<double> MetricAsync(DateOnly day, string metric, string dimension, string dimensionValue)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Endpoint, $"/api/v1/metrics?date={day:yyyy-MM-dd}&metric={metric}&dimension={dimension}&limit=10000"));
        request.Headers.Add("X-Api-Key", await ReadKeyAsync());
        using var response = await Http.SendAsync(request);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return 0;
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("dimensionValue").GetString() == dimensionValue)
            .Select(r => r.GetProperty("value").GetDouble())
            .SingleOrDefault();
    }

    /// <summary>A per-mini-program metric summed over a range of days (counts of events and sessions add up across days).</summary>
    public async Task<double> SumAsync(DateOnly from, DateOnly to, string metric, string miniProgramId)
    {
        double sum = 0;
        for (var day = from; day <= to; day = day.AddDays(1))
            sum += await MetricAsync(day, metric, "miniProgram", miniProgramId);
        return sum;
    }

    public string ServeOutput
    {
        get
        {
            lock (_serveOutput) return string.Join('\n', _serveOutput);
        }
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_serve is not null)
        {
            if (!_serve.HasExited) _serve.Kill(entireProcessTree: true);
            await _serve.WaitForExitAsync();
            _serve.Dispose();
        }
        if (_services is not null) await _services.DisposeAsync();
        if (_azurite is not null) await _azurite.DisposeAsync();
    }

    /// <summary>The repository's root (the folder of Pipeline.sln), found upwards from the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException("Pipeline.sln not found above " + AppContext.BaseDirectory);
    }

    private Process StartServe(Dictionary<string, string?> settings)
    {
        // pipeline.dll is copied next to the tests by the project reference to Pipeline.Local.
        var start = new ProcessStartInfo(DotnetHost())
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "pipeline.dll"), "serve", "--urls", "http://127.0.0.1:0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var (key, value) in settings) start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("pipeline serve did not start");
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_serveOutput) _serveOutput.Add(line);
    }

    private async Task<Uri> WaitForListeningAsync(Process process, CancellationToken cancellationToken)
    {
        while (true)
        {
            var match = Listening().Match(ServeOutput);
            if (match.Success) return new Uri(match.Groups[1].Value);
            if (process.HasExited) throw new InvalidOperationException($"pipeline serve exited with {process.ExitCode}:\n{ServeOutput}");
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>The <c>dotnet</c> executable that runs the tests (the CLI passes its path down).</summary>
    public static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";

    [GeneratedRegex(@"Pipeline listening on (http://\S+?) ")]
    private static partial Regex Listening();
}

[CollectionDefinition(Name)]
public sealed class LocalRunnerCollection : ICollectionFixture<LocalRunner>
{
    public const string Name = "local runner";
}
