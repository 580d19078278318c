using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Time;

namespace Pipeline.Core.Ingest;

/// <summary>
/// Ingest, as both hosts (Functions and the local runner) run it: authenticate, check headers, read
/// the body under its limit, parse and validate, then land the accepted events and enqueue the
/// claim check before answering <c>202</c>. No logging here (Core has no logger): the outcome
/// carries what a host logs.
/// </summary>
/// <remarks>
/// Order of answers for HTTP: 401 (key missing, malformed, unknown, wrong secret, or its source no
/// longer registered: <c>unauthorized</c>; the right secret of a revoked or expired key: <c>key_revoked</c>,
/// <c>key_expired</c>), 415 (content type, then encoding), 429 (the source's bucket is
/// empty: decided before the body is read), 413 (body), 400 (batch), 429 (the batch's events cost
/// more tokens than the bucket holds; nothing stored), then per-event validation. The inbound queue
/// path is not rate-limited (the queue itself buffers). A 202 is answered only after the landing write and the enqueue both
/// succeeded. An outage that Storage reports as such (<see cref="StorageUnavailableException"/>, which
/// Storage raises at its boundary, client-side timeouts included) is a 503 with <c>Retry-After</c>;
/// only that may be, because clients retry a 503 for ever. Anything else is a bug and propagates: the
/// endpoint logs it with its exception and answers 500 with a correlation id that is also in the log.
/// Every 400 after authentication is also recorded for operators in the rejected store;
/// if that write fails the answer is 503, so that nothing about the request is silently lost (a
/// retry of a batch that was already landed is harmless: processing de-duplicates by event id).
/// </remarks>
public sealed class IngestHandler
{
    /// <summary>The <see cref="LandingBatch.KeyId"/> of batches that came through the inbound queue.</summary>
    public const string InboundQueueKeyId = "inbound-queue";

    /// <summary>The <see cref="LandingBatch.KeyId"/> of batches landed by a bulk import (<see cref="HandleImportAsync"/>).</summary>
    public const string ImportKeyId = "import";

    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(30);

    private readonly IngestKeyCache _keys;
    private readonly ILandingStore _landing;
    private readonly IProcessingQueue _queue;
    private readonly IRejectedEventStore _rejected;
    private readonly TimeProvider _time;
    private readonly BatchParser _parser;
    private readonly IIngestReceiptLedger _receipts;
    private readonly ReportingCalendar _calendar;
    private readonly IngestRateLimiter _limiter;

    /// <summary>
    /// A handler. <paramref name="keys"/> is the instance's one key cache (read keys are resolved through the
    /// same cache, so a revocation reaches both within <see cref="IngestKeyCache.HitLifetime"/>); without
    /// <paramref name="rateLimiter"/> the HTTP path is not limited (the trusted queue path never is).
    /// </summary>
    public IngestHandler(IngestKeyCache keys, ILandingStore landing, IProcessingQueue queue, IRejectedEventStore rejected,
        IIngestReceiptLedger receipts, PipelineOptions options, TimeProvider time, IngestRateLimiter? rateLimiter = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        _receipts = receipts ?? throw new ArgumentNullException(nameof(receipts));
        _limiter = rateLimiter ?? IngestRateLimiter.Unlimited;
        _landing = landing ?? throw new ArgumentNullException(nameof(landing));
        _queue = queue ?? throw new ArgumentNullException(nameof(queue));
        _rejected = rejected ?? throw new ArgumentNullException(nameof(rejected));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _parser = new BatchParser(new UserPseudonymizer(options));
        _calendar = new ReportingCalendar(options.ReportingTimeZone);
    }

