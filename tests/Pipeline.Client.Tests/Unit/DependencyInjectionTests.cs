using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Pipeline.Client.Tests.Unit;

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task AddPipelineClient_registers_one_client_on_the_http_client_factory_and_disposing_the_container_flushes()
    {
        var stub = new StubHandler();
        await using var clock = new TestClock();
        var provider = clock.Owns(ContainerWithClient(stub, clock));
        var client = provider.GetRequiredService<IPipelineClient>();
        Assert.Same(client, provider.GetRequiredService<PipelineClient>());
        var view = ClientTestKit.View();
        client.Track(view);
        // The client runs on the container's clock, parked until the event is an hour old: nothing has left.
        await clock.ArmedAsync(TimeSpan.FromHours(1));
        Assert.Empty(stub.Requests);

        await provider.DisposeAsync();
        Assert.Equal([view.EventId], stub.AllEventIds);
        Assert.Equal("http://pipeline.test/api/v1/events", stub.Requests.Single().Uri);
        Assert.Equal(TestClock.Epoch, DateTimeOffset.Parse(stub.Requests.Single().SentAt, System.Globalization.CultureInfo.InvariantCulture));
        Assert.False(client.Track(ClientTestKit.View(2)));
    }

    [Fact]
    public async Task A_container_disposed_synchronously_is_told_to_dispose_asynchronously_instead_of_blocking_on_the_flush()
    {
        var stub = new StubHandler();
        await using var clock = new TestClock();
        var provider = clock.Owns(ContainerWithClient(stub, clock));
        var client = clock.Owns(provider.GetRequiredService<IPipelineClient>());
        Assert.False(client is IDisposable);
        var view = ClientTestKit.View();
        client.Track(view);
        await clock.ArmedAsync(TimeSpan.FromHours(1));

        var error = Assert.Throws<InvalidOperationException>(provider.Dispose);
        Assert.Contains(nameof(PipelineClient), error.Message);
        Assert.Contains("DisposeAsync", error.Message);
        // The refused disposal neither sent nor lost anything: the client flushes when disposed properly.
        Assert.Empty(stub.Requests);
        await client.DisposeAsync();
        Assert.Equal([view.EventId], stub.AllEventIds);
        Assert.Equal(new PipelineClientStatistics(1, 1, 0, 0, 0, 0), client.Statistics);
    }

    [Fact]
    public void Invalid_options_are_reported_when_the_client_is_resolved()
    {
        var services = new ServiceCollection();
        services.AddPipelineClient(o => o.Endpoint = new Uri("http://pipeline.test"));
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IPipelineClient>());
        Assert.Contains("ApiKey", error.Message);
    }

    /// <summary>A container with the client registered on the test clock, sending through <paramref name="stub"/>, flushing only after an hour.</summary>
    private static ServiceProvider ContainerWithClient(StubHandler stub, TestClock clock)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddPipelineClient(o =>
        {
            o.Endpoint = new Uri("http://pipeline.test");
            o.ApiKey = "mpk_test_secret";
            o.MiniProgramId = "wxtest0001";
            o.FlushInterval = TimeSpan.FromHours(1);
        }).ConfigurePrimaryHttpMessageHandler(() => stub);
        return services.BuildServiceProvider();
    }
}
