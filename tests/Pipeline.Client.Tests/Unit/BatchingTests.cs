using System.Globalization;

namespace Pipeline.Client.Tests.Unit;

public sealed class BatchingTests
{
    [Fact]
    public async Task A_batch_leaves_as_soon_as_it_has_MaxBatchEvents_and_the_rest_waits()
    {
        await using var clock = new TestClock();
        var stub = new StubHandler();
        var client = ClientTestKit.Client(stub, o => o.MaxBatchEvents = 10, clock);
        var events = Enumerable.Range(0, 25).Select(i => ClientTestKit.View(i)).ToList();
        foreach (var e in events) Assert.True(client.Track(e));

        await ClientTestKit.EventuallyAsync(() => stub.Requests.Count == 2);
        // The last 5 wait for the interval (an hour here): the client parks on a timer for exactly
        // that, and an hour less a tick later no timer has fired, so nothing can have left.
        var interval = await clock.ArmedAsync(TimeSpan.FromHours(1));
        var fired = clock.Fired;
        clock.Advance(TimeSpan.FromHours(1) - TestClock.Tick);
        Assert.Equal(fired, clock.Fired);
        Assert.Equal(2, stub.Requests.Count);
        Assert.Equal(5, client.Statistics.Buffered);

        clock.Advance(TestClock.Tick);
        Assert.True(interval.Fired);
        await ClientTestKit.EventuallyAsync(() => stub.Requests.Count == 3); // by the interval alone
        await client.FlushAsync(); // for the counters: the answer is counted after the request
        Assert.Equal([10, 10, 5], stub.Requests.Select(r => r.EventIds.Count));
        Assert.Equal(TestClock.Epoch.AddHours(1), DateTimeOffset.Parse(stub.Requests.Last().SentAt, CultureInfo.InvariantCulture));
        Assert.Equal(events.Select(e => e.EventId), stub.AllEventIds);
        Assert.Equal(new PipelineClientStatistics(25, 25, 0, 0, 0, 0), client.Statistics);
    }

    [Fact]
    public async Task A_batch_stays_under_MaxBatchBytes()
    {
        var stub = new StubHandler();
        await using var client = ClientTestKit.Client(stub, o => o.MaxBatchBytes = 32 * 1024);
        var events = Enumerable.Range(0, 10).Select(i => ClientTestKit.View(i, extra: new string('x', 10_000))).ToList();
        foreach (var e in events) client.Track(e);
        await client.FlushAsync();

        // Each event is about 10 KB of JSON: three fit in 32 KiB, four do not.
        Assert.Equal([3, 3, 3, 1], stub.Requests.Select(r => r.EventIds.Count));
        Assert.All(stub.Requests, r => Assert.True(r.Body.Length <= 32 * 1024 + 64, $"body of {r.Body.Length} bytes"));
        Assert.Equal(events.Select(e => e.EventId), stub.AllEventIds);
    }

    [Fact]
    public async Task A_partial_batch_leaves_when_its_oldest_event_has_waited_FlushInterval()
    {
        await using var clock = new TestClock();
        var stub = new StubHandler();
        var client = ClientTestKit.Client(stub, o => o.FlushInterval = TimeSpan.FromMilliseconds(300), clock);
        client.Track(ClientTestKit.View(1));
        var interval = await clock.ArmedAsync(TimeSpan.FromMilliseconds(300));

        // A younger event does not restart the wait: the oldest one's age counts.
        clock.Advance(TimeSpan.FromMilliseconds(200));
        client.Track(ClientTestKit.View(2));
        var fired = clock.Fired;
        clock.Advance(TimeSpan.FromMilliseconds(100) - TestClock.Tick);
        Assert.Equal(fired, clock.Fired);
        Assert.Empty(stub.Requests);
        Assert.Equal(2, client.Statistics.Buffered);

        clock.Advance(TestClock.Tick);
        Assert.True(interval.Fired);
        await ClientTestKit.EventuallyAsync(() => !stub.Requests.IsEmpty);
        var request = stub.Requests.Single();
        Assert.Equal(2, request.EventIds.Count);
        Assert.Equal(TestClock.Epoch.AddMilliseconds(300), DateTimeOffset.Parse(request.SentAt, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Requests_are_gzipped_json_with_the_key_and_sentAt_stamped_at_send()
    {
        await using var clock = new TestClock();
        var stub = new StubHandler();
        var client = ClientTestKit.Client(stub, clock);
        client.Track(new PageView { UserId = "u1", SessionId = "s1", Page = "/p", Timestamp = TestClock.Epoch.AddMinutes(-5) });
        clock.Advance(TimeSpan.FromMilliseconds(50)); // the event waits in the buffer
        await client.FlushAsync();

        var request = stub.Requests.Single();
        Assert.Equal("gzip", request.ContentEncoding);
        Assert.Equal("application/json; charset=utf-8", request.ContentType);
        Assert.Equal("mpk_test_secret", request.ApiKey);
        // sentAt is the client's clock when the request left, not when the event was tracked; the event keeps its own timestamp.
        Assert.Equal(TestClock.Epoch.AddMilliseconds(50), DateTimeOffset.Parse(request.SentAt, CultureInfo.InvariantCulture));
        using var json = request.Json;
        Assert.Equal("2026-03-02T08:55:00.000Z", json.RootElement.GetProperty("events")[0].GetProperty("timestamp").GetString());
    }

    [Fact]
    public async Task Gzip_can_be_turned_off()
    {
        var stub = new StubHandler();
        await using var client = ClientTestKit.Client(stub, o => o.Gzip = false);
        client.Track(ClientTestKit.View());
        await client.FlushAsync();
        Assert.Null(stub.Requests.Single().ContentEncoding);
        Assert.Single(stub.Requests.Single().EventIds);
    }
}
