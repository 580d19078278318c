using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Pipeline.Client.Tests.Unit;

/// <summary>One request the stub saw: headers, the decompressed body, when.</summary>
internal sealed record SeenRequest(int Number, DateTimeOffset At, string Uri, string? ApiKey, string? ContentType, string? ContentEncoding, string Body)
{
    public JsonDocument Json => JsonDocument.Parse(Body);

    public IReadOnlyList<string> EventIds
    {
        get
        {
            using var json = Json;
            return json.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("eventId").GetString()!).ToList();
        }
    }

    public string SentAt
    {
        get
        {
            using var json = Json;
            return json.RootElement.GetProperty("sentAt").GetString()!;
        }
    }
}

/// <summary>An HTTP handler that records every request and answers as told (by default, 202 accepting everything).</summary>
internal sealed class StubHandler : HttpMessageHandler
{
    private int _count;

    public StubHandler(Func<SeenRequest, CancellationToken, Task<HttpResponseMessage>>? answer = null) => Answer = answer ?? ((r, _) => Task.FromResult(Accept(r)));

    public Func<SeenRequest, CancellationToken, Task<HttpResponseMessage>> Answer { get; set; }

    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    public IReadOnlyList<string> AllEventIds => Requests.SelectMany(r => r.EventIds).ToList();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var bytes = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
        var encoding = request.Content.Headers.ContentEncoding.FirstOrDefault();
        if (encoding == "gzip")
        {
            using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            await gzip.CopyToAsync(plain, cancellationToken);
            bytes = plain.ToArray();
        }
        var seen = new SeenRequest(Interlocked.Increment(ref _count), DateTimeOffset.UtcNow, request.RequestUri!.AbsoluteUri,
            request.Headers.TryGetValues("X-Api-Key", out var keys) ? keys.Single() : null,
            request.Content.Headers.ContentType?.ToString(), encoding, Encoding.UTF8.GetString(bytes));
        Requests.Enqueue(seen);
        return await Answer(seen, cancellationToken);
    }

    public static HttpResponseMessage Accept(SeenRequest r) => Json(HttpStatusCode.Accepted, $$"""{"batchId":"b{{r.Number}}","accepted":{{r.EventIds.Count}},"rejected":[]}""");

    public static HttpResponseMessage Json(HttpStatusCode status, string body, string? retryAfter = null)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (retryAfter is not null) response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        return response;
    }

    public static HttpResponseMessage Error(HttpStatusCode status, string code, string? retryAfter = null) =>
        Json(status, $$$"""{"error":{"code":"{{{code}}}","message":"stub says {{{code}}}"}}""", retryAfter);
}
