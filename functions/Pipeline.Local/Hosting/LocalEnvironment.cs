using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Pipeline.Local.Emulator;

namespace Pipeline.Local.Hosting;

/// <summary>
/// Everything a local verb needs before it can run: configuration (environment variables with
/// the same names as the Azure app settings), a storage account (the configured one, or Azurite
/// started from the repo's pinned npm package), and a pseudonymisation key for local use.
/// Disposing stops what it started.
/// </summary>
internal sealed class LocalEnvironment : IAsyncDisposable
{
    private readonly AzuriteRunner? _azurite;

    private LocalEnvironment(IConfiguration configuration, AzuriteRunner? azurite, string storageDescription)
    {
        Configuration = configuration;
        _azurite = azurite;
        StorageDescription = storageDescription;
    }

    public IConfiguration Configuration { get; }

    /// <summary>Where the data lives, for people.</summary>
    public string StorageDescription { get; }

    /// <summary>The folder for the runner's own files (<c>.local/</c> at the repo root; ignored by git).</summary>
    public static string LocalDataDirectory => Path.Combine(RepoRoot() ?? Directory.GetCurrentDirectory(), ".local");

    /// <param name="freshStorage">A throw-away Azurite on free ports (the demo), instead of the persistent one on the default ports that serve, keys, rollup and export share.</param>
    public static async Task<LocalEnvironment> StartAsync(bool freshStorage, CancellationToken cancellationToken)
    {
        var environment = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        var overrides = new Dictionary<string, string?>();

        if (string.IsNullOrEmpty(environment["Pipeline:PseudonymisationKey"]))
            overrides["Pipeline:PseudonymisationKey"] = LocalPseudonymisationKey();

        AzuriteRunner? azurite = null;
        string description;
        // A connection string, or the identity-based PipelineStorage__blobServiceUri (etc.) of an Azure account.
        var configured = !string.IsNullOrEmpty(environment.GetConnectionString("PipelineStorage"))
            || !string.IsNullOrEmpty(environment["PipelineStorage"])
            || environment.GetSection("PipelineStorage").GetChildren().Any();
        if (configured && !freshStorage)
        {
            description = "the storage account configured in PipelineStorage";
        }
        else if (!freshStorage && await AzuriteRunner.TryFindRunningAsync(cancellationToken: cancellationToken) is not null)
        {
            overrides["PipelineStorage"] = AzuriteRunner.ConnectionStringFor(AzuriteRunner.DefaultBlobPort, AzuriteRunner.DefaultQueuePort, AzuriteRunner.DefaultTablePort);
            description = "Azurite already running on 127.0.0.1:10000-10002";
        }
        else
        {
            var location = freshStorage
                ? null
                : Path.Combine(LocalDataDirectory, "azurite");
            Console.Error.WriteLine(freshStorage
                ? "Starting a fresh Azurite for this run…"
                : $"Starting Azurite (data in {location})…");
            azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions
            {
                Location = location,
                BlobPort = freshStorage ? 0 : 10000,
                QueuePort = freshStorage ? 0 : 10001,
                TablePort = freshStorage ? 0 : 10002,
            }, cancellationToken);
            overrides["PipelineStorage"] = azurite.ConnectionString;
            description = freshStorage
                ? $"a fresh Azurite on 127.0.0.1:{azurite.BlobPort}-{azurite.TablePort} (data in {azurite.Location})"
                : $"Azurite on 127.0.0.1:{azurite.BlobPort}-{azurite.TablePort} (data in {azurite.Location})";
        }

        var configuration = new ConfigurationBuilder()
            .AddConfiguration(environment)
            .AddInMemoryCollection(overrides)
            .Build();
        return new LocalEnvironment(configuration, azurite, description);
    }

    public async ValueTask DisposeAsync()
    {
        if (_azurite is not null) await _azurite.DisposeAsync();
    }

    /// <summary>The folder holding <c>Pipeline.sln</c>, searched upwards from the working directory and from the program.</summary>
    public static string? RepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        }
        return null;
    }

    // Locally, a random key kept in .local/ (never in git) keeps pseudonyms stable between runs.
    private static string LocalPseudonymisationKey()
    {
        var path = Path.Combine(LocalDataDirectory, "pseudonymisation.key");
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        Directory.CreateDirectory(LocalDataDirectory);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
        File.WriteAllText(path, key);
        return key;
    }
}
