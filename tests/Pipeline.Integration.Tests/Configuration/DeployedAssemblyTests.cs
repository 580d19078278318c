namespace Pipeline.Integration.Tests.Configuration;

/// <summary>
/// What is deployed to Azure (the Functions app and the libraries it references) holds no local-runner
/// tools: the Azurite launcher and the polling queue listener live in Pipeline.Local, whose job the
/// Functions host does itself in Azure.
/// </summary>
public sealed class DeployedAssemblyTests
{
    [Fact]
    public void The_Azurite_launcher_and_the_local_queue_listener_are_not_in_the_deployed_assemblies()
    {
        var deployed = new[]
        {
            typeof(Pipeline.Functions.Triggers.ProcessBatch).Assembly,
            typeof(Pipeline.Hosting.PipelineServiceCollectionExtensions).Assembly,
            typeof(Pipeline.Storage.StorageNames).Assembly,
            typeof(Pipeline.Core.PipelineOptions).Assembly,
        };
        var local = new[] { typeof(Pipeline.Local.Emulator.AzuriteRunner), typeof(Pipeline.Local.Queues.QueueListener) };

        foreach (var assembly in deployed)
            foreach (var tool in local)
                Assert.DoesNotContain(assembly.GetTypes(), t => t.Name == tool.Name);
        Assert.All(local, t => Assert.Equal("pipeline", t.Assembly.GetName().Name));
    }
}
