namespace Pipeline.Client.Tests.Unit;

public sealed class BufferTests
{
    [Fact]
    public async Task When_full_DropOldest_keeps_the_newest_events()
    {
        var stub = new StubHandler();
        await using var client = ClientTestKit.Client(stub, o => o.BufferCapacity = 3);
        var events = Enumerable.Range(0, 5).Select(i => ClientTestKit.View(i)).ToList();
        Assert.All(events, e => Assert.True(client.Track(e)));
        Assert.Equal(2, client.Statistics.Dropped);

        await client.FlushAsync();
        Assert.Equal(events.Skip(2).Select(e => e.EventId), stub.AllEventIds);
        Assert.Equal(new PipelineClientStatistics(5, 3, 0, 0, 2, 0), client.Statistics);
    }

    [Fact]
    public async Task When_full_DropNewest_refuses_new_events()
    {
        var stub = new StubHandler();
        await using var client = ClientTestKit.Client(stub, o => { o.BufferCapacity = 3; o.BufferFullMode = BufferFullMode.DropNewest; });
        var events = Enumerable.Range(0, 5).Select(i => ClientTestKit.View(i)).ToList();
        Assert.Equal([true, true, true, false, false], events.Select(client.Track));

        await client.FlushAsync();
        Assert.Equal(events.Take(3).Select(e => e.EventId), stub.AllEventIds);
        Assert.Equal(new PipelineClientStatistics(3, 3, 0, 0, 2, 0), client.Statistics);
    }

    [Fact]
    public async Task Flush_waits_for_the_batch_in_flight()
    {
        var release = new TaskCompletionSource();
        var stub = new StubHandler(async (r, _) => { await release.Task; return StubHandler.Accept(r); });
        await using var client = ClientTestKit.Client(stub);
        client.Track(ClientTestKit.View());
        var flush = client.FlushAsync();
        await ClientTestKit.EventuallyAsync(() => stub.Requests.Count == 1);
        await Task.Delay(50);
        Assert.False(flush.IsCompleted);
        Assert.Equal(1, client.Statistics.Buffered);

        release.SetResult();
        await flush.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, client.Statistics.Sent);
    }

    [Fact]
    public async Task Disposing_sends_what_is_buffered_and_later_events_are_dropped()
    {
        var stub = new StubHandler();
        var client = ClientTestKit.Client(stub);
        var events = Enumerable.Range(0, 3).Select(i => ClientTestKit.View(i)).ToList();
        foreach (var e in events) client.Track(e);
        Assert.Empty(stub.Requests);

        await client.DisposeAsync();
        Assert.Equal(events.Select(e => e.EventId), stub.AllEventIds);
        Assert.False(client.Track(ClientTestKit.View(4)));
        Assert.Equal(new PipelineClientStatistics(3, 3, 0, 0, 1, 0), client.Statistics);
    }

    [Fact]
    public async Task Disposing_gives_up_after_the_shutdown_timeout_and_counts_what_is_left()
    {
        var stub = new StubHandler((_, _) => Task.FromResult(StubHandler.Error(System.Net.HttpStatusCode.ServiceUnavailable, "storage_unavailable", retryAfter: "10")));
        var client = ClientTestKit.Client(stub, o => { o.ShutdownTimeout = TimeSpan.FromMilliseconds(300); o.MaxRetryDelay = TimeSpan.FromSeconds(20); });
        client.Track(ClientTestKit.View(1));
        client.Track(ClientTestKit.View(2));

        var started = DateTimeOffset.UtcNow;
        await client.DisposeAsync();
        Assert.InRange((DateTimeOffset.UtcNow - started).TotalSeconds, 0.25, 5);
        var stats = client.Statistics;
        Assert.Equal(2, stats.Dropped);
        Assert.Equal(stats.Tracked, stats.Sent + stats.Rejected + stats.Dropped);
    }
}
