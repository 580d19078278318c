using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Local.Simulation;

namespace Pipeline.Integration.Tests.Simulation;

/// <summary>
/// The client against an in-process stub of the ingest endpoint (a unit test of sending, retrying
/// and tallying; the stub judges events with <see cref="ContractChecker"/>, not with the pipeline).
/// </summary>
public sealed class SimulationClientTests
{
    private static readonly Uri Endpoint = new("http://ingest.test/api/v1/events");
    private const string Key = "sim-test-key";

    [Fact]
    public async Task A_503_is_retried_after_its_Retry_After_and_every_answer_is_tallied()
    {
        var stub = new StubIngest { FirstBatchAnswer = Throttle(HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(1)) };
        var options = new SimulationOptions { Users = 40, Days = 2, Seed = 7, InvalidEventRate = 0.02 };
        var lines = new ConcurrentQueue<string>();
        using var http = new HttpClient(stub);

        var report = await SimulationClient.RunAsync(http, Endpoint, Key, options, new SyncProgress(lines.Enqueue), CancellationToken.None);

        Assert.True(report.MatchesExpectations, report.Describe());
        Assert.Equal(0, report.RequestsFailed);
        Assert.Equal(1, report.Throttled);
        Assert.Equal(1, report.ResponsesByStatus[503]);
        Assert.Equal(report.RequestsPlanned + 1, report.RequestsSent);
        Assert.Equal(report.Ledger.BatchesSent, report.ResponsesByStatus[202]);
        Assert.Equal(report.Ledger.InvalidRequestsSent, report.ResponsesByStatus[400]);
        Assert.Equal(report.Ledger.ValidEventsSent, report.EventsAccepted);
        Assert.Equal(report.Ledger.InvalidEventsSent, report.EventsRejected);
        Assert.Equal(report.Ledger.ExpectedRejectionsByCode, report.RejectedByCode);
        Assert.Equal(report.Ledger.InvalidRequestsSent, report.RequestErrorsByCode.Values.Sum());
        Assert.Equal(report.Ledger.BatchesSent + report.Ledger.InvalidRequestsSent, report.RequestsPlanned);
        Assert.Equal(report.Ledger.EventsSent, report.EventsSent);
        Assert.Contains("every answer as expected", report.Describe());
        Assert.Contains(lines, l => l.Contains("503, retrying in 1 s", StringComparison.Ordinal));

        // The retry carried the same events, at least the Retry-After later, under a new sentAt.
        var received = stub.Received.ToList();
        var throttled = received.Single(r => r.Status == 503);
        var retry = received.Where(r => r.Status == 202 && r.EventIds.SequenceEqual(throttled.EventIds)).MinBy(r => r.At)!;
        Assert.True(retry.At - throttled.At >= TimeSpan.FromMilliseconds(950), $"retried after {(retry.At - throttled.At).TotalMilliseconds} ms");
        Assert.True(retry.SentAt > throttled.SentAt);

        // Every request: the key, JSON, gzip on about half, at most 4 in flight.
        Assert.All(received, r => Assert.Equal(Key, r.ApiKey));
        Assert.All(received, r => Assert.Equal("application/json", r.MediaType));
        Assert.Contains(received, r => r.Gzip);
        Assert.Contains(received, r => !r.Gzip);
        Assert.InRange(stub.MaxInFlight, 1, 4);

        // Exact duplicates replay their original's bytes, sentAt included; other bodies are stamped at send.
        var bodies = new HashSet<string>(StringComparer.Ordinal);
        var replays = received.Count(r => r.EventIds.Count > 0 && !bodies.Add(Convert.ToBase64String(r.Json)));
        Assert.Equal(report.Ledger.DuplicateBatchesSent, replays);
        Assert.All(received.Where(r => r.SentAt is not null), r => Assert.True(r.At - r.SentAt!.Value < TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_request_still_throttled_after_the_last_attempt_is_a_failed_request()
    {
        var stub = new StubIngest { EveryAnswer = Throttle(HttpStatusCode.TooManyRequests, TimeSpan.Zero) };
        var options = new SimulationOptions { Users = 3, Days = 1, MaxSendAttempts = 2, SendInvalidRequests = false };
        using var http = new HttpClient(stub);

        var report = await SimulationClient.RunAsync(http, Endpoint, Key, options, null, CancellationToken.None);

        Assert.Equal(report.RequestsPlanned, report.RequestsFailed);
        Assert.Equal(2 * report.RequestsPlanned, report.ResponsesByStatus[429]);
        Assert.Equal(report.RequestsPlanned, report.Throttled);
        Assert.Equal(0, report.EventsAccepted);
        Assert.False(report.MatchesExpectations);
        Assert.Contains("429 (expected 202)", report.Describe());
    }

    [Fact]
    public async Task An_endpoint_that_never_answers_is_an_HttpRequestException()
    {
        var stub = new StubIngest { Unreachable = true };
        var options = new SimulationOptions { Users = 3, Days = 1, DefaultRetryDelay = TimeSpan.FromMilliseconds(10) };
        using var http = new HttpClient(stub);
        var watch = Stopwatch.StartNew();

        await Assert.ThrowsAsync<HttpRequestException>(() => SimulationClient.RunAsync(http, Endpoint, Key, options, null, CancellationToken.None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
    }

    private static Func<HttpResponseMessage> Throttle(HttpStatusCode status, TimeSpan retryAfter) => () =>
    {
        var response = Json(status, new JsonObject { ["error"] = new JsonObject { ["code"] = "throttled", ["message"] = "try later" } });
        response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(retryAfter);
        return response;
    };

    private static HttpResponseMessage Json(HttpStatusCode status, JsonObject body) =>
        new(status) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };

    private sealed record Received(DateTimeOffset At, int Status, string? ApiKey, string? MediaType, bool Gzip, byte[] Json, DateTimeOffset? SentAt, IReadOnlyList<string> EventIds);

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, after the run may have ended).</summary>
    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }

    /// <summary>A stand-in for <c>POST /api/v1/events</c> that answers as the contract says, judging events with <see cref="ContractChecker"/>.</summary>
    private sealed class StubIngest : HttpMessageHandler
    {
        private int _inFlight;
        private int _maxInFlight;
        private int _batchesSeen;

        public ConcurrentQueue<Received> Received { get; } = new();

        public int MaxInFlight => _maxInFlight;

        public Func<HttpResponseMessage>? FirstBatchAnswer { get; init; }

        public Func<HttpResponseMessage>? EveryAnswer { get; init; }

        public bool Unreachable { get; init; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Unreachable) throw new HttpRequestException("Connection refused (ingest.test:80)");
            var now = Interlocked.Increment(ref _inFlight);
            int seen;
            while (now > (seen = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen) { }
            try
            {
                await Task.Delay(3, cancellationToken);
                var bytes = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
                var gzip = request.Content.Headers.ContentEncoding.Contains("gzip");
                var json = gzip ? Inflate(bytes) : bytes;
                var (response, sentAt, ids) = Answer(json);
                if (EveryAnswer is not null) response = EveryAnswer();
                else if (ids.Count > 0 && FirstBatchAnswer is not null && Interlocked.Increment(ref _batchesSeen) == 1) response = FirstBatchAnswer();
                Received.Enqueue(new Received(DateTimeOffset.UtcNow, (int)response.StatusCode, request.Headers.TryGetValues("X-Api-Key", out var keys) ? keys.Single() : null,
                    request.Content.Headers.ContentType?.MediaType, gzip, json, sentAt, ids));
                return response;
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        private static (HttpResponseMessage, DateTimeOffset?, IReadOnlyList<string>) Answer(byte[] json)
        {
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(json);
            }
            catch (JsonException)
            {
                return (Refuse("invalid_json"), null, []);
            }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array || events.GetArrayLength() is < 1 or > 1000)
                    return (Refuse("invalid_batch"), null, []);
                var receivedAt = DateTimeOffset.UtcNow;
                var sentAt = root.TryGetProperty("sentAt", out var s) && s.TryGetDateTimeOffset(out var parsed) ? parsed : receivedAt;
                var ids = new List<string>();
                var rejected = new JsonArray();
                var accepted = 0;
                var index = 0;
                foreach (var e in events.EnumerateArray())
                {
                    var id = e.TryGetProperty("eventId", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
                    if (id is not null) ids.Add(id);
                    var code = ContractChecker.Check(e, sentAt, receivedAt);
                    if (code is null) accepted++;
                    else rejected.Add(new JsonObject { ["index"] = index, ["eventId"] = id, ["code"] = code, ["message"] = code });
                    index++;
                }
                var response = accepted == 0
                    ? Json(HttpStatusCode.BadRequest, new JsonObject { ["error"] = new JsonObject { ["code"] = "all_rejected", ["message"] = "every event was rejected" }, ["rejected"] = rejected })
                    : Json(HttpStatusCode.Accepted, new JsonObject { ["batchId"] = Guid.NewGuid().ToString("N"), ["accepted"] = accepted, ["rejected"] = rejected });
                return (response, sentAt, ids);
            }
        }

        private static HttpResponseMessage Refuse(string code) =>
            Json(HttpStatusCode.BadRequest, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = code } });

        private static byte[] Inflate(byte[] body)
        {
            using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
    }
}
