using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Pipeline.Client.Tests.Unit;

public sealed class RetryTests
{
    [Fact]
    public async Task A_503_is_retried_with_the_same_event_ids_and_a_new_sentAt()
    {
        var stub = new StubHandler();
        stub.Answer = (r, _) => Task.FromResult(r.Number == 1 ? StubHandler.Error(HttpStatusCode.ServiceUnavailable, "storage_unavailable") : StubHandler.Accept(r));
        await using var client = ClientTestKit.Client(stub);
        var events = Enumerable.Range(0, 3).Select(i => ClientTestKit.View(i)).ToList();
        foreach (var e in events) client.Track(e);
        await client.FlushAsync();

        var requests = stub.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal(events.Select(e => e.EventId), requests[0].EventIds);
        Assert.Equal(requests[0].EventIds, requests[1].EventIds);
        // sentAt is stamped for each attempt, after the previous one was answered.
        Assert.True(DateTimeOffset.Parse(requests[1].SentAt) >= requests[0].At.AddMilliseconds(-1));
        Assert.Equal(new PipelineClientStatistics(3, 3, 0, 3, 0, 0), client.Statistics);
    }

    [Fact]
    public async Task A_429_with_Retry_After_waits_as_asked()
    {
        await using var clock = new TestClock();
        var stub = new StubHandler();
        stub.Answer = (r, _) => Task.FromResult(r.Number == 1 ? StubHandler.Error(HttpStatusCode.TooManyRequests, "rate_limited", retryAfter: "1") : StubHandler.Accept(r));
        var client = ClientTestKit.Client(stub, clock);
        client.Track(ClientTestKit.View());
        var flush = client.FlushAsync();

        // Retry-After: 1 plus at most 10 % of jitter (the base back-off here is 5 ms): the client parks on that wait ...
        var retry = await clock.ArmedAsync(d => d >= TimeSpan.FromSeconds(1) && d <= TimeSpan.FromMilliseconds(1100));
        var fired = clock.Fired;
        clock.Advance(retry.DueTime - TestClock.Tick);
        // ... and sends nothing again until it is over.
        Assert.Equal(fired, clock.Fired);
        Assert.Single(stub.Requests);
        Assert.False(flush.IsCompleted);

        clock.Advance(TestClock.Tick);
        Assert.True(retry.Fired);
        await flush.WaitAsync(TimeSpan.FromSeconds(5));
        var requests = stub.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal(TestClock.Epoch, DateTimeOffset.Parse(requests[0].SentAt, CultureInfo.InvariantCulture));
        // sentAt has whole milliseconds: the retry left the moment the wait was over.
        var gap = DateTimeOffset.Parse(requests[1].SentAt, CultureInfo.InvariantCulture) - TestClock.Epoch;
        Assert.Equal(TimeSpan.FromMilliseconds(Math.Floor(retry.DueTime.TotalMilliseconds)), gap);
        Assert.Equal(1, client.Statistics.Retried);
    }

    [Fact]
    public void Retry_After_in_seconds_or_as_a_date_is_honoured_with_bounded_jitter_and_capped()
    {
        var now = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
        var max = TimeSpan.FromSeconds(30);
        var random = new Random(7);

        using var seconds = StubHandler.Error(HttpStatusCode.ServiceUnavailable, "x", retryAfter: "5");
        for (var i = 0; i < 50; i++)
            Assert.InRange(PipelineClient.RetryAfterDelay(seconds, now, max, random)!.Value.TotalMilliseconds, 5000, 5500);

        using var date = StubHandler.Error(HttpStatusCode.TooManyRequests, "x", retryAfter: now.AddSeconds(20).ToString("R"));
        Assert.InRange(PipelineClient.RetryAfterDelay(date, now, max, random)!.Value.TotalMilliseconds, 20_000, 21_000);

        using var far = StubHandler.Error(HttpStatusCode.TooManyRequests, "x", retryAfter: "3600");
        Assert.Equal(max, PipelineClient.RetryAfterDelay(far, now, max, random));

        using var none = StubHandler.Error(HttpStatusCode.ServiceUnavailable, "x");
        Assert.Null(PipelineClient.RetryAfterDelay(none, now, max, random));
    }

