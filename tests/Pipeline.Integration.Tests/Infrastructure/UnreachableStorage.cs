using System.Net;
using System.Net.Sockets;
using Pipeline.Storage;
using Pipeline.Local.Emulator;

namespace Pipeline.Integration.Tests.Infrastructure;

/// <summary>A storage account that is down: a loopback port nothing listens on, with short SDK retries.</summary>
public static class UnreachableStorage
{
    public static PipelineStorageOptions Options()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new PipelineStorageOptions
        {
            ConnectionString = AzuriteRunner.ConnectionStringFor(port, port, port),
            RetryDelay = TimeSpan.FromMilliseconds(10),
            MaxRetryDelay = TimeSpan.FromMilliseconds(50),
        };
    }
}
