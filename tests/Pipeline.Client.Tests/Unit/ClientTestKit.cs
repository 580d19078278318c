namespace Pipeline.Client.Tests.Unit;

internal static class ClientTestKit
{
    public static PipelineClientOptions Options(Action<PipelineClientOptions>? configure = null)
    {
        var options = new PipelineClientOptions
        {
            Endpoint = new Uri("http://pipeline.test/"),
            ApiKey = "mpk_test_secret",
            MiniProgramId = "wxtest0001",
            // Nothing leaves by age unless a test asks for it.
            FlushInterval = TimeSpan.FromHours(1),
            RetryBaseDelay = TimeSpan.FromMilliseconds(5),
            MaxRetryDelay = TimeSpan.FromSeconds(3),
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A client on the stub, on the system's clock.</summary>
    public static PipelineClient Client(StubHandler stub, Action<PipelineClientOptions>? configure = null) =>
        new(new HttpClient(stub), Options(configure));

    /// <summary>A client on the stub and the given clock, which disposes it at the end of the test.</summary>
    public static PipelineClient Client(StubHandler stub, Action<PipelineClientOptions>? configure, TestClock clock) =>
        clock.Owns(new PipelineClient(new HttpClient(stub), Options(configure), timeProvider: clock));

    /// <inheritdoc cref="Client(StubHandler, Action{PipelineClientOptions}?, TestClock)"/>
    public static PipelineClient Client(StubHandler stub, TestClock clock) => Client(stub, null, clock);

    public static PageView View(int i = 0, string? extra = null) => new()
    {
        UserId = "u1",
        SessionId = "s1",
        Page = $"/pages/p{i}",
        DurationMs = 1000,
        ExtraProps = extra is null ? null : new Dictionary<string, System.Text.Json.Nodes.JsonNode?> { ["pad"] = extra },
    };

    /// <summary>
    /// Waits (bounded) until the condition holds: for what must happen, never to show that
    /// something did not (for that, park the client on a <see cref="TestClock"/> and move it).
    /// </summary>
    public static async Task EventuallyAsync(Func<bool> condition, int timeoutMs = 5000)
    {
        var until = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("The condition did not hold in time.");
            await Task.Delay(10);
        }
    }
}
