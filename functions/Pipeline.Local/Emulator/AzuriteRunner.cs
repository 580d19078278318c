using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

using Pipeline.Storage;

namespace Pipeline.Local.Emulator;

/// <summary>
/// Starts Azurite (Blob, Queue and Table services) from the repository's pinned npm package in
/// <c>tools/azurite</c>, on 127.0.0.1, and stops it again. Used by the local runner and the
/// integration tests. Needs Node.js and npm on the PATH.
/// </summary>
public sealed class AzuriteRunner : IAsyncDisposable
{
    public const int DefaultBlobPort = 10000;
    public const int DefaultQueuePort = 10001;
    public const int DefaultTablePort = 10002;

    /// <summary>The emulator's well-known development account.</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>The emulator's well-known (public) development key.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string Host = "127.0.0.1";
    private const string ToolsFolder = "tools/azurite";
    private const int StderrLimit = 16 * 1024;

    private readonly Process? _process;
    private readonly string? _temporaryLocation;
    private readonly StringBuilder _output;

    private AzuriteRunner(Process? process, int blobPort, int queuePort, int tablePort, string? location, string? temporaryLocation, StringBuilder output)
    {
        _process = process;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
        Location = location;
        _temporaryLocation = temporaryLocation;
        _output = output;
    }

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    /// <summary>Azurite's data folder; null when attached to an Azurite this runner did not start.</summary>
    public string? Location { get; }

    /// <summary>Whether this runner started (and will stop) the process.</summary>
    public bool OwnsProcess => _process is not null;

    /// <summary>Id of the Azurite process this runner started (to stop it as an outage would); null when attached to one it did not start.</summary>
    public int? ProcessId => _process?.Id;

    /// <summary>A connection string for the development account with explicit endpoints on the chosen ports.</summary>
    public string ConnectionString => ConnectionStringFor(BlobPort, QueuePort, TablePort);

    public static string ConnectionStringFor(int blobPort, int queuePort, int tablePort) =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://{Host}:{blobPort}/{AccountName};" +
        $"QueueEndpoint=http://{Host}:{queuePort}/{AccountName};" +
        $"TableEndpoint=http://{Host}:{tablePort}/{AccountName};";

    /// <summary>
    /// An Azurite already listening on the given ports (by default 10000-10002), to reuse instead
    /// of starting another; null when any of the three ports does not accept connections. Only
    /// checks that the ports are open, not what listens on them.
    /// </summary>
    public static async Task<AzuriteRunner?> TryFindRunningAsync(
        int blobPort = DefaultBlobPort, int queuePort = DefaultQueuePort, int tablePort = DefaultTablePort, CancellationToken cancellationToken = default)
    {
        foreach (var port in new[] { blobPort, queuePort, tablePort })
            if (!await AcceptsConnectionsAsync(port, cancellationToken).ConfigureAwait(false)) return null;
        return new AzuriteRunner(null, blobPort, queuePort, tablePort, null, null, new StringBuilder());
    }