    /// <summary>Handles <c>POST /api/v1/events</c>.</summary>
    public async Task<IngestOutcome> HandleAsync(IngestRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var receivedAt = _time.GetUtcNow();

        if (string.IsNullOrWhiteSpace(request.ApiKey))
            return IngestOutcome.Error(IngestResultKind.Unauthorized, IngestErrorCodes.Unauthorized, "The X-Api-Key header is missing.");
        if (IngestKeys.KindOf(request.ApiKey) == ApiKeyKind.Read)
            return IngestOutcome.Error(IngestResultKind.Unauthorized, IngestErrorCodes.Unauthorized, "The X-Api-Key is a read key (mrk_…), which reads metrics and cannot send events; use the source's ingest key (mpk_…).");
        if (!IngestKeys.TryParse(request.ApiKey, out var keyId, out var secret))
            return IngestOutcome.Error(IngestResultKind.Unauthorized, IngestErrorCodes.Unauthorized, "The X-Api-Key is not an ingest key (mpk_<id>_<secret>).");

        SourceRegistration? source;
        try
        {
            var key = await _keys.FindKeyAsync(keyId, ct).ConfigureAwait(false);
            // One answer for an unknown key and a wrong secret, so it tells an attacker nothing; whoever
            // holds the right secret of a revoked or expired key is told which, so they fetch a new one.
            // A read key's id and secret under the ingest prefix are still a read key: refused like an unknown one.
            var status = key is null || key.Kind != ApiKeyKind.Ingest ? IngestKeyStatus.WrongSecret : IngestKeys.Check(key, secret, receivedAt);
            if (key is null || status == IngestKeyStatus.WrongSecret)
                return Tag(IngestOutcome.Error(IngestResultKind.Unauthorized, IngestErrorCodes.Unauthorized, "The X-Api-Key is unknown or revoked."), null, keyId, null);
            if (status == IngestKeyStatus.Revoked)
                return Tag(IngestOutcome.Error(IngestResultKind.Unauthorized, IngestErrorCodes.KeyRevoked, "The X-Api-Key was revoked; ask the pipeline's operators for a new key."), key.Source, keyId, null);
            if (status == IngestKeyStatus.Expired)
                return Tag(IngestOutcome.Error(IngestResultKind.Unauthorized, IngestErrorCodes.KeyExpired, "The X-Api-Key was replaced by a newer key and its overlap period has ended; use the new key."), key.Source, keyId, null);
            source = await _keys.FindSourceAsync(key.Source, ct).ConfigureAwait(false);
            if (source is null)
                return Tag(IngestOutcome.Error(IngestResultKind.Unauthorized, IngestErrorCodes.Unauthorized, "The X-Api-Key is unknown or revoked."), null, keyId, null);
        }
        catch (StorageUnavailableException e)
        {
            return Unavailable(e, null, keyId, null);
        }

        if (!RequestHeaders.IsJsonUtf8(request.ContentType))
        {
            return Tag(IngestOutcome.Error(IngestResultKind.UnsupportedFormat, IngestErrorCodes.UnsupportedMediaType,
                $"Content-Type must be application/json (with charset utf-8, if any); got {Quote(request.ContentType)}."), source.Name, keyId, null);
        }
        if (!RequestHeaders.TryParseContentEncoding(request.ContentEncoding, out var gzip))
        {
            return Tag(IngestOutcome.Error(IngestResultKind.UnsupportedFormat, IngestErrorCodes.UnsupportedEncoding,
                $"Content-Encoding must be gzip or absent; got {Quote(request.ContentEncoding)}."), source.Name, keyId, null);
        }

        // Rate limit, first check: an empty bucket is answered before the body is read (cheap for a flood).
        if (_limiter.Check(source.Name) is { } wait)
            return RateLimited(source.Name, keyId, wait);

        using var read = await BodyReader.ReadAsync(request.Body, gzip, ct).ConfigureAwait(false);
        switch (read.Status)
        {
            case BodyReadStatus.TooLarge:
                _limiter.Charge(source.Name, 1);
                return Tag(IngestOutcome.Error(IngestResultKind.TooLarge, IngestErrorCodes.PayloadTooLarge, read.Error!), source.Name, keyId, null);
            case BodyReadStatus.InvalidBody:
                _limiter.Charge(source.Name, 1);
                return await RejectBatchAsync(source.Name, keyId, NewBatchId(receivedAt), receivedAt,
                    IngestErrorCodes.InvalidBody, read.Error!, ct).ConfigureAwait(false);
        }
        return await AcceptAsync(source, keyId, read.Body, receivedAt, _limiter, EventTimeRules.Contract, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Handles a batch from the inbound queue (see <see cref="InboundEnvelope"/>): a trusted back end,
    /// no key; <paramref name="source"/> must be registered (else 401 <c>unknown_source</c>).
    /// <paramref name="body"/> is plain JSON under the same limits as HTTP.
    /// </summary>
    public Task<IngestOutcome> HandleTrustedAsync(string source, ReadOnlyMemory<byte> body, CancellationToken ct) =>
        HandleAsSourceAsync(source, InboundQueueKeyId, body, EventTimeRules.Contract, ct);

    /// <summary>
    /// Handles one batch of a bulk import (the local runner's <c>import</c> verb, run by an operator with
    /// access to the storage account): exactly as <see cref="HandleTrustedAsync"/> (a registered
    /// <paramref name="source"/>, its allow-list, every validation rule, the landing blob, claim check,
    /// rejected record and receipt; no rate limit), except that <paramref name="timeRules"/> decide the
    /// events' time and the accepted window (<see cref="EventTimeRules.Import"/>), and the batch's key id
    /// is <see cref="ImportKeyId"/>. The outcome lists the rejections in <see cref="IngestOutcome.Rejections"/>.
    /// </summary>
    public Task<IngestOutcome> HandleImportAsync(string source, ReadOnlyMemory<byte> body, EventTimeRules timeRules, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(timeRules);
        return HandleAsSourceAsync(source, ImportKeyId, body, timeRules, ct);
    }

    private async Task<IngestOutcome> HandleAsSourceAsync(string source, string keyId, ReadOnlyMemory<byte> body, EventTimeRules timeRules, CancellationToken ct)
    {
        var receivedAt = _time.GetUtcNow();
        SourceRegistration? registration;
        try
        {
            registration = string.IsNullOrEmpty(source) ? null : await _keys.FindSourceAsync(source, ct).ConfigureAwait(false);
        }
        catch (StorageUnavailableException e)
        {
            return Unavailable(e, source, keyId, null);
        }
        if (registration is null)
        {
            return Tag(IngestOutcome.Error(IngestResultKind.Unauthorized, IngestErrorCodes.UnknownSource, $"The source {Quote(source)} is not registered."),
                null, keyId, null);
        }
        if (body.Length > IngestLimits.MaxBodyBytes)
        {
            return Tag(IngestOutcome.Error(IngestResultKind.TooLarge, IngestErrorCodes.PayloadTooLarge, $"The body is larger than {IngestLimits.MaxBodyBytes} bytes."),
                registration.Name, keyId, null);
        }
        return await AcceptAsync(registration, keyId, body, receivedAt, IngestRateLimiter.Unlimited, timeRules, ct).ConfigureAwait(false);
    }

    private async Task<IngestOutcome> AcceptAsync(SourceRegistration source, string keyId, ReadOnlyMemory<byte> body,
        DateTimeOffset receivedAt, IngestRateLimiter limiter, EventTimeRules timeRules, CancellationToken ct)
    {
        var batchId = NewBatchId(receivedAt);
        var parsed = _parser.Parse(body, source, receivedAt, timeRules);
        if (parsed.IsBatchError)
        {
            limiter.Charge(source.Name, 1);
            return await RejectBatchAsync(source.Name, keyId, batchId, receivedAt, parsed.ErrorCode!, parsed.ErrorMessage!, ct).ConfigureAwait(false);
        }

        // Rate limit, second check: every event of the batch (accepted or not) costs a token; over the
        // limit, nothing is stored or recorded and the client retries the same batch after Retry-After.
        if (limiter.TryAcquire(source.Name, parsed.ReceivedCount) is { } wait)
            return RateLimited(source.Name, keyId, wait);

        if (parsed.Accepted.Count == 0)
        {
            var code = IngestErrorCodes.AllRejected;
            var message = parsed.ReceivedCount == 1 ? "The event was rejected." : $"All {parsed.ReceivedCount} events were rejected.";
            try
            {
                await _rejected.WriteAsync(Record(parsed, source.Name, keyId, batchId, receivedAt, 400, code, message), ct).ConfigureAwait(false);
                await RecordReceiptAsync(parsed, source.Name, batchId, receivedAt, ct).ConfigureAwait(false);
            }
            catch (StorageUnavailableException e)
            {
                return Unavailable(e, source.Name, keyId, batchId);
            }
            return Tag(IngestOutcome.Error(IngestResultKind.Invalid, code, message, parsed.Rejections), source.Name, keyId, batchId);
        }

        try
        {
            var landing = new LandingBatch
            {
                BatchId = batchId,
                Source = source.Name,
                KeyId = keyId,
                ReceivedAt = receivedAt,
                SentAt = parsed.SentAt,
                ReceivedCount = parsed.ReceivedCount,
                RejectedCount = parsed.Rejections.Count,
                Events = parsed.Accepted,
            };
            var path = await _landing.WriteAsync(landing, ct).ConfigureAwait(false);
            await _queue.EnqueueAsync(new ProcessingMessage(batchId, path), ct).ConfigureAwait(false);
            if (parsed.Rejections.Count > 0)
                await _rejected.WriteAsync(Record(parsed, source.Name, keyId, batchId, receivedAt, 202, null, null), ct).ConfigureAwait(false);
            await RecordReceiptAsync(parsed, source.Name, batchId, receivedAt, ct).ConfigureAwait(false);
        }
        catch (StorageUnavailableException e)
        {
            return Unavailable(e, source.Name, keyId, batchId);
        }

        return Tag(IngestOutcome.Success(batchId, parsed.Accepted.Count, parsed.Rejections, TimeRangeOf(parsed.Accepted)),
            source.Name, keyId, batchId);
    }

    // Counted by the reporting day of receipt (risk.rejected_event_rate); part of the durable write, so a 202 implies it.
    private Task RecordReceiptAsync(BatchParseResult parsed, string source, string batchId, DateTimeOffset receivedAt, CancellationToken ct) =>
        _receipts.RecordAsync(new IngestReceipt(batchId, source, receivedAt, parsed.ReceivedCount, parsed.Rejections.Count), _calendar.DayOf(receivedAt), ct);

    /// <summary>A 400 for the whole batch, recorded for operators first.</summary>
    private async Task<IngestOutcome> RejectBatchAsync(string source, string keyId, string batchId, DateTimeOffset receivedAt,
        string code, string message, CancellationToken ct)
    {
        try
        {
            await _rejected.WriteAsync(new RejectedBatch
            {
                BatchId = batchId,
                Source = source,
                KeyId = keyId,
                ReceivedAt = receivedAt,
                Status = 400,
                ErrorCode = code,
                ErrorMessage = message,
                ReceivedCount = 0,
                Rejections = [],
                Events = [],
            }, ct).ConfigureAwait(false);
        }
        catch (StorageUnavailableException e)
        {
            return Unavailable(e, source, keyId, batchId);
        }
        return Tag(IngestOutcome.Error(IngestResultKind.Invalid, code, message), source, keyId, batchId);
    }

    private static RejectedBatch Record(BatchParseResult parsed, string source, string keyId, string batchId, DateTimeOffset receivedAt,
        int status, string? code, string? message) => new()
    {
        BatchId = batchId,
        Source = source,
        KeyId = keyId,
        ReceivedAt = receivedAt,
        Status = status,
        ErrorCode = code,
        ErrorMessage = message,
        ReceivedCount = parsed.ReceivedCount,
        Rejections = parsed.Rejections,
        Events = parsed.RejectedEvents,
    };

    private static AcceptedTimeRange TimeRangeOf(IReadOnlyList<PipelineEvent> accepted)
    {
        long earliest = long.MaxValue, latest = long.MinValue;
        foreach (var e in accepted)
        {
            if (e.TimeMs < earliest) earliest = e.TimeMs;
            if (e.TimeMs > latest) latest = e.TimeMs;
        }
        return new AcceptedTimeRange(earliest, latest);
    }

    private IngestOutcome RateLimited(string source, string keyId, TimeSpan wait)
    {
        var (rate, burst) = _limiter.PerInstance(source);
        var seconds = Math.Max(1, (int)Math.Ceiling(Math.Min(wait.TotalSeconds, int.MaxValue)));
        var outcome = IngestOutcome.Error(IngestResultKind.RateLimited, IngestErrorCodes.RateLimited, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"The source is over its rate limit ({rate:0.###} events/s, bursts of {burst:0.###}, on this instance); nothing was accepted. Retry the same batch in {seconds} s."),
            retryAfter: TimeSpan.FromSeconds(seconds));
        return Tag(outcome, source, keyId, null);
    }

    private static IngestOutcome Unavailable(Exception e, string? source, string? keyId, string? batchId)
    {
        var retryAfter = e is StorageUnavailableException s ? s.RetryAfter : DefaultRetryAfter;
        var outcome = IngestOutcome.Error(IngestResultKind.Unavailable, IngestErrorCodes.StorageUnavailable,
            "Storage is unavailable; nothing was accepted. Retry the same batch later.", retryAfter: retryAfter);
        return Tag(outcome, source, keyId, batchId, e);
    }

    private static IngestOutcome Tag(IngestOutcome outcome, string? source, string? keyId, string? batchId, Exception? failure = null) =>
        outcome.With(source, keyId, batchId, failure);

    private static string NewBatchId(DateTimeOffset receivedAt) => Guid.CreateVersion7(receivedAt).ToString("N");

    private static string Quote(string? value) =>
        value is null ? "nothing" : "\"" + (value.Length <= 100 ? value : value[..100] + "…") + "\"";
}
