using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Pipeline.Infra.Tests;

/// <summary>What one run of the bicep CLI printed and returned.</summary>
public sealed record BicepResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    public string Output => StandardOutput + StandardError;

    public override string ToString() => $"`{Command}` exited {ExitCode}{Environment.NewLine}{Output}";
}

/// <summary>
/// The real Bicep CLI, from the pinned NuGet package <c>Azure.Bicep.CommandLine.linux-x64</c>
/// (its folder is baked into this assembly at build time). NuGet does not always keep the
/// executable bit when it extracts a package, so it is set here when missing.
/// </summary>
public static class BicepCli
{
    private static readonly Lazy<string> Executable = new(Locate, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static string ExecutablePath => Executable.Value;

    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    public static string InfraDirectory { get; } = Path.Combine(RepositoryRoot, "infra");

    public static async Task<BicepResult> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(ExecutablePath)
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // Offline and quiet: no telemetry, no update checks.
        start.Environment["BICEP_TRACING_ENABLED"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        var command = "bicep " + string.Join(' ', arguments);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {ExecutablePath}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{command}` did not finish within {Timeout}.");
        }
        return new BicepResult(command, process.ExitCode, await stdout, await stderr);
    }

    private static string Locate()
    {
        var overridden = Environment.GetEnvironmentVariable("BICEP_EXECUTABLE");
        if (!string.IsNullOrEmpty(overridden))
            return File.Exists(overridden) ? overridden : throw new FileNotFoundException($"BICEP_EXECUTABLE points at {overridden}, which does not exist.");

        if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture != Architecture.X64)
            throw new PlatformNotSupportedException(
                "The infra tests run the bicep binary of Azure.Bicep.CommandLine.linux-x64; on another platform set BICEP_EXECUTABLE to a bicep CLI of version 0.49.2.");

        var path = Path.Combine(Metadata("BicepPackageDirectory"), "tools", "bicep");
        if (!File.Exists(path))
            throw new FileNotFoundException($"The bicep executable is not at {path}: restore the test project (dotnet restore) first.");
        return EnsureExecutable(path);
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static string EnsureExecutable(string path)
    {
        const UnixFileMode execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        var mode = File.GetUnixFileMode(path);
        if ((mode & UnixFileMode.UserExecute) != 0) return path;
        try
        {
            File.SetUnixFileMode(path, mode | execute);
            return path;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // A read-only package cache: run a private copy instead.
            var copy = Path.Combine(Path.GetTempPath(), $"bicep-{Environment.ProcessId}", "bicep");
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(path, copy, overwrite: true);
            File.SetUnixFileMode(copy, File.GetUnixFileMode(copy) | execute);
            return copy;
        }
    }

    private static string Metadata(string key) =>
        typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"Assembly metadata '{key}' is missing: the test project sets it at build time.");
}
