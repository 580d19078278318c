using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Hosting;
using Pipeline.Storage;

namespace Pipeline.Local.Hosting;

/// <summary>The pipeline's services without a web host, for the operator verbs (keys, rollup, export).</summary>
internal static class LocalServices
{
    public static async Task<ServiceProvider> StartAsync(IConfiguration configuration, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(configuration); // the operator verbs read LocalQueues settings as serve does
        services.AddPipeline(configuration);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        await provider.GetRequiredService<StorageProvisioner>().EnsureCreatedAsync(cancellationToken);
        return provider;
    }
}
