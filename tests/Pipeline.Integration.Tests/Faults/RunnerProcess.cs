using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Pipeline.Integration.Tests.EndToEnd;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// The built local runner (<c>pipeline.dll</c>, copied next to the tests) as a real child process,
/// so that it can be killed as an operating system kills a host: <see cref="Kill"/> is SIGKILL on
/// Linux, with no shutdown code run. Storage is the test's Azurite (<c>PipelineStorage</c>), with the
/// same pseudonymisation key and shards as the uninterrupted run.
/// </summary>
internal sealed class RunnerProcess : IAsyncDisposable
{
    private const int OutputLimit = 32 * 1024;
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private RunnerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Settings as the uninterrupted run has them, plus fast queue polling and a short visibility timeout (a killed runner's messages come back quickly).</summary>
    public static Dictionary<string, string?> Settings(string connectionString) => new()
    {
        ["PipelineStorage"] = connectionString,
        ["Pipeline__PseudonymisationKey"] = PipelineHost.PseudonymisationKey,
        ["Pipeline__ReportingTimeZone"] = "Asia/Shanghai",
        ["Pipeline__EventStoreShards"] = "4",
        ["RollupSchedule"] = "0 0 0 1 1 *", // far away: the tests roll up explicitly
        ["SweepSchedule"] = "0 0 0 1 1 *",
        ["LocalQueues__MaxPollingInterval"] = "00:00:00.200",
        ["LocalQueues__VisibilityTimeout"] = "00:00:03",
    };

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts <c>pipeline serve</c> on the port and waits until it answers <c>/healthz</c>.</summary>
    public static async Task<RunnerProcess> ServeAsync(int port, IDictionary<string, string?> settings)
    {
        var runner = Start(settings, "serve", "--urls", $"http://127.0.0.1:{port}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (runner.HasExited)
                throw new InvalidOperationException($"pipeline serve exited with {runner.ExitCode} before it listened. Output:\n{runner.Output}");
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                await runner.DisposeAsync();
                throw new TimeoutException($"pipeline serve did not answer /healthz within 60 s. Output:\n{runner.Output}");
            }
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{port}/healthz")).IsSuccessStatusCode) return runner;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Starts a verb (for example <c>rollup</c>) without waiting for it.</summary>
    public static RunnerProcess Start(IDictionary<string, string?> settings, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pipeline.dll"));
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment.Remove("ConnectionStrings__PipelineStorage");
        foreach (var (k, v) in settings) start.Environment[k] = v;
        return new RunnerProcess(Process.Start(start) ?? throw new InvalidOperationException("Could not start the runner."));
    }

    /// <summary>SIGKILL (on Linux): the process ends at once, mid-request, mid-message, mid-write.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit(10_000);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The runner did not finish within {timeout.TotalSeconds:0} s. Output:\n{Output}");
        }
        return _process.ExitCode;
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) Kill();
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.AppendLine(line);
            if (_output.Length > OutputLimit) _output.Remove(0, _output.Length - OutputLimit);
        }
    }
}
