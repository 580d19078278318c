using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Pipeline.Storage;
using Pipeline.Local.Emulator;

namespace Pipeline.Integration.Tests.Infrastructure;

/// <summary>
/// One Azurite for the whole test run, started from the repository's pinned npm package on free
/// ports of 127.0.0.1 with a temporary data folder, and provisioned with every container, queue
/// and table. Tests share it, so each uses its own names (sources, days, batch ids, queues).
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteRunner? _azurite;

    public AzuriteRunner Azurite => _azurite ?? throw new InvalidOperationException("Azurite is not started.");

    public string ConnectionString => Azurite.ConnectionString;

    public PipelineStorageOptions Options { get; private set; } = null!;
    public BlobServiceClient Blobs { get; private set; } = null!;
    public QueueServiceClient Queues { get; private set; } = null!;
    public TableServiceClient Tables { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3)); // includes an 'npm ci' on a fresh clone
        _azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions(), timeout.Token);
        Options = new PipelineStorageOptions { ConnectionString = _azurite.ConnectionString };
        Blobs = Options.CreateBlobServiceClient();
        Queues = Options.CreateQueueServiceClient();
        Tables = Options.CreateTableServiceClient();
        await new StorageProvisioner(Blobs, Queues, Tables).EnsureCreatedAsync(timeout.Token);
    }

    public async Task DisposeAsync()
    {
        if (_azurite is not null) await _azurite.DisposeAsync();
    }

    /// <summary>A name no other test uses: <paramref name="prefix"/> and 10 random lower-case hex digits.</summary>
    public static string Unique(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..(prefix.Length + 10)];

    private static int _dayCounter;

    /// <summary>A reporting day no other test of this run uses (each run has its own Azurite data folder).</summary>
    public static DateOnly UniqueDay() => new DateOnly(2100, 1, 1).AddDays(Interlocked.Increment(ref _dayCounter) * 2);
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}
