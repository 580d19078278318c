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
        await using var clock = new TestClock();
        var inFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource();
        var stub = new StubHandler(async (r, ct) => { inFlight.SetResult(); await release.Task.WaitAsync(ct); return StubHandler.Accept(r); });
        var client = ClientTestKit.Client(stub, clock);
        client.Track(ClientTestKit.View());
        var flush = client.FlushAsync();
        await inFlight.Task.WaitAsync(TimeSpan.FromSeconds(5));
        // The stub holds the request. The attempt may take up to AttemptTimeout (30 s); until then no
        // timer fires, and the flush still waits.
        var fired = clock.Fired;
        clock.Advance(TimeSpan.FromSeconds(30) - TestClock.Tick);
        Assert.Equal(fired, clock.Fired);
        Assert.False(flush.IsCompleted);
        Assert.Equal(1, client.Statistics.Buffered);

        release.SetResult();
        await flush.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Single(stub.Requests);
        Assert.Equal(new PipelineClientStatistics(1, 1, 0, 0, 0, 0), client.Statistics);
    }

    [Fact]
    public async Task Disposing_sends_what_is_buffered_and_later_events_are_dropped()
    {
        await using var clock = new TestClock();
        var stub = new StubHandler();
        var client = ClientTestKit.Client(stub, clock);
        var events = Enumerable.Range(0, 3).Select(i => ClientTestKit.View(i)).ToList();
        foreach (var e in events) client.Track(e);
        // Parked until the oldest event is an hour old: nothing has left.
        await clock.ArmedAsync(TimeSpan.FromHours(1));
        Assert.Empty(stub.Requests);

        await client.DisposeAsync();
        Assert.Equal(events.Select(e => e.EventId), stub.AllEventIds);
        Assert.Equal(TestClock.Epoch, DateTimeOffset.Parse(stub.Requests.Single().SentAt, System.Globalization.CultureInfo.InvariantCulture)); // at once, not after the interval
        Assert.False(client.Track(ClientTestKit.View(4)));
        Assert.Equal(new PipelineClientStatistics(3, 3, 0, 0, 1, 0), client.Statistics);
        await client.FlushAsync(); // after disposal: nothing to wait for
        await client.DisposeAsync(); // again: nothing to do
    }

    [Fact]
    public async Task Disposing_gives_up_after_the_shutdown_timeout_and_counts_what_is_left()
    {
        await using var clock = new TestClock();
        var stub = new StubHandler((_, _) => Task.FromResult(StubHandler.Error(System.Net.HttpStatusCode.ServiceUnavailable, "storage_unavailable", retryAfter: "10")));
        var client = ClientTestKit.Client(stub, o => { o.ShutdownTimeout = TimeSpan.FromMilliseconds(300); o.MaxRetryDelay = TimeSpan.FromSeconds(20); }, clock);
        client.Track(ClientTestKit.View(1));
        client.Track(ClientTestKit.View(2));

        var disposing = client.DisposeAsync().AsTask();
        // Disposal sends the batch at once; the 503 asks for 10 s, longer than disposal waits (300 ms).
        var shutdown = await clock.ArmedAsync(TimeSpan.FromMilliseconds(300));
        var retry = await clock.ArmedAsync(d => d >= TimeSpan.FromSeconds(10) && d <= TimeSpan.FromSeconds(11));
        var fired = clock.Fired;
        clock.Advance(TimeSpan.FromMilliseconds(300) - TestClock.Tick);
        Assert.Equal(fired, clock.Fired);
        Assert.False(disposing.IsCompleted);

        clock.Advance(TestClock.Tick);
        await disposing.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(shutdown.Fired);
        Assert.False(retry.Fired);
        Assert.Single(stub.Requests); // the retry never went out
        var stats = client.Statistics;
        Assert.Equal(2, stats.Dropped);
        Assert.Equal(0, stats.Buffered);
        Assert.Equal(stats.Tracked, stats.Sent + stats.Rejected + stats.Dropped);
    }

    [Fact]
    public async Task Concurrent_tracking_into_a_small_buffer_counts_every_event_and_keeps_each_callers_order()
    {
        var stub = new StubHandler();
        await using var client = ClientTestKit.Client(stub, o => { o.BufferCapacity = 50; o.MaxBatchEvents = 20; });
        var callers = Enumerable.Range(0, 4)
            .Select(t => Enumerable.Range(0, 2000).Select(i => new PageView { UserId = $"u{t}", SessionId = "s1", Page = $"/p{i}" }).ToList())
            .ToList();
        await Task.WhenAll(callers.Select(events => Task.Run(() =>
        {
            foreach (var e in events) Assert.True(client.Track(e)); // DropOldest never refuses
        })));
        await client.FlushAsync();

        var stats = client.Statistics;
        Assert.Equal(8000, stats.Tracked);
        Assert.Equal(0, stats.Buffered);
        Assert.Equal(stats.Tracked, stats.Sent + stats.Dropped);
        var sent = stub.AllEventIds;
        Assert.Equal(stats.Sent, sent.Count);
        Assert.Equal(sent.Count, sent.Distinct().Count());
        Assert.All(stub.Requests, r => Assert.InRange(r.EventIds.Count, 1, 20));
        var position = sent.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        foreach (var events in callers)
        {
            var arrived = events.Where(e => position.ContainsKey(e.EventId)).Select(e => position[e.EventId]).ToList();
            Assert.Equal(arrived.Order(), arrived); // first in, first out
        }
    }
}
