using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Pipeline.Client;

/// <summary>Sends events to the pipeline's ingest endpoint in the background.</summary>
public interface IPipelineClient : IAsyncDisposable
{
    /// <summary>
    /// Validates the event against the contract, fixes its JSON and puts it in the buffer; returns
    /// at once. Returns false when the event was dropped instead (buffer full in
    /// <see cref="BufferFullMode.DropNewest"/> mode, or the client is disposed).
    /// </summary>
    /// <exception cref="ArgumentException">The event breaks the contract (a required field or prop is missing or malformed, or it is over 32 KiB as JSON).</exception>
    bool Track(PipelineEvent pipelineEvent);

    /// <summary>Sends everything tracked before the call and waits until it is sent, rejected or dropped.</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>The counters, now.</summary>
    PipelineClientStatistics Statistics { get; }
}

/// <summary>
/// The .NET client of <c>POST /api/v1/events</c>. <see cref="Track"/> buffers; one background loop
/// sends batches (by count, size or age), gzipped, stamping <c>sentAt</c> on every attempt, and
/// retries transient failures (network, timeouts, 408, 429, 500, 502, 503, 504) with exponential
/// back-off and jitter, honouring <c>Retry-After</c>, up to <see cref="PipelineClientOptions.MaxRetryAttempts"/>.
/// Disposing flushes (bounded by <see cref="PipelineClientOptions.ShutdownTimeout"/>).
/// </summary>
public sealed class PipelineClient : IPipelineClient, IDisposable
{
    /// <summary>Name of the <see cref="HttpClient"/> that <c>AddPipelineClient</c> registers with the HTTP client factory.</summary>
    public const string HttpClientName = "Pipeline.Client";

    private static readonly ResiliencePropertyKey<int> BatchSizeKey = new("Pipeline.Client.BatchSize");

    private readonly Func<HttpClient> _http;
    private readonly HttpClient? _ownedHttp;
    private readonly PipelineClientOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Uri _eventsUri;
    private readonly ResiliencePipeline<HttpResponseMessage> _resilience;

    private readonly Lock _lock = new();
    private readonly LinkedList<BufferedEvent> _buffer = new();
    private readonly List<(long Target, TaskCompletionSource Done)> _flushWaiters = [];
    private long _bufferBytes;
    private long _lastSequence;
    private long _inFlightFirst = long.MaxValue;
    private int _inFlightCount;
    private bool _closed;
    private TaskCompletionSource _wake = NewSignal();

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _disposed;

    private long _tracked, _sent, _rejected, _retried, _dropped;

    /// <summary>A client with its own <see cref="HttpClient"/>.</summary>
    public PipelineClient(PipelineClientOptions options, ILogger<PipelineClient>? logger = null, TimeProvider? timeProvider = null)
        : this(OwnHttpClient(), owns: true, options, logger, timeProvider)
    {
    }

    /// <summary>A client on the given <see cref="HttpClient"/> (its <c>BaseAddress</c> is ignored; <see cref="PipelineClientOptions.Endpoint"/> is used). The caller keeps ownership of it.</summary>
    public PipelineClient(HttpClient httpClient, PipelineClientOptions options, ILogger<PipelineClient>? logger = null, TimeProvider? timeProvider = null)
        : this(httpClient ?? throw new ArgumentNullException(nameof(httpClient)), owns: false, options, logger, timeProvider)
    {
    }

    private PipelineClient(HttpClient httpClient, bool owns, PipelineClientOptions options, ILogger<PipelineClient>? logger, TimeProvider? timeProvider)
        : this(() => httpClient, options, logger, timeProvider)
    {
        if (owns) _ownedHttp = httpClient;
    }

    /// <summary>For the HTTP client factory: a client is asked for per attempt, so handlers rotate as the factory intends.</summary>
    internal PipelineClient(Func<HttpClient> httpClients, PipelineClientOptions options, ILogger<PipelineClient>? logger, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        _http = httpClients;
        _log = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _eventsUri = new Uri(_options.Endpoint!.AbsoluteUri.TrimEnd('/') + "/api/v1/events");
        _resilience = BuildResilience();
        _loop = Task.Run(RunAsync);
    }

    /// <inheritdoc />
    public PipelineClientStatistics Statistics
    {
        get
        {
            lock (_lock)
                return new(_tracked, _sent, _rejected, _retried, _dropped, _buffer.Count + _inFlightCount);
        }
    }

