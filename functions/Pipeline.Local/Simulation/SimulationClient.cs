using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Pipeline.Local.Simulation;

/// <summary>
/// Sends a simulated ecosystem to <c>POST /api/v1/events</c> and reports what came back. Stages
/// are sent in order, up to <see cref="SimulationOptions.MaxConcurrency"/> requests at a time within
/// one; <c>sentAt</c> is stamped at each send (exact duplicates replay their original's bytes); a 429
/// or 503 is retried with the same events after its Retry-After.
/// </summary>
public static class SimulationClient
{
    /// <summary>Generates the run of <paramref name="options"/> and sends it.</summary>
    /// <exception cref="HttpRequestException">The endpoint could not be reached at all.</exception>
    public static Task<SimulationReport> RunAsync(HttpClient http, Uri endpoint, string apiKey, SimulationOptions options, IProgress<string>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        var plan = TrafficGenerator.Generate(options);
        progress?.Report(string.Create(CultureInfo.InvariantCulture,
            $"Simulating {plan.Ecosystem.Users.Count:N0} users in {plan.Ecosystem.MiniPrograms.Count} mini-programs from {plan.Start:yyyy-MM-dd HH:mm} to {plan.End:yyyy-MM-dd HH:mm} UTC (seed {options.Seed}): {plan.Ledger.EventsSent:N0} events in {plan.Ledger.BatchesSent + plan.Ledger.InvalidRequestsSent:N0} requests, {plan.Stages.Count} stages"));
        return SendAsync(http, endpoint, apiKey, plan, options, progress, ct);
    }

    /// <summary>Sends an already generated plan.</summary>
    public static async Task<SimulationReport> SendAsync(HttpClient http, Uri endpoint, string apiKey, SimulationPlan plan, SimulationOptions options, IProgress<string>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);

