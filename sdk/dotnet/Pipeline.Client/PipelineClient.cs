using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Pipeline.Client;

/// <summary>Sends events to the pipeline's ingest endpoint in the background.</summary>
/// <remarks>
/// Only <see cref="IAsyncDisposable"/>: disposing flushes, which is network work, so there is no
/// synchronous <c>Dispose</c> that would have to block on it. Use <c>await using</c>, or let the
/// container dispose the client (the generic host and ASP.NET Core dispose it with <c>DisposeAsync</c>).
/// </remarks>
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
/// The .NET client of <c>POST /api/v1/events</c>. <see cref="Track"/> writes to a bounded
/// <see cref="Channel{T}"/> (<see cref="PipelineClientOptions.BufferCapacity"/>); its single reader,
/// one background loop, sends batches (by count, size or age), gzipped, stamping <c>sentAt</c> on
/// every attempt, and retries transient failures (network, timeouts, 408, 429, 500, 502, 503, 504)
/// with exponential back-off and jitter, honouring <c>Retry-After</c>, up to
/// <see cref="PipelineClientOptions.MaxRetryAttempts"/>. <see cref="DisposeAsync"/> completes the
/// channel and flushes (bounded by <see cref="PipelineClientOptions.ShutdownTimeout"/>). All waiting
/// (the flush interval, back-off, attempt and shutdown timeouts) runs on the <see cref="TimeProvider"/>
/// given to the constructor.
/// </summary>
public sealed class PipelineClient : IPipelineClient
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

    // The buffer. Events stay in it until their batch is due, so BufferCapacity bounds what waits
    // (the batch in flight aside) and a full buffer drops as BufferFullMode says.
    private readonly Channel<BufferedEvent> _buffer;

    // Rung (capacity 1, extra rings dropped) when a batch may have become due before the flush
    // interval: the buffer reached a batch's count or size, a flush waits, disposal began.
    private readonly Channel<bool> _doorbell = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly Lock _flushLock = new();
    private readonly List<(long Target, TaskCompletionSource Done)> _flushWaiters = [];
    private bool _loopEnded;

    private long _lastSequence;
    private long _bufferBytes;  // JSON bytes of the events in the buffer, plus the carried one
    private long _taken;        // events the loop took out of the buffer and has not finished (the batch in flight, the carried one)
    private BufferedEvent? _carry; // the loop's only: an event read but not fitting the batch (see TakeBatch), first of the next one
    private volatile bool _closing;

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _disposed;

    private long _tracked, _sent, _rejected, _retried, _dropped;

    /// <summary>A client with its own <see cref="HttpClient"/>.</summary>
    /// <param name="options">The settings (validated; copied, so later changes have no effect).</param>
    /// <param name="logger">Where drops, rejections and retries are logged.</param>
    /// <param name="timeProvider">The clock of the flush interval, back-off, timeouts and <c>sentAt</c> (default <see cref="TimeProvider.System"/>); tests pass a fake one.</param>
    public PipelineClient(PipelineClientOptions options, ILogger<PipelineClient>? logger = null, TimeProvider? timeProvider = null)
        : this(OwnHttpClient(), owns: true, options, logger, timeProvider)
    {
    }

    /// <summary>A client on the given <see cref="HttpClient"/> (its <c>BaseAddress</c> is ignored; <see cref="PipelineClientOptions.Endpoint"/> is used). The caller keeps ownership of it.</summary>
    /// <param name="httpClient">The client to send with; not disposed by this one.</param>
    /// <param name="options">The settings (validated; copied, so later changes have no effect).</param>
    /// <param name="logger">Where drops, rejections and retries are logged.</param>
    /// <param name="timeProvider">The clock of the flush interval, back-off, timeouts and <c>sentAt</c> (default <see cref="TimeProvider.System"/>); tests pass a fake one.</param>
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
        _buffer = _options.BufferFullMode == BufferFullMode.DropOldest
            ? Channel.CreateBounded<BufferedEvent>(
                new BoundedChannelOptions(_options.BufferCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                OnOldestDropped)
            // The channel's own DropNewest drops the newest event already buffered; ours refuses the
            // new one, which is a write that fails on a full channel in Wait mode.
            : Channel.CreateBounded<BufferedEvent>(
                new BoundedChannelOptions(_options.BufferCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        _loop = Task.Run(RunAsync);
    }

    /// <inheritdoc />
    public PipelineClientStatistics Statistics => new(
        Interlocked.Read(ref _tracked), Interlocked.Read(ref _sent), Interlocked.Read(ref _rejected),
        Interlocked.Read(ref _retried), Interlocked.Read(ref _dropped), Pending);

    // Events waiting: in the buffer, or taken by the loop and not finished. The loop counts an event
    // as taken before it leaves the buffer, so this never reads low.
    private long Pending => _buffer.Reader.Count + Interlocked.Read(ref _taken);

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

        var buffered = new BufferedEvent(Interlocked.Increment(ref _lastSequence), pipelineEvent.EventId, json, _time.GetUtcNow());
        var bytes = Interlocked.Add(ref _bufferBytes, json.Length);
        if (!_buffer.Writer.TryWrite(buffered))
        {
            // The channel is completed (disposal began) or full in DropNewest mode.
            Interlocked.Add(ref _bufferBytes, -json.Length);
            var dropped = Interlocked.Increment(ref _dropped);
            if (_closing)
                _log.LogWarning("Pipeline client: event {EventId} tracked after disposal was dropped", pipelineEvent.EventId);
            else
                LogOverflow(dropped);
            return false;
        }
        Interlocked.Increment(ref _tracked);
        if (bytes >= _options.MaxBatchBytes || _buffer.Reader.Count >= _options.MaxBatchEvents)
            Ring();
        return true;
    }

    /// <inheritdoc />
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource done;
        lock (_flushLock)
        {
            // Nothing pending means everything tracked before the call is done. Otherwise the loop,
            // which completes waiters under this lock each time it looks at the buffer, will see this one.
            if (_loopEnded || Pending == 0) return;
            done = NewSignal();
            _flushWaiters.Add((Interlocked.Read(ref _lastSequence), done));
        }
        Ring();
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops accepting events (the channel is completed), sends what is buffered and waits for it
    /// for at most <see cref="PipelineClientOptions.ShutdownTimeout"/>; then cancels what is in
    /// flight and counts whatever is left as dropped. Calling it again does nothing.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _closing = true;
        _buffer.Writer.TryComplete();
        Ring();
        try
        {
            // The loop ends by itself once the completed channel is empty.
            await _loop.WaitAsync(_options.ShutdownTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log.LogWarning("Pipeline client: the buffer did not drain within {Timeout}; stopping", _options.ShutdownTimeout);
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);

        var left = 0;
        if (_carry is not null)
        {
            _carry = null;
            Interlocked.Decrement(ref _taken);
            left++;
        }
        while (_buffer.Reader.TryRead(out _)) left++;
        Interlocked.Exchange(ref _bufferBytes, 0);
        if (left > 0)
        {
            _log.LogWarning("Pipeline client: {Count} buffered events dropped at shutdown", left);
            Interlocked.Add(ref _dropped, left);
        }
        lock (_flushLock)
        {
            _loopEnded = true;
            foreach (var (_, done) in _flushWaiters) done.TrySetResult();
            _flushWaiters.Clear();
        }
        _ownedHttp?.Dispose();
        _stop.Dispose();
    }

    private void Ring() => _doorbell.Writer.TryWrite(true);

    // The channel dropped its oldest event to make room for a new one (DropOldest).
    private void OnOldestDropped(BufferedEvent oldest)
    {
        Interlocked.Add(ref _bufferBytes, -oldest.Json.Length);
        LogOverflow(Interlocked.Increment(ref _dropped));
    }

    // The channel's single reader: one batch at a time, in the order events were tracked.
    private async Task RunAsync()
    {
        var stopping = _stop.Token;
        try
        {
            while (true)
            {
                stopping.ThrowIfCancellationRequested();
                // Take the ring before looking at the buffer, so one rung after the look wakes the wait.
                _doorbell.Reader.TryRead(out _);
                BufferedEvent? oldest;
                lock (_flushLock)
                {
                    oldest = Oldest();
                    CompleteFlushWaiters(oldest);
                }

                if (oldest is null)
                {
                    // Empty: wait for an event. False once disposal completed the channel and it is drained.
                    if (!await _buffer.Reader.WaitToReadAsync(stopping).ConfigureAwait(false)) return;
                    continue;
                }

                if (DueIn(oldest) is { } wait)
                {
                    await WaitForRingAsync(wait, stopping).ConfigureAwait(false);
                    continue;
                }

                var batch = TakeBatch();
                try
                {
                    await SendAsync(batch, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    // Stopped while the answer was read, before it was counted.
                    Drop(batch.Count, "the client stopped while the batch was in flight");
                    throw;
                }
                catch (Exception e)
                {
                    // SendAsync counts every outcome itself; this keeps the loop alive if it failed unexpectedly.
                    Drop(batch.Count, $"{e.GetType().Name}: {e.Message}");
                }
                finally
                {
                    Interlocked.Add(ref _taken, -batch.Count);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    // The oldest event waiting: the carried one, else the buffer's first.
    private BufferedEvent? Oldest() => _carry ?? (_buffer.Reader.TryPeek(out var first) ? first : null);

    // Under _flushLock, by the loop between batches (nothing in flight): a flush is done when
    // every event up to its target has left the buffer.
    private void CompleteFlushWaiters(BufferedEvent? oldest)
    {
        var lowest = oldest?.Sequence ?? long.MaxValue;
        _flushWaiters.RemoveAll(w =>
        {
            if (w.Target >= lowest) return false;
            w.Done.TrySetResult();
            return true;
        });
    }

    // Null when a batch is due: the buffer holds a batch's count or size, a flush waits for the
    // oldest event, the client is closing, or the oldest event has waited FlushInterval. Otherwise
    // how long until the oldest event has waited FlushInterval.
    private TimeSpan? DueIn(BufferedEvent oldest)
    {
        if (_closing
            || _buffer.Reader.Count + (_carry is null ? 0 : 1) >= _options.MaxBatchEvents
            || Interlocked.Read(ref _bufferBytes) >= _options.MaxBatchBytes)
            return null;
        lock (_flushLock)
        {
            if (_flushWaiters.Exists(w => w.Target >= oldest.Sequence)) return null;
        }
        var age = _time.GetUtcNow() - oldest.BufferedAt;
        return age >= _options.FlushInterval ? null : _options.FlushInterval - age;
    }

    // Sleeps until the doorbell rings or the wait is over (both on the injected clock), whichever is first.
    private async Task WaitForRingAsync(TimeSpan wait, CancellationToken stopping)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var ring = _doorbell.Reader.WaitToReadAsync(cancel.Token).AsTask();
        var timer = Task.Delay(wait, _time, cancel.Token);
        await Task.WhenAny(ring, timer).ConfigureAwait(false);
        await cancel.CancelAsync().ConfigureAwait(false);
    }

    // Takes events from the front until the next would pass MaxBatchEvents or MaxBatchBytes, so a
    // request is at most MaxBatchBytes plus the envelope. It peeks before it reads; the one event
    // read without fitting (the peeked one was dropped by DropOldest in between and the one behind
    // it is larger) is carried to the next batch.
    private List<BufferedEvent> TakeBatch()
    {
        var batch = new List<BufferedEvent>();
        long bytes = 0;
        while (batch.Count < _options.MaxBatchEvents)
        {
            BufferedEvent next;
            if (_carry is { } carried)
            {
                next = carried;
                _carry = null;
            }
            else
            {
                if (!_buffer.Reader.TryPeek(out var first)) break;
                if (batch.Count > 0 && bytes + first.Json.Length + 1 > _options.MaxBatchBytes) break;
                Interlocked.Increment(ref _taken);
                if (!_buffer.Reader.TryRead(out next!))
                {
                    Interlocked.Decrement(ref _taken);
                    break;
                }
            }
            var size = next.Json.Length + 1;
            if (batch.Count > 0 && bytes + size > _options.MaxBatchBytes)
            {
                _carry = next;
                break;
            }
            batch.Add(next);
            bytes += size;
            Interlocked.Add(ref _bufferBytes, -next.Json.Length);
        }
        return batch;
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
                Interlocked.Add(ref _sent, answer.Accepted ?? batch.Count - answer.Rejected.Count);
                Interlocked.Add(ref _rejected, answer.Rejected.Count);
                LogRejections(answer);
                return;
            case 400:
                Interlocked.Add(ref _rejected, answer.Rejected.Count);
                Interlocked.Add(ref _dropped, Math.Max(0, batch.Count - answer.Rejected.Count));
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
        Interlocked.Add(ref _dropped, count);
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
                Interlocked.Add(ref _retried, count);
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
