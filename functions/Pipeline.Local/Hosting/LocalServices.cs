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
        // Warnings by default; the Logging section (Logging__LogLevel__Pipeline=Information) shows the handlers'
        // lines too, such as the finaliser's time by phase.
        services.AddLogging(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning).AddConfiguration(configuration.GetSection("Logging")));
        services.AddSingleton(configuration); // the operator verbs read LocalQueues settings as serve does
        services.AddPipeline(configuration);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        await provider.GetRequiredService<StorageProvisioner>().EnsureCreatedAsync(cancellationToken);
        return provider;
    }
}
