using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// A client as the contract asks SDKs to behave: it sends each batch until it gets a <c>202</c>,
/// resending exactly the same body (the same <c>eventId</c>s) after anything else: a refused or
/// dropped connection, a timeout, a 5xx. It waits a short fixed time between tries rather than the
/// whole <c>Retry-After</c>, so the tests stay fast; it records every answer.
/// </summary>
internal sealed class BatchSender(Uri address, string ingestKey) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = address, Timeout = TimeSpan.FromSeconds(20) };
    private int _attempts, _connectionFailures, _unavailable, _unavailableWithRetryAfter, _otherStatuses;

    /// <summary>Batch index → the batch id its 202 named.</summary>
    public ConcurrentDictionary<int, string> Accepted { get; } = new();

    public int Attempts => Volatile.Read(ref _attempts);
    public int ConnectionFailures => Volatile.Read(ref _connectionFailures);
    public int Unavailable => Volatile.Read(ref _unavailable);
    public int UnavailableWithRetryAfter => Volatile.Read(ref _unavailableWithRetryAfter);
    public int OtherStatuses => Volatile.Read(ref _otherStatuses);

    /// <summary>The last statuses other than 202 and 503, for failure messages.</summary>
    public ConcurrentQueue<string> Oddities { get; } = new();

    /// <summary>Sends every batch with <paramref name="workers"/> concurrent clients, each batch until it is accepted.</summary>
    public async Task SendAllAsync(IReadOnlyList<string> bodies, int workers, TimeSpan deadline)
    {
        using var limit = new CancellationTokenSource(deadline);
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < bodies.Count)
                await SendUntilAcceptedAsync(index, bodies[index], limit.Token);
        })));
    }

    private async Task SendUntilAcceptedAsync(int index, string body, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (cancellationToken.IsCancellationRequested)
                throw new TimeoutException($"Batch {index} was not accepted in time: {Accepted.Count} accepted, {Attempts} attempts, {ConnectionFailures} connection failures, {Unavailable} 503s, other: {string.Join(" | ", Oddities)}");
            Interlocked.Increment(ref _attempts);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/events") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Add("X-Api-Key", ingestKey);
                using var response = await _http.SendAsync(request, cancellationToken);
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    using var json = JsonDocument.Parse(text);
                    Accepted[index] = json.RootElement.GetProperty("batchId").GetString()!;
                    return;
                }
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    Interlocked.Increment(ref _unavailable);
                    if (response.Headers.RetryAfter?.Delta is { } delta && delta > TimeSpan.Zero) Interlocked.Increment(ref _unavailableWithRetryAfter);
                }
                else
                {
                    Interlocked.Increment(ref _otherStatuses);
                    Remember($"{(int)response.StatusCode}: {text}");
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                Interlocked.Increment(ref _connectionFailures); // the runner died under the request, or is not up yet
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                continue; // reported at the top of the loop
            }
            try
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private void Remember(string oddity)
    {
        Oddities.Enqueue(oddity.Length > 300 ? oddity[..300] : oddity);
        while (Oddities.Count > 5) Oddities.TryDequeue(out _);
    }

    public void Dispose() => _http.Dispose();
}
