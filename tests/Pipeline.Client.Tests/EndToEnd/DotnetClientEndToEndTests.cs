using System.Net;

namespace Pipeline.Client.Tests.EndToEnd;

/// <summary>
/// The .NET client against the real local runner: events tracked through it are accepted,
/// processed, rolled up and found in the day's metrics, and a batch sent twice (its first answer
/// lost) counts once.
/// </summary>
[Collection(LocalRunnerCollection.Name)]
public sealed class DotnetClientEndToEndTests(LocalRunner runner)
{
    private const string MiniProgram = "wxsdkdotnet0001";

    [Fact]
    public async Task Tracked_events_reach_the_days_metrics_once_even_when_a_batch_is_sent_twice()
    {
        var key = await runner.CreateKeyAsync("dotnet-sdk-e2e");
        var lossy = new LoseFirstAnswer { InnerHandler = new SocketsHttpHandler() };
        using var http = new HttpClient(lossy);
        var client = new PipelineClient(http, new PipelineClientOptions
        {
            Endpoint = runner.Endpoint,
            ApiKey = key,
            MiniProgramId = MiniProgram,
            Platform = ClientPlatform.Android,
            MaxBatchEvents = 4,
            FlushInterval = TimeSpan.FromMilliseconds(200),
            RetryBaseDelay = TimeSpan.FromMilliseconds(50),
        });

        var first = DateTimeOffset.UtcNow;
        var count = 0;
        foreach (var user in new[] { "dn-u1", "dn-u2", "dn-u3" })
        {
            var session = $"{user}-s1";
            count += Track(client, new SessionStart { UserId = user, SessionId = session, Scene = 1011, LoadMs = 700 });
            count += Track(client, new PageView { UserId = user, SessionId = session, Page = "/pages/index/index", DurationMs = 4000 });
            count += Track(client, new PageView { UserId = user, SessionId = session, Page = "/pages/shop/shop", DurationMs = 9000 });
            count += Track(client, new SessionEnd { UserId = user, SessionId = session, DurationMs = 65_000 });
        }
        count += Track(client, new Share { UserId = "dn-u2", SessionId = "dn-u2-s1", Target = ShareTarget.Group, Page = "/pages/shop/shop" });
        await client.DisposeAsync();
        var last = DateTimeOffset.UtcNow;

        var stats = client.Statistics;
        Assert.Equal(new PipelineClientStatistics(count, count, 0, 4, 0, 0), stats);
        Assert.Equal(HttpStatusCode.Accepted, lossy.LostStatus);

        await runner.WaitForProcessingAsync();
        var (from, to) = runner.DaysBetween(first, last);
        await runner.RollUpAsync(from, to);

        // Counts add up across days, so they are exact even if the run straddles midnight.
        Assert.Equal(3, await runner.SumAsync(from, to, "users.sessions", MiniProgram));
        Assert.Equal(6, await runner.SumAsync(from, to, "users.page_views", MiniProgram));
        Assert.Equal(1, await runner.SumAsync(from, to, "users.shares", MiniProgram));
        if (from == to) Assert.Equal(3, await runner.MetricAsync(from, "users.dau", "miniProgram", MiniProgram));
    }

    private static int Track(PipelineClient client, PipelineEvent e)
    {
        Assert.True(client.Track(e));
        return 1;
    }

    /// <summary>Lets the first request reach the pipeline, then tells the client it failed (503): the client sends that batch again.</summary>
    private sealed class LoseFirstAnswer : DelegatingHandler
    {
        private int _calls;

        public HttpStatusCode? LostStatus { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (Interlocked.Increment(ref _calls) != 1) return response;
            LostStatus = response.StatusCode;
            response.Dispose();
            return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = request };
        }
    }
}
