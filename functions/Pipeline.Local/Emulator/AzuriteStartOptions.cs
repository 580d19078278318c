using Pipeline.Storage;

namespace Pipeline.Local.Emulator;

/// <summary>How <see cref="AzuriteRunner"/> starts Azurite.</summary>
public sealed class AzuriteStartOptions
{
    /// <summary>The folder holding Azurite's <c>package.json</c> (the repository's <c>tools/azurite</c>); null to search for it upwards from the app's and the current directory.</summary>
    public string? ToolsPath { get; set; }

    /// <summary>Where Azurite keeps its data; null for a temporary folder deleted on dispose (a given folder is kept).</summary>
    public string? Location { get; set; }

    /// <summary>Ports on 127.0.0.1; 0 picks a free port.</summary>
    public int BlobPort { get; set; }
    public int QueuePort { get; set; }
    public int TablePort { get; set; }

    /// <summary>How long to wait for the three services to accept connections.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Run <c>npm ci</c> in the tools folder when Azurite is not installed there yet.</summary>
    public bool InstallIfMissing { get; set; } = true;

    /// <summary>Ports 10000-10002, Azurite's defaults (what <c>UseDevelopmentStorage=true</c> points at).</summary>
    public static AzuriteStartOptions DefaultPorts(string? location = null) =>
        new() { BlobPort = AzuriteRunner.DefaultBlobPort, QueuePort = AzuriteRunner.DefaultQueuePort, TablePort = AzuriteRunner.DefaultTablePort, Location = location };
}