    /// <inheritdoc />
    public bool Track(PipelineEvent pipelineEvent)
    {
        ArgumentNullException.ThrowIfNull(pipelineEvent);
        var errors = Wire.Validate(pipelineEvent, _options);
        if (errors.Count > 0)
            throw new ArgumentException($"The {pipelineEvent.Type} event '{pipelineEvent.EventId}' breaks the ingest contract: {string.Join("; ", errors)}.", nameof(pipelineEvent));
        var json = Wire.Serialize(pipelineEvent, _options);
        if (json.Length > Wire.MaxEventBytes)
            throw new ArgumentException($"The {pipelineEvent.Type} event '{pipelineEvent.EventId}' is {json.Length} bytes of JSON; the contract allows {Wire.MaxEventBytes}.", nameof(pipelineEvent));

        long dropped;
        lock (_lock)
        {
            if (_closed)
            {
                _dropped++;
                _log.LogWarning("Pipeline client: event {EventId} tracked after disposal was dropped", pipelineEvent.EventId);
                return false;
            }
            if (_buffer.Count >= _options.BufferCapacity)
            {
                dropped = ++_dropped;
                if (_options.BufferFullMode == BufferFullMode.DropNewest)
                {
                    LogOverflow(dropped);
                    return false;
                }
                var oldest = _buffer.First!.Value;
                _buffer.RemoveFirst();
                _bufferBytes -= oldest.Json.Length;
                LogOverflow(dropped);
                CompleteFlushWaiters();
            }
            _buffer.AddLast(new BufferedEvent(++_lastSequence, pipelineEvent.EventId, json, _time.GetUtcNow()));
            _bufferBytes += json.Length;
            _tracked++;
            if (_buffer.Count == 1 || _buffer.Count >= _options.MaxBatchEvents || _bufferBytes >= _options.MaxBatchBytes)
                _wake.TrySetResult();
        }
        return true;
    }

