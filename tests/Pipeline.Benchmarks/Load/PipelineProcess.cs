using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Pipeline.Benchmarks.Load;

/// <summary>
/// Runs the local runner (<c>pipeline.dll</c>, the Pipeline.Local build copied next to this
/// assembly by the project reference) as a child process with a given environment: one-shot
/// verbs (<c>keys create</c>, <c>rollup</c>) and the long-running <c>serve</c>.
/// </summary>
public sealed partial class PipelineProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PipelineProcess(Process process, StreamWriter log)
    {
        _process = process;
        _log = log;
    }

    public int Id => _process.Id;

    /// <summary>The built local runner next to this assembly.</summary>
    public static string DllPath()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "pipeline.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the project that references Pipeline.Local.");
    }

    /// <summary>Runs a verb to completion; returns its standard output, or throws with its output when it fails.</summary>
    /// <param name="started">Told the child's process id once it runs (to sample its memory meanwhile).</param>
    public static async Task<string> RunAsync(IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken, Action<int>? started = null)
    {
        using var process = Process.Start(StartInfo(environment, args))!;
        started?.Invoke(process.Id);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Stop(process);
            throw new TimeoutException($"pipeline {string.Join(' ', args)} did not finish within {timeout} (or was cancelled).");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"pipeline {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}{await stdout}");
        return await stdout;
    }

    /// <summary>Starts <c>serve</c> on a free loopback port; its output goes to <paramref name="logPath"/>.</summary>
    public static PipelineProcess StartServe(IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var start = StartInfo(environment, ["serve", "--urls", "http://127.0.0.1:0"]);
        // The per-request information log would dominate the log file and cost CPU.
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Pipeline"] = "Warning";
        var process = Process.Start(start)!;
        var serve = new PipelineProcess(process, new StreamWriter(logPath) { AutoFlush = true });
        process.OutputDataReceived += (_, e) => serve.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => serve.OnOutput(e.Data);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => serve._listening.TrySetException(new InvalidOperationException($"serve exited with {process.ExitCode} before listening (see {logPath})."));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return serve;
    }

    /// <summary>The address serve listens on, from its start-up line.</summary>
    public async Task<Uri> WaitUntilListeningAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await _listening.Task.WaitAsync(timeout, cancellationToken);

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        Stop(_process);
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

    private void OnOutput(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            try { _log.WriteLine(line); }
            catch (ObjectDisposedException) { return; }
        }
        if (ListeningLine().Match(line) is { Success: true } m) _listening.TrySetResult(new Uri(m.Groups[1].Value));
    }

    private static ProcessStartInfo StartInfo(IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(DllPath());
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment) start.Environment[k] = v;
        return start;
    }

    private static void Stop(Process process)
    {
        try
        {
            if (process.HasExited) return;
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
    }

    [GeneratedRegex(@"^Pipeline listening on (\S+) ")]
    private static partial Regex ListeningLine();

    /// <summary>The peak RSS a verb printed (<c>rollup</c>, <c>sweep</c>: "peak RSS of this process: N MiB"), or "?".</summary>
    public static string PeakRssMiB(string output) => PeakRssLine().Match(output) is { Success: true } m ? m.Groups[1].Value : "?";

    /// <summary>The first line of a verb's output that starts with <paramref name="prefix"/> (trimmed), or "?".</summary>
    public static string LineStartingWith(string output, string prefix) =>
        output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) ?? "?";

    [GeneratedRegex(@"peak RSS of this process: ([\d,]+) MiB")]
    private static partial Regex PeakRssLine();
}