    [Fact]
    public async Task When_retries_run_out_the_batch_is_dropped_and_counted()
    {
        var stub = new StubHandler((_, _) => Task.FromResult(StubHandler.Error(HttpStatusCode.ServiceUnavailable, "storage_unavailable")));
        var log = new ListLogger();
        await using var client = new PipelineClient(new HttpClient(stub), ClientTestKit.Options(o => o.MaxRetryAttempts = 2), log);
        client.Track(ClientTestKit.View(1));
        client.Track(ClientTestKit.View(2));
        await client.FlushAsync();

        Assert.Equal(3, stub.Requests.Count);
        Assert.Equal(new PipelineClientStatistics(2, 0, 0, 4, 2, 0), client.Statistics);
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("dropped") && e.Message.Contains("503"));
    }

    [Fact]
    public async Task A_400_with_per_event_rejections_is_not_retried_and_each_rejection_is_logged()
    {
        var stub = new StubHandler();
        var log = new ListLogger();
        await using var client = new PipelineClient(new HttpClient(stub), ClientTestKit.Options(), log);
        var events = new[] { ClientTestKit.View(1), ClientTestKit.View(2) };
        stub.Answer = (_, _) => Task.FromResult(StubHandler.Json(HttpStatusCode.BadRequest, $$$"""
            {"error":{"code":"all_rejected","message":"every event was rejected"},"rejected":[
              {"index":0,"eventId":"{{{events[0].EventId}}}","code":"timestamp_out_of_range","message":"timestamp is more than 30 days before receipt"},
              {"index":1,"eventId":"{{{events[1].EventId}}}","code":"forbidden_mini_program","message":"miniProgramId wxtest0001 is not allowed for this source"}]}
            """));
        foreach (var e in events) client.Track(e);
        await client.FlushAsync();

        Assert.Single(stub.Requests);
        Assert.Equal(new PipelineClientStatistics(2, 0, 2, 0, 0, 0), client.Statistics);
        Assert.Contains(log.Entries, e => e.Message.Contains(events[0].EventId) && e.Message.Contains("timestamp_out_of_range"));
        Assert.Contains(log.Entries, e => e.Message.Contains(events[1].EventId) && e.Message.Contains("forbidden_mini_program"));
    }

    [Fact]
    public async Task A_202_with_some_rejections_counts_both_and_retries_nothing()
    {
        var stub = new StubHandler();
        var events = new[] { ClientTestKit.View(1), ClientTestKit.View(2), ClientTestKit.View(3) };
        stub.Answer = (_, _) => Task.FromResult(StubHandler.Json(HttpStatusCode.Accepted, $$$"""
            {"batchId":"b1","accepted":2,"rejected":[{"index":1,"eventId":"{{{events[1].EventId}}}","code":"invalid_field","message":"props.page is too long"}]}
            """));
        await using var client = ClientTestKit.Client(stub);
        foreach (var e in events) client.Track(e);
        await client.FlushAsync();

        Assert.Single(stub.Requests);
        Assert.Equal(new PipelineClientStatistics(3, 2, 1, 0, 0, 0), client.Statistics);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, "unauthorized")]
    [InlineData(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type")]
    public async Task Answers_that_cannot_get_better_are_not_retried(HttpStatusCode status, string code)
    {
        var stub = new StubHandler((_, _) => Task.FromResult(StubHandler.Error(status, code)));
        await using var client = ClientTestKit.Client(stub);
        client.Track(ClientTestKit.View());
        await client.FlushAsync();

        Assert.Single(stub.Requests);
        Assert.Equal(new PipelineClientStatistics(1, 0, 0, 0, 1, 0), client.Statistics);
    }

    [Fact]
    public async Task A_413_splits_the_batch_in_halves()
    {
        var stub = new StubHandler();
        stub.Answer = (r, _) => Task.FromResult(r.EventIds.Count > 2 ? StubHandler.Error(HttpStatusCode.RequestEntityTooLarge, "body_too_large") : StubHandler.Accept(r));
        await using var client = ClientTestKit.Client(stub);
        var events = Enumerable.Range(0, 5).Select(i => ClientTestKit.View(i)).ToList();
        foreach (var e in events) client.Track(e);
        await client.FlushAsync();

        Assert.Equal([5, 2, 3, 1, 2], stub.Requests.Select(r => r.EventIds.Count));
        Assert.Equal(5, client.Statistics.Sent);
        Assert.Equal(events.Select(e => e.EventId).Order(), stub.Requests.Where(r => r.EventIds.Count <= 2).SelectMany(r => r.EventIds).Order());
    }

    [Fact]
    public async Task A_network_failure_is_retried()
    {
        var stub = new StubHandler();
        stub.Answer = (r, _) => r.Number == 1 ? throw new HttpRequestException("connection refused") : Task.FromResult(StubHandler.Accept(r));
        await using var client = ClientTestKit.Client(stub);
        client.Track(ClientTestKit.View());
        await client.FlushAsync();

        Assert.Equal(2, stub.Requests.Count);
        Assert.Equal(1, client.Statistics.Sent);
    }
}