    /// <summary>Starts Azurite and waits until its three services accept connections.</summary>
    /// <exception cref="InvalidOperationException">Node.js or npm is missing, the tools folder cannot be found, or Azurite did not start (the message includes its output).</exception>
    public static async Task<AzuriteRunner> StartAsync(AzuriteStartOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tools = options.ToolsPath is { } given ? Path.GetFullPath(given) : FindToolsFolder();
        if (!File.Exists(Path.Combine(tools, "package.json")))
            throw new InvalidOperationException($"No package.json in '{tools}': it must be the repository's {ToolsFolder} folder.");

        var script = Path.Combine(tools, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
        {
            if (!options.InstallIfMissing)
                throw new InvalidOperationException($"Azurite is not installed in '{tools}': run 'npm ci' there.");
            await InstallAsync(tools, cancellationToken).ConfigureAwait(false);
            if (!File.Exists(script))
                throw new InvalidOperationException($"'npm ci' in '{tools}' did not install Azurite ({script} is missing).");
        }

        var temporary = options.Location is null
            ? Path.Combine(Path.GetTempPath(), "pipeline-azurite-" + Guid.NewGuid().ToString("N")[..12])
            : null;
        var location = Path.GetFullPath(options.Location ?? temporary!);
        Directory.CreateDirectory(location);

        // Free ports are picked by binding port 0; Azurite binds them a moment later (a small race, retried below).
        for (var attempt = 1; ; attempt++)
        {
            var blobPort = options.BlobPort != 0 ? options.BlobPort : FreePort();
            var queuePort = options.QueuePort != 0 ? options.QueuePort : FreePort(blobPort);
            var tablePort = options.TablePort != 0 ? options.TablePort : FreePort(blobPort, queuePort);
            try
            {
                return await StartProcessAsync(script, tools, location, temporary, blobPort, queuePort, tablePort, options.StartTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (AzuriteExitedException) when (attempt < 3 && (options.BlobPort == 0 || options.QueuePort == 0 || options.TablePort == 0))
            {
                // Most likely a port taken between picking and binding: pick again.
            }
            catch
            {
                if (temporary is not null) TryDelete(temporary);
                throw;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or OperationCanceledException)
            {
                // Already gone, or not stoppable: nothing more to do.
            }
            _process.Dispose();
        }
        if (_temporaryLocation is not null) TryDelete(_temporaryLocation);
    }

    /// <summary>What Azurite wrote to stdout and stderr (the last 16 KiB), for diagnostics.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    private static async Task<AzuriteRunner> StartProcessAsync(
        string script, string tools, string location, string? temporary,
        int blobPort, int queuePort, int tablePort, TimeSpan startTimeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = tools,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var arg in new[]
        {
            script,
            "--blobHost", Host, "--blobPort", blobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--queueHost", Host, "--queuePort", queuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tableHost", Host, "--tablePort", tablePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--location", location,
            // The SDK may speak a newer service version than this Azurite knows; it is compatible enough.
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node.");
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException("Azurite needs Node.js: 'node' was not found on the PATH. Install Node.js 20 or later (https://nodejs.org).", ex);
        }
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var runner = new AzuriteRunner(process, blobPort, queuePort, tablePort, location, temporary, output);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(startTimeout);
            foreach (var port in new[] { blobPort, queuePort, tablePort })
            {
                while (!await AcceptsConnectionsAsync(port, timeout.Token).ConfigureAwait(false))
                {
                    if (process.HasExited)
                        throw new AzuriteExitedException($"Azurite exited with code {process.ExitCode} before listening on {Host}:{port}. Its output:\n{runner.Output}");
                    await Task.Delay(100, timeout.Token).ConfigureAwait(false);
                }
            }
            return runner;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await runner.DisposeAsyncKeepingLocation().ConfigureAwait(false);
            throw new InvalidOperationException(
                $"Azurite did not accept connections on {Host}:{blobPort}/{queuePort}/{tablePort} within {startTimeout.TotalSeconds:0} s. Its output:\n{runner.Output}");
        }
        catch
        {
            await runner.DisposeAsyncKeepingLocation().ConfigureAwait(false);
            throw;
        }
    }

    // Stops the process but leaves the location to the caller (StartAsync may retry in it).
    private async ValueTask DisposeAsyncKeepingLocation()
    {
        var keep = new AzuriteRunner(_process, BlobPort, QueuePort, TablePort, Location, null, _output);
        await keep.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task InstallAsync(string tools, CancellationToken cancellationToken)
    {
        var npm = OperatingSystem.IsWindows() ? "npm.cmd" : "npm";
        var start = new ProcessStartInfo(npm)
        {
            WorkingDirectory = tools,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var arg in new[] { "ci", "--no-audit", "--no-fund", "--ignore-scripts" }) start.ArgumentList.Add(arg);

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Could not start npm.");
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException(
                $"Azurite is not installed in '{tools}' and npm was not found on the PATH to install it. Install Node.js 20 or later with npm (https://nodejs.org), or run 'npm ci' in that folder.", ex);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"'npm ci' in '{tools}' failed with exit code {process.ExitCode}:\n{await stderr.ConfigureAwait(false)}{await stdout.ConfigureAwait(false)}");
        }
    }

    /// <summary>The nearest <c>tools/azurite</c> above the app's base directory or the current directory.</summary>
    private static string FindToolsFolder()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tools", "azurite");
                if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
            }
        }
        throw new InvalidOperationException(
            $"Could not find {ToolsFolder}/package.json above '{AppContext.BaseDirectory}' or '{Directory.GetCurrentDirectory()}'. Run from inside the repository or pass AzuriteStartOptions.ToolsPath.");
    }

    private static int FreePort(params int[] taken)
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (Array.IndexOf(taken, port) < 0) return port;
        }
    }

    private static async Task<bool> AcceptsConnectionsAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, attempt.Token).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null) return;
        lock (output)
        {
            output.AppendLine(line);
            if (output.Length > StderrLimit) output.Remove(0, output.Length - StderrLimit);
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class AzuriteExitedException(string message) : InvalidOperationException(message);
}