    /// <inheritdoc />
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource done;
        lock (_lock)
        {
            if (LowestPending() > _lastSequence) return;
            done = NewSignal();
            _flushWaiters.Add((_lastSequence, done));
            _wake.TrySetResult();
        }
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Flushes (for at most <see cref="PipelineClientOptions.ShutdownTimeout"/>), then stops; whatever is left is counted as dropped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        lock (_lock) _closed = true;
        try
        {
            await FlushAsync().WaitAsync(_options.ShutdownTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log.LogWarning("Pipeline client: the buffer did not drain within {Timeout}; stopping", _options.ShutdownTimeout);
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        lock (_lock)
        {
            if (_buffer.Count > 0)
            {
                _log.LogWarning("Pipeline client: {Count} buffered events dropped at shutdown", _buffer.Count);
                _dropped += _buffer.Count;
                _buffer.Clear();
                _bufferBytes = 0;
            }
            foreach (var (_, done) in _flushWaiters) done.TrySetResult();
            _flushWaiters.Clear();
        }
        _ownedHttp?.Dispose();
        _stop.Dispose();
    }

    /// <summary>Blocks on <see cref="DisposeAsync"/> (for containers that dispose synchronously).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task RunAsync()
    {
        var stopping = _stop.Token;
        while (!stopping.IsCancellationRequested)
        {
            List<BufferedEvent>? batch;
            TimeSpan? wait;
            Task wake;
            lock (_lock)
            {
                batch = TakeBatchIfDue(out wait);
                wake = _wake.Task;
            }

            if (batch is not null)
            {
                await SendAsync(batch, stopping).ConfigureAwait(false);
                lock (_lock)
                {
                    _inFlightFirst = long.MaxValue;
                    _inFlightCount = 0;
                    CompleteFlushWaiters();
                }
                continue;
            }

            try
            {
                if (wait is { } delay)
                {
                    using var timer = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    await Task.WhenAny(wake, Task.Delay(delay, _time, timer.Token)).ConfigureAwait(false);
                    await timer.CancelAsync().ConfigureAwait(false);
                }
                else
                {
                    await wake.WaitAsync(stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            lock (_lock)
            {
                if (_wake.Task.IsCompleted) _wake = NewSignal();
            }
        }
    }

    // Under the lock. A batch is due when full by count or size, when its oldest event has waited
    // FlushInterval, when a flush waits for it, or when the client is closing.
    private List<BufferedEvent>? TakeBatchIfDue(out TimeSpan? wait)
    {
        wait = null;
        var first = _buffer.First;
        if (first is null) return null;
        var due = _closed
            || _buffer.Count >= _options.MaxBatchEvents
            || _bufferBytes >= _options.MaxBatchBytes
            || _flushWaiters.Exists(w => w.Target >= first.Value.Sequence);
        if (!due)
        {
            var age = _time.GetUtcNow() - first.Value.BufferedAt;
            if (age >= _options.FlushInterval) due = true;
            else wait = _options.FlushInterval - age;
        }
        if (!due) return null;

        var batch = new List<BufferedEvent>(Math.Min(_buffer.Count, _options.MaxBatchEvents));
        long bytes = 0;
        while (_buffer.First is { } node && batch.Count < _options.MaxBatchEvents)
        {
            var size = node.Value.Json.Length + 1;
            if (batch.Count > 0 && bytes + size > _options.MaxBatchBytes) break;
            batch.Add(node.Value);
            bytes += size;
            _bufferBytes -= node.Value.Json.Length;
            _buffer.RemoveFirst();
        }
        _inFlightFirst = batch[0].Sequence;
        _inFlightCount = batch.Count;
        return batch;
    }

    private long LowestPending() => Math.Min(_inFlightFirst, _buffer.First?.Value.Sequence ?? long.MaxValue);

    private void CompleteFlushWaiters()
    {
        var lowest = LowestPending();
        _flushWaiters.RemoveAll(w =>
        {
            if (w.Target >= lowest) return false;
            w.Done.TrySetResult();
            return true;
        });
    }

    private async Task SendAsync(List<BufferedEvent> batch, CancellationToken stopping)
    {
        var context = ResilienceContextPool.Shared.Get(stopping);
        context.Properties.Set(BatchSizeKey, batch.Count);
        HttpResponseMessage? response = null;
        try
        {
            response = await _resilience.ExecuteAsync(
                static (ctx, state) => new ValueTask<HttpResponseMessage>(state.Self.AttemptAsync(state.Batch, ctx.CancellationToken)),
                context, (Self: this, Batch: batch)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            Drop(batch.Count, "the client stopped while the batch was in flight");
            return;
        }
        catch (Exception e)
        {
            Drop(batch.Count, $"retries ran out ({e.GetType().Name}: {e.Message})");
            return;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        using (response)
            await HandleAnswerAsync(batch, response, stopping).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> AttemptAsync(List<BufferedEvent> batch, CancellationToken cancellationToken)
    {
        // sentAt is stamped on every attempt: the pipeline corrects clock skew with receivedAt − (sentAt − timestamp).
        var body = Wire.Body(batch, _time.GetUtcNow(), _options.Gzip);
        using var request = new HttpRequestMessage(HttpMethod.Post, _eventsUri) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        if (_options.Gzip) request.Content.Headers.ContentEncoding.Add("gzip");
        request.Headers.Add("X-Api-Key", _options.ApiKey);
        return await _http().SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }

    private async Task HandleAnswerAsync(List<BufferedEvent> batch, HttpResponseMessage response, CancellationToken stopping)
    {
        var status = (int)response.StatusCode;
        var answer = await ReadAnswerAsync(response, stopping).ConfigureAwait(false);
        switch (status)
        {
            case 202 or 200:
                lock (_lock)
                {
                    _sent += answer.Accepted ?? batch.Count - answer.Rejected.Count;
                    _rejected += answer.Rejected.Count;
                }
                LogRejections(answer);
                return;
            case 400:
                lock (_lock)
                {
                    _rejected += answer.Rejected.Count;
                    _dropped += Math.Max(0, batch.Count - answer.Rejected.Count);
                }
                LogRejections(answer);
                if (answer.Rejected.Count < batch.Count)
                    _log.LogError("Pipeline client: batch of {Count} events refused (400 {Code}: {Message})", batch.Count, answer.ErrorCode, answer.ErrorMessage);
                return;
            case 413 when batch.Count > 1:
                // Too large for the endpoint: send each half on its own.
                var half = batch.Count / 2;
                await SendAsync(batch[..half], stopping).ConfigureAwait(false);
                await SendAsync(batch[half..], stopping).ConfigureAwait(false);
                return;
            default:
                Drop(batch.Count, $"the pipeline answered {status} {answer.ErrorCode}: {answer.ErrorMessage}");
                return;
        }
    }

    private void Drop(int count, string why)
    {
        lock (_lock) _dropped += count;
        _log.LogError("Pipeline client: batch of {Count} events dropped: {Reason}", count, why);
    }

    private void LogOverflow(long dropped)
    {
        if (dropped == 1 || dropped % 1000 == 0)
            _log.LogWarning("Pipeline client: buffer full ({Capacity} events); {Mode}: {Dropped} dropped so far", _options.BufferCapacity, _options.BufferFullMode, dropped);
    }

    private void LogRejections(Answer answer)
    {
        foreach (var (eventId, code, message) in answer.Rejected.Take(10))
            _log.LogWarning("Pipeline client: event {EventId} rejected ({Code}): {Message}", eventId, code, message);
    }

    private ResiliencePipeline<HttpResponseMessage> BuildResilience()
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time };
        builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = Math.Max(1, _options.MaxRetryAttempts),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = _options.RetryBaseDelay,
            MaxDelay = _options.MaxRetryDelay,
            ShouldHandle = args => ValueTask.FromResult(_options.MaxRetryAttempts > 0 && IsTransient(args.Outcome, args.Context.CancellationToken)),
            DelayGenerator = args => ValueTask.FromResult(
                args.Outcome.Result is { } r ? RetryAfterDelay(r, _time.GetUtcNow(), _options.MaxRetryDelay, Random.Shared) : null),
            OnRetry = args =>
            {
                var count = args.Context.Properties.GetValue(BatchSizeKey, 0);
                lock (_lock) _retried += count;
                _log.LogInformation("Pipeline client: retry {Attempt} of a batch of {Count} events in {Delay} ({Reason})",
                    args.AttemptNumber + 1, count, args.RetryDelay,
                    args.Outcome.Result is { } r ? $"{(int)r.StatusCode}" : args.Outcome.Exception?.GetType().Name);
                return ValueTask.CompletedTask;
            },
        });
        builder.AddTimeout(_options.AttemptTimeout);
        return builder.Build();
    }

    /// <summary>Whether an attempt's outcome is worth another attempt.</summary>
    internal static bool IsTransient(Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Exception: OperationCanceledException } => !cancellationToken.IsCancellationRequested,
        { Exception: not null } => false,
        { Result: { } r } => r.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
            or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout,
        _ => false,
    };

    /// <summary>
    /// The wait a <c>Retry-After</c> asks for (seconds or an HTTP date), plus up to 10 % (at most
    /// 1 s) of jitter so that clients told the same thing do not come back together, capped at
    /// <paramref name="max"/>; null when the answer has none (exponential back-off applies).
    /// </summary>
    internal static TimeSpan? RetryAfterDelay(HttpResponseMessage response, DateTimeOffset now, TimeSpan max, Random random)
    {
        var header = response.Headers.RetryAfter;
        TimeSpan? asked = header?.Delta ?? (header?.Date is { } date ? date - now : null);
        if (asked is not { } wait) return null;
        if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        var jitter = TimeSpan.FromMilliseconds(random.NextDouble() * Math.Min(1000, wait.TotalMilliseconds * 0.1));
        var total = wait + jitter;
        return total > max ? max : total;
    }

    private sealed record Answer(int? Accepted, List<(string? EventId, string Code, string Message)> Rejected, string? ErrorCode, string? ErrorMessage);

    private static async Task<Answer> ReadAnswerAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var rejected = new List<(string?, string, string)>();
        try
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (bytes.Length == 0) return new(null, rejected, null, null);
            using var json = JsonDocument.Parse(bytes);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return new(null, rejected, null, null);
            int? accepted = root.TryGetProperty("accepted", out var a) && a.TryGetInt32(out var n) ? n : null;
            if (root.TryGetProperty("rejected", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var r in list.EnumerateArray())
                    rejected.Add((
                        r.TryGetProperty("eventId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null,
                        r.TryGetProperty("code", out var c) ? c.ToString() : "",
                        r.TryGetProperty("message", out var m) ? m.ToString() : ""));
            }
            string? code = null, message = null;
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                code = error.TryGetProperty("code", out var c) ? c.ToString() : null;
                message = error.TryGetProperty("message", out var m) ? m.ToString() : null;
            }
            return new(accepted, rejected, code, message);
        }
        catch (JsonException)
        {
            return new(null, rejected, null, null);
        }
    }

    private static HttpClient OwnHttpClient() => new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
