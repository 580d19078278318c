using Pipeline.Local.Emulator;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// A fault test's own Azurite (free ports, temporary folder) and its <see cref="FaultStorage"/>,
/// fresh for every test: faults such as a killed runner or poisoned messages must not leak into
/// another test's counts.
/// </summary>
public abstract class FreshStorageTest : IAsyncLifetime
{
    protected AzuriteRunner Azurite { get; private set; } = null!;
    protected FaultStorage Storage { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions(), CancellationToken.None);
        Storage = await FaultStorage.OpenAsync(Azurite.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await Storage.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}
