namespace Pipeline.Client;

/// <summary>What to do with a new event when the buffer is full.</summary>
public enum BufferFullMode
{
    /// <summary>Drop the oldest buffered event to make room for the new one (the default: recent data is worth more, and events older than 30 days are rejected by the pipeline anyway).</summary>
    DropOldest,

    /// <summary>Keep what is buffered and drop the new event (<see cref="IPipelineClient.Track"/> returns false).</summary>
    DropNewest,
}

/// <summary>Settings of <see cref="PipelineClient"/>. Bind them from configuration (section <c>PipelineClient</c> by convention) or set them in code.</summary>
public sealed class PipelineClientOptions
{
    /// <summary>Base address of the pipeline, for example <c>https://metrics.example.com</c> or <c>http://127.0.0.1:7071</c>; events go to <c>{Endpoint}/api/v1/events</c>.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The source's ingest key (<c>mpk_…</c>), sent as <c>X-Api-Key</c>.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>Default <c>miniProgramId</c> of events that carry none.</summary>
    public string? MiniProgramId { get; set; }

    /// <summary>Default <c>platform</c> of events that carry none (none when null).</summary>
    public ClientPlatform? Platform { get; set; }

    /// <summary>A batch is sent when it has this many events (1–1000). Default 500.</summary>
    public int MaxBatchEvents { get; set; } = 500;

    /// <summary>… or when its events' JSON reaches this many bytes (at most 4 MiB less a little). Default 1 MiB.</summary>
    public int MaxBatchBytes { get; set; } = 1024 * 1024;

    /// <summary>… or when its oldest event has waited this long. Default 5 s.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most events held in memory waiting to be sent (not counting the batch in flight). Default 10 000.</summary>
    public int BufferCapacity { get; set; } = 10_000;

    /// <summary>What happens to a new event when the buffer is full. Either way the dropped event is counted in <see cref="PipelineClientStatistics.Dropped"/>.</summary>
    public BufferFullMode BufferFullMode { get; set; } = BufferFullMode.DropOldest;

    /// <summary>Gzip request bodies (<c>Content-Encoding: gzip</c>). Default true.</summary>
    public bool Gzip { get; set; } = true;

    /// <summary>Retries of one batch after the first attempt (0–20). Default 6.</summary>
    public int MaxRetryAttempts { get; set; } = 6;

    /// <summary>First back-off delay (exponential, with jitter) when the answer has no <c>Retry-After</c>. Default 500 ms.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest back-off delay, and the cap on a <c>Retry-After</c> the client honours. Default 30 s.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for one attempt. Default 30 s.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <see cref="PipelineClient.DisposeAsync"/> waits for the buffer to drain before it cancels what is in flight and drops the rest. Default 10 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        if (Endpoint is null || !Endpoint.IsAbsoluteUri || Endpoint.Scheme is not ("http" or "https"))
            throw new ArgumentException("PipelineClientOptions.Endpoint must be an absolute http(s) URI, for example http://127.0.0.1:7071.", nameof(Endpoint));
        if (string.IsNullOrWhiteSpace(ApiKey))
            throw new ArgumentException("PipelineClientOptions.ApiKey is required (an ingest key from 'keys create').", nameof(ApiKey));
        if (MiniProgramId is not null && !Wire.IsMiniProgramId(MiniProgramId))
            throw new ArgumentException("PipelineClientOptions.MiniProgramId must be 1-64 of A-Z, a-z, 0-9, '_' and '-'.", nameof(MiniProgramId));
        if (MaxBatchEvents is < 1 or > Wire.MaxBatchEvents)
            throw new ArgumentException($"PipelineClientOptions.MaxBatchEvents must be 1 to {Wire.MaxBatchEvents}.", nameof(MaxBatchEvents));
        if (MaxBatchBytes < Wire.MaxEventBytes || MaxBatchBytes > Wire.MaxBodyBytes - Wire.EnvelopeBytes - Wire.MaxBatchEvents)
            throw new ArgumentException($"PipelineClientOptions.MaxBatchBytes must be {Wire.MaxEventBytes} to {Wire.MaxBodyBytes - Wire.EnvelopeBytes - Wire.MaxBatchEvents}.", nameof(MaxBatchBytes));
        if (FlushInterval <= TimeSpan.Zero)
            throw new ArgumentException("PipelineClientOptions.FlushInterval must be positive.", nameof(FlushInterval));
        if (BufferCapacity < 1)
            throw new ArgumentException("PipelineClientOptions.BufferCapacity must be at least 1.", nameof(BufferCapacity));
        if (MaxRetryAttempts is < 0 or > 20)
            throw new ArgumentException("PipelineClientOptions.MaxRetryAttempts must be 0 to 20.", nameof(MaxRetryAttempts));
        if (RetryBaseDelay <= TimeSpan.Zero || MaxRetryDelay < RetryBaseDelay)
            throw new ArgumentException("PipelineClientOptions.RetryBaseDelay must be positive and at most MaxRetryDelay.", nameof(RetryBaseDelay));
        if (AttemptTimeout <= TimeSpan.Zero || ShutdownTimeout < TimeSpan.Zero)
            throw new ArgumentException("PipelineClientOptions.AttemptTimeout must be positive and ShutdownTimeout not negative.", nameof(AttemptTimeout));
    }

    internal PipelineClientOptions Clone() => (PipelineClientOptions)MemberwiseClone();
}

/// <summary>Counters of one client since it was created.</summary>
/// <param name="Tracked">Events accepted by <see cref="IPipelineClient.Track"/> into the buffer.</param>
/// <param name="Sent">Events the pipeline accepted (the <c>accepted</c> of its <c>202</c> answers).</param>
/// <param name="Rejected">Events the pipeline answered with a per-event rejection (listed in <c>rejected</c>); they are not retried.</param>
/// <param name="Retried">Events sent again by retries: a batch of n events retried twice adds 2n (every counter counts events).</param>
/// <param name="Dropped">Events given up by the client: buffer overflow, a batch whose retries ran out or that got a non-retryable answer (401, 413 for a single event, 415, other 4xx), events tracked after disposal, and what was still buffered when the shutdown timeout ran out.</param>
/// <param name="Buffered">Events waiting now (buffer plus the batch in flight).</param>
public sealed record PipelineClientStatistics(long Tracked, long Sent, long Rejected, long Retried, long Dropped, long Buffered);
