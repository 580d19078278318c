using System.Globalization;

namespace Pipeline.Client.Tests.Unit;

public sealed class BatchingTests
{
    [Fact]
    public async Task A_batch_leaves_as_soon_as_it_has_MaxBatchEvents_and_the_rest_waits()
    {
        var stub = new StubHandler();
        await using var client = ClientTestKit.Client(stub, o => o.MaxBatchEvents = 10);
        var events = Enumerable.Range(0, 25).Select(i => ClientTestKit.View(i)).ToList();
        foreach (var e in events) Assert.True(client.Track(e));

        await ClientTestKit.EventuallyAsync(() => stub.Requests.Count == 2);
        await Task.Delay(100);
        Assert.Equal(2, stub.Requests.Count); // the last 5 wait for the interval (an hour here)
        Assert.Equal(5, client.Statistics.Buffered);

        await client.FlushAsync();
        Assert.Equal([10, 10, 5], stub.Requests.Select(r => r.EventIds.Count));
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
        var stub = new StubHandler();
        await using var client = ClientTestKit.Client(stub, o => o.FlushInterval = TimeSpan.FromMilliseconds(300));
        var tracked = DateTimeOffset.UtcNow;
        client.Track(ClientTestKit.View(1));
        client.Track(ClientTestKit.View(2));

        await ClientTestKit.EventuallyAsync(() => !stub.Requests.IsEmpty);
        var request = stub.Requests.Single();
        Assert.Equal(2, request.EventIds.Count);
        Assert.True(request.At - tracked >= TimeSpan.FromMilliseconds(290), $"sent after {(request.At - tracked).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Requests_are_gzipped_json_with_the_key_and_sentAt_stamped_at_send()
    {
        var stub = new StubHandler();
        await using var client = ClientTestKit.Client(stub);
        client.Track(new PageView { UserId = "u1", SessionId = "s1", Page = "/p", Timestamp = DateTimeOffset.UtcNow.AddMinutes(-5) });
        await Task.Delay(50);
        var beforeSend = DateTimeOffset.UtcNow;
        await client.FlushAsync();

        var request = stub.Requests.Single();
        Assert.Equal("gzip", request.ContentEncoding);
        Assert.Equal("application/json; charset=utf-8", request.ContentType);
        Assert.Equal("mpk_test_secret", request.ApiKey);
        var sentAt = DateTimeOffset.Parse(request.SentAt, CultureInfo.InvariantCulture);
        Assert.InRange(sentAt, beforeSend.AddMilliseconds(-1), request.At.AddMilliseconds(1));
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