        var time = options.TimeProvider;
        var started = time.GetTimestamp();
        var tally = new Tally();
        var replayed = plan.Requests.Where(r => r.DuplicateOf is not null).Select(r => r.DuplicateOf!.Id).ToHashSet();
        var sender = new Sender(http, endpoint, apiKey, options, tally, progress, replayed);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxConcurrency, CancellationToken = ct };
        foreach (var stage in plan.Stages)
        {
            options.AdvanceClockTo?.Invoke(stage.SendAt);
            await Parallel.ForEachAsync(stage.Requests, parallel, (request, token) => new ValueTask(sender.SendAsync(request, token)));
            progress?.Report(string.Create(CultureInfo.InvariantCulture,
                $"  {stage.Name}: {stage.Requests.Count} requests, {stage.EventCount:N0} events; so far {tally.Accepted:N0} accepted, {tally.Rejected:N0} rejected"));
        }
        return tally.ToReport(plan, time.GetElapsedTime(started));
    }

    private sealed class Sender(HttpClient http, Uri endpoint, string apiKey, SimulationOptions options, Tally tally, IProgress<string>? progress, IReadOnlySet<int> replayed)
    {
        // The bytes last sent for each request that an exact duplicate will replay.
        private readonly ConcurrentDictionary<int, byte[]> _sent = new();
        private int _answered;

        public async Task SendAsync(PlannedRequest request, CancellationToken ct)
        {
            tally.Planned(request);
            for (var attempt = 1; ; attempt++)
            {
                ct.ThrowIfCancellationRequested();
                var body = request.DuplicateOf is { } original && _sent.TryGetValue(original.Id, out var replay)
                    ? replay
                    : request.RenderBody(options.TimeProvider.GetUtcNow()); // a retry is stamped anew: sentAt is the time of sending
                if (replayed.Contains(request.Id)) _sent[request.Id] = body;

                using var message = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
                message.Headers.Add("X-Api-Key", apiKey);
                // Both spellings the contract allows.
                message.Content.Headers.ContentType = request.Id % 3 == 0
                    ? MediaTypeHeaderValue.Parse("application/json; charset=utf-8")
                    : new MediaTypeHeaderValue("application/json");
                if (request.Gzip) message.Content.Headers.ContentEncoding.Add("gzip");

                HttpResponseMessage response;
                try
                {
                    response = await http.SendAsync(message, ct);
                }
                catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ct.IsCancellationRequested))
                {
                    tally.Response(0);
                    // Nothing ever answered: the endpoint is not there; say so rather than retry for long.
                    var limit = Volatile.Read(ref _answered) == 0 ? Math.Min(2, options.MaxSendAttempts) : options.MaxSendAttempts;
                    if (attempt >= limit)
                    {
                        if (Volatile.Read(ref _answered) == 0) throw e is HttpRequestException ? e : new HttpRequestException(e.Message, e);
                        tally.Failed($"{request}: no answer after {attempt} attempts ({e.Message})");
                        return;
                    }
                    await Task.Delay(options.DefaultRetryDelay * attempt, options.TimeProvider, ct);
                    continue;
                }

                using (response)
                {
                    Interlocked.Exchange(ref _answered, 1);
                    var status = (int)response.StatusCode;
                    tally.Response(status);
                    var text = await response.Content.ReadAsStringAsync(ct);
                    if (status is 429 or 503 && attempt < options.MaxSendAttempts)
                    {
                        var delay = RetryAfter(response) ?? options.DefaultRetryDelay;
                        if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
                        if (delay > options.MaxRetryDelay) delay = options.MaxRetryDelay;
                        tally.Throttle();
                        progress?.Report(string.Create(CultureInfo.InvariantCulture, $"  {request}: {status}, retrying in {delay.TotalSeconds:0.###} s"));
                        await Task.Delay(delay, options.TimeProvider, ct);
                        continue;
                    }
                    tally.Outcome(request, status, text);
                    return;
                }
            }
        }

        private TimeSpan? RetryAfter(HttpResponseMessage response)
        {
            var header = response.Headers.RetryAfter;
            if (header?.Delta is { } delta) return delta;
            if (header?.Date is { } date) return date - options.TimeProvider.GetUtcNow();
            return null;
        }
    }

    /// <summary>Counts of a run, safe to update from concurrent sends.</summary>
    private sealed class Tally
    {
        private const int MaxProblems = 20;
        private readonly Lock _lock = new();
        private readonly Dictionary<int, int> _byStatus = [];
        private readonly Dictionary<string, int> _rejectedByCode = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _errorsByCode = new(StringComparer.Ordinal);
        private readonly List<string> _problems = [];
        private int _planned, _sent, _failed, _unexpected, _throttled, _events, _accepted, _rejected;

        public int Accepted { get { lock (_lock) return _accepted; } }

        public int Rejected { get { lock (_lock) return _rejected; } }

        public void Planned(PlannedRequest request)
        {
            lock (_lock)
            {
                _planned++;
                _events += request.Events.Count;
            }
        }

        public void Response(int status)
        {
            lock (_lock)
            {
                _sent++;
                _byStatus[status] = _byStatus.GetValueOrDefault(status) + 1;
            }
        }

        public void Throttle()
        {
            lock (_lock) _throttled++;
        }

        public void Failed(string problem)
        {
            lock (_lock)
            {
                _failed++;
                Problem(problem);
            }
        }

        public void Outcome(PlannedRequest request, int status, string body)
        {
            var accepted = 0;
            var rejections = new Dictionary<string, int>(StringComparer.Ordinal);
            string? error = null;
            var parsed = true;
            try
            {
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                if (root.ValueKind == JsonValueKind.Object)
                {
                    if (root.TryGetProperty("accepted", out var a) && a.ValueKind == JsonValueKind.Number) accepted = a.GetInt32();
                    if (root.TryGetProperty("rejected", out var r) && r.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var entry in r.EnumerateArray())
                        {
                            var code = entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "(no code)";
                            rejections[code] = rejections.GetValueOrDefault(code) + 1;
                        }
                    }
                    if (root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object && e.TryGetProperty("code", out var ec) && ec.ValueKind == JsonValueKind.String)
                        error = ec.GetString();
                }
            }
            catch (JsonException)
            {
                parsed = false;
            }

            lock (_lock)
            {
                _accepted += accepted;
                foreach (var (code, n) in rejections)
                {
                    _rejected += n;
                    _rejectedByCode[code] = _rejectedByCode.GetValueOrDefault(code) + n;
                }
                if (status == 400) _errorsByCode[error ?? "(no code)"] = _errorsByCode.GetValueOrDefault(error ?? "(no code)") + 1;

                if (status != request.ExpectedStatus)
                {
                    _failed++;
                    Problem($"{request}: {status} (expected {request.ExpectedStatus}){(error is null ? "" : $" {error}")}{(parsed ? "" : ", body not JSON")}");
                }
                else if (request.Kind != PlannedRequestKind.InvalidRequest &&
                         (accepted != request.ExpectedAccepted || !SameCounts(rejections, request.ExpectedRejections)))
                {
                    _unexpected++;
                    Problem($"{request}: accepted {accepted}, rejected {Describe(rejections)} (expected {request.ExpectedAccepted}, {Describe(request.ExpectedRejections)})");
                }
            }
        }

        public SimulationReport ToReport(SimulationPlan plan, TimeSpan elapsed)
        {
            lock (_lock)
            {
                return new SimulationReport
                {
                    RequestsPlanned = _planned,
                    RequestsSent = _sent,
                    ResponsesByStatus = new SortedDictionary<int, int>(_byStatus),
                    RequestsFailed = _failed,
                    RequestsWithUnexpectedCounts = _unexpected,
                    Throttled = _throttled,
                    EventsSent = _events,
                    EventsAccepted = _accepted,
                    EventsRejected = _rejected,
                    RejectedByCode = new SortedDictionary<string, int>(_rejectedByCode, StringComparer.Ordinal),
                    RequestErrorsByCode = new SortedDictionary<string, int>(_errorsByCode, StringComparer.Ordinal),
                    Problems = [.. _problems],
                    Elapsed = elapsed,
                    Ledger = plan.Ledger,
                };
            }
        }

        private void Problem(string line)
        {
            if (_problems.Count < MaxProblems) _problems.Add(line);
        }

        private static bool SameCounts(IReadOnlyDictionary<string, int> a, IReadOnlyDictionary<string, int> b) =>
            a.Count == b.Count && a.All(p => b.GetValueOrDefault(p.Key) == p.Value);

        private static string Describe(IReadOnlyDictionary<string, int> counts) =>
            counts.Count == 0 ? "none" : string.Join(" ", counts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}:{p.Value}"));
    }
}
