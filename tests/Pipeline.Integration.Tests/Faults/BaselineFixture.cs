using Pipeline.Local.Hosting;
using System.Diagnostics;
using Pipeline.Core.Rollup;
using Pipeline.Integration.Tests.EndToEnd;
using Pipeline.Local.Emulator;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// The uninterrupted run that every fault test is compared with: the same <see cref="FaultDataset"/>
/// sent once through the in-process runner on a clean Azurite of its own, processed, rolled up and
/// read back. Computed once per test run and shared by the <see cref="FaultsCollection"/>.
/// </summary>
public sealed class BaselineFixture : IAsyncLifetime
{
    internal FaultDataset Data { get; } = new(TimeProvider.System);
    internal MetricsSnapshot Expected { get; private set; } = null!;
    public TimeSpan Elapsed { get; private set; }

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        await using var azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions(), CancellationToken.None);
        await using (var host = await PipelineHost.StartAsync(azurite.ConnectionString))
        {
            var key = await host.CreateKeyAsync("faults");
            using var sender = new BatchSender(new Uri(host.Address), key);
            await sender.SendAllAsync(Data.Batches, workers: 4, TimeSpan.FromSeconds(60));
            Assert.Equal(Data.Batches.Count, sender.Attempts); // no fault: every batch accepted at the first try
            await host.WaitForProcessingAsync();
            await host.Get<IServiceProvider>().RunRollupDueAsync(CancellationToken.None);
        }
        Expected = await MetricsSnapshot.TakeAsync(azurite.ConnectionString, Data.ComparedDays, shards: 4);
        Elapsed = clock.Elapsed;

        // The dataset has no duplicate ids, so the clean run stores every event; and it moves the headline metrics.
        Assert.Equal(Data.EventCount, Expected.TotalStored);
        Assert.True(Expected.Value(Data.LastDay, "users.dau|total|") > 5);
        Assert.True(Expected.Value(Data.LastDay, "businesses.orders|total|") > 0);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class FaultsCollection : ICollectionFixture<BaselineFixture>
{
    public const string Name = "faults";
}
