using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Core;
using Pipeline.Core.Ports;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Local.Emulator;
using Pipeline.Storage.Resilience;

namespace Pipeline.Integration.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class WiringTests(AzuriteFixture azurite)
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public async Task AddPipelineStorage_resolves_every_port_and_provisions_idempotently()
    {
        var services = new ServiceCollection().AddLogging();
        var config = Config(
            ("ConnectionStrings:PipelineStorage", azurite.ConnectionString),
            ("Pipeline:PseudonymisationKey", new string('k', 32)));
        services.AddPipelineCore(config).AddPipelineStorage(config);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        Assert.IsType<ResilientLandingStore>(provider.GetRequiredService<ILandingStore>());
        Assert.IsType<ResilientProcessingQueue>(provider.GetRequiredService<IProcessingQueue>());
        foreach (var port in new[] { typeof(IRejectedEventStore), typeof(IIngestKeyStore), typeof(IEventStore),
                     typeof(IDirtyDayLedger), typeof(IFoldedDayLedger), typeof(IRollupStateStore), typeof(IMetricsStore), typeof(IExportStore),
                     typeof(IMetricsReader), typeof(IRestatementStore) })
            Assert.NotNull(provider.GetRequiredService(port));
        Assert.Same(provider.GetRequiredService<IEventStore>(), provider.GetRequiredService<IEventStore>());
        Assert.Equal(16, provider.GetRequiredService<IOptions<PipelineOptions>>().Value.EventStoreShards);

        // The service clients are Microsoft.Extensions.Azure's default clients, made once.
        Assert.Same(provider.GetRequiredService<BlobServiceClient>(), provider.GetRequiredService<IAzureClientFactory<BlobServiceClient>>().CreateClient("Default"));
        Assert.Same(provider.GetRequiredService<QueueServiceClient>(), provider.GetRequiredService<QueueServiceClient>());
        Assert.Equal(azurite.Azurite.TablePort, provider.GetRequiredService<TableServiceClient>().Uri.Port);

        await provider.GetRequiredService<StorageProvisioner>().EnsureCreatedAsync(CancellationToken.None);
        await provider.GetRequiredService<StorageProvisioner>().EnsureCreatedAsync(CancellationToken.None);
    }

    [Fact]
    public void The_whole_pipeline_registers_one_clock_and_resolves_every_endpoint()
    {
        var services = new ServiceCollection().AddLogging();
        Pipeline.Hosting.PipelineServiceCollectionExtensions.AddPipeline(services, Config(
            ("ConnectionStrings:PipelineStorage", azurite.ConnectionString),
            ("Pipeline:PseudonymisationKey", new string('k', 32))));

        Assert.Single(services, d => d.ServiceType == typeof(TimeProvider));
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        foreach (var endpoint in new[] { typeof(Pipeline.Hosting.Endpoints.Http.IngestEndpoint), typeof(Pipeline.Hosting.Endpoints.Metrics.MetricsQueryEndpoint),
                     typeof(Pipeline.Hosting.Endpoints.Metrics.RestatementsEndpoint), typeof(Pipeline.Hosting.Endpoints.Metrics.CatalogEndpoint), typeof(Pipeline.Hosting.Endpoints.OpenApi.OpenApiEndpoint) })
            Assert.NotNull(provider.GetRequiredService(endpoint));
    }

    [Fact]
    public void Invalid_pipeline_options_and_missing_storage_fail_at_start()
    {
        var services = new ServiceCollection().AddLogging();
        var config = Config(("Pipeline:PseudonymisationKey", "short"), ("Sweep:MaxSweeps", "0"));
        services.AddPipelineCore(config).AddPipelineStorage(config);
        using var provider = services.BuildServiceProvider();

        var pipeline = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PipelineOptions>>().Value);
        Assert.Contains("PseudonymisationKey", pipeline.Message);
        var storage = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PipelineStorageOptions>>().Value);
        Assert.Contains("ConnectionStrings:PipelineStorage", storage.Message);
        // Each module's options keep their own precise message.
        var sweep = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<Pipeline.Core.Sweep.SweepOptions>>().Value);
        Assert.Equal("Sweep:MaxSweeps must be at least 1; got 0.", sweep.Message);
    }

    [Fact]
    public void Storage_options_read_every_configuration_form()
    {
        Assert.Equal("UseDevelopmentStorage=true",
            PipelineStorageOptions.FromConfiguration(Config(("PipelineStorage", "UseDevelopmentStorage=true"))).ConnectionString);
        Assert.Equal("A", PipelineStorageOptions.FromConfiguration(Config(("ConnectionStrings:PipelineStorage", "A"), ("PipelineStorage", "B"))).ConnectionString);

        var identity = PipelineStorageOptions.FromConfiguration(Config(
            ("PipelineStorage:blobServiceUri", "https://acct.blob.core.windows.net"),
            ("PipelineStorage:queueServiceUri", "https://acct.queue.core.windows.net"),
            ("PipelineStorage:tableServiceUri", "https://acct.table.core.windows.net"),
            ("PipelineStorage:clientId", "00000000-0000-0000-0000-000000000001")));
        Assert.False(identity.UsesConnectionString);
        Assert.True(identity.IsConfigured);
        Assert.Equal(new Uri("https://acct.queue.core.windows.net"), identity.QueueServiceUri);
        Assert.Equal("00000000-0000-0000-0000-000000000001", identity.ManagedIdentityClientId);
        Assert.Equal("https://acct.table.core.windows.net/", identity.CreateTableServiceClient().Uri.ToString());

        // Through the container too: identity-based clients made by the client factory, no connection string.
        var services = new ServiceCollection().AddLogging();
        var config = Config(
            ("PipelineStorage:blobServiceUri", "https://acct.blob.core.windows.net"),
            ("PipelineStorage:queueServiceUri", "https://acct.queue.core.windows.net"),
            ("PipelineStorage:tableServiceUri", "https://acct.table.core.windows.net"),
            ("Pipeline:PseudonymisationKey", new string('k', 32)));
        using var provider = services.AddPipelineCore(config).AddPipelineStorage(config).BuildServiceProvider();
        Assert.Equal("https://acct.queue.core.windows.net/", provider.GetRequiredService<QueueServiceClient>().Uri.ToString());
        Assert.Equal("acct", provider.GetRequiredService<BlobServiceClient>().AccountName);

        var byName = PipelineStorageOptions.FromConfiguration(Config(("PipelineStorage:accountName", "acct")));
        Assert.Equal(new Uri("https://acct.blob.core.windows.net"), byName.BlobServiceUri);
        Assert.True(byName.IsConfigured);
    }

    [Fact]
    public async Task A_running_Azurite_can_be_found_by_its_ports()
    {
        var found = await AzuriteRunner.TryFindRunningAsync(azurite.Azurite.BlobPort, azurite.Azurite.QueuePort, azurite.Azurite.TablePort);
        Assert.NotNull(found);
        Assert.False(found.OwnsProcess);
        Assert.Equal(azurite.ConnectionString, found.ConnectionString);
        await found.DisposeAsync(); // does not stop the fixture's Azurite
        Assert.NotNull(await AzuriteRunner.TryFindRunningAsync(azurite.Azurite.BlobPort, azurite.Azurite.QueuePort, azurite.Azurite.TablePort));
    }
}
