using Pipeline.Core.Ingest;

namespace Pipeline.Local.Simulation;

/// <summary>
/// Settings of one simulation run. Everything the run sends is a pure function of these settings
/// and the send times: the same seed sends the same ecosystem, the same faults, in the same order.
/// </summary>
public sealed class SimulationOptions
{
    /// <summary>
    /// Days of activity: the run covers the <c>Days * 24 h</c> that end at <see cref="EndTime"/>.
    /// 1 to 29, so that every event stays inside the contract's 30-day window when sent now; up to
    /// <see cref="MaxReplayedDays"/> when <see cref="AdvanceClockTo"/> replays the history day by day.
    /// </summary>
    public int Days { get; set; } = 7;

    /// <summary>Simulated users (openid-like ids). Some are active from the start, the rest join over the days.</summary>
    public int Users { get; set; } = 500;

    /// <summary>Simulated mini-programs (ignored when <see cref="AllowedMiniProgramIds"/> is set: then those ids are the ecosystem).</summary>
    public int MiniPrograms { get; set; } = 12;

    public int Seed { get; set; } = 42;

    /// <summary>The end of the simulated period; default: <see cref="TimeProvider"/>'s now. Events stop a minute before it.</summary>
    public DateTimeOffset? EndTime { get; set; }

    /// <summary>The clock of <see cref="EndTime"/>'s default, of <c>sentAt</c> and of the Retry-After waits.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// When set, the run replays its history: before each stage the client calls this with the
    /// stage's <see cref="SendStage.SendAt"/>, which must move <see cref="TimeProvider"/> (and the
    /// pipeline's clock) there. Each day's traffic is then sent just after the day, as a live
    /// ecosystem would send it, so a run longer than the contract's 30-day window can be simulated
    /// in minutes (the demo does this to show 30-day retention). Null: everything is sent now.
    /// </summary>
    public Action<DateTimeOffset>? AdvanceClockTo { get; set; }

    /// <summary>The longest run <see cref="AdvanceClockTo"/> allows.</summary>
    public const int MaxReplayedDays = 60;

    /// <summary>The pipeline's reporting time zone: the simulator's per-day expectations are computed in it, and it shapes the daily traffic curve.</summary>
    public string ReportingTimeZone { get; set; } = "Asia/Shanghai";

    /// <summary>Typical events per batch; each batch varies around it (and never exceeds 1000, the contract's limit).</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>Requests in flight at once.</summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>Share of batches sent gzip-compressed (<c>Content-Encoding: gzip</c>).</summary>
    public double GzipRate { get; set; } = 0.5;

    /// <summary>Share of batches re-sent byte for byte (same <c>sentAt</c>, same eventIds) in the next send stage, as a network-level replay would. Every copy must be dropped as a duplicate.</summary>
    public double DuplicateBatchRate { get; set; } = 0.03;

    /// <summary>Share of events re-sent by a "client retry" in a later batch: same eventId, timestamp shifted by a few ms, new <c>sentAt</c>. The retry must be dropped; the first copy counts.</summary>
    public double RetryRate { get; set; } = 0.02;

    /// <summary>Share of valid events added as invalid ones (one defect each), mixed into otherwise valid batches. Each must be rejected with its expected code.</summary>
    public double InvalidEventRate { get; set; } = 0.01;

    /// <summary>Share of a day's events held back and sent only after at least one later day's events.</summary>
    public double LateRate { get; set; } = 0.02;

    /// <summary>Whole requests that must be refused with 400 (malformed JSON, no events, empty <c>events</c>, <c>events</c> not an array), sent in a stage of their own.</summary>
    public bool SendInvalidRequests { get; set; } = true;

    /// <summary>
    /// The mini-programs the ingest key may write, when it is restricted. Then the ecosystem is
    /// made of exactly these ids, and some events name a program outside the list
    /// (<c>forbidden_mini_program</c>). Null or empty: the key writes every program (<c>*</c>).
    /// </summary>
    public IReadOnlyList<string>? AllowedMiniProgramIds { get; set; }

    /// <summary>Attempts per request when the endpoint answers 429 or 503 (or the connection fails).</summary>
    public int MaxSendAttempts { get; set; } = 6;

    /// <summary>The longest Retry-After honoured; longer ones are shortened to this.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The wait before a retry when a 429/503 names no Retry-After, or a connection fails.</summary>
    public TimeSpan DefaultRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    internal bool RestrictsMiniPrograms => AllowedMiniProgramIds is { Count: > 0 };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (AdvanceClockTo is null && Days is < 1 or > 29) throw new ArgumentException($"Days must be 1 to 29 (was {Days}): the contract rejects events more than 30 days old.", nameof(Days));
        if (AdvanceClockTo is not null && Days is < 1 or > MaxReplayedDays) throw new ArgumentException($"Days must be 1 to {MaxReplayedDays} (was {Days}) when the history is replayed.", nameof(Days));
        if (Users < 1) throw new ArgumentException($"Users must be at least 1 (was {Users}).", nameof(Users));
        if (!RestrictsMiniPrograms && MiniPrograms < 1) throw new ArgumentException($"MiniPrograms must be at least 1 (was {MiniPrograms}).", nameof(MiniPrograms));
        if (BatchSize is < 1 or > 1000) throw new ArgumentException($"BatchSize must be 1 to 1000 (was {BatchSize}).", nameof(BatchSize));
        if (MaxConcurrency < 1) throw new ArgumentException($"MaxConcurrency must be at least 1 (was {MaxConcurrency}).", nameof(MaxConcurrency));
        if (MaxSendAttempts < 1) throw new ArgumentException($"MaxSendAttempts must be at least 1 (was {MaxSendAttempts}).", nameof(MaxSendAttempts));
        foreach (var (name, rate) in new[]
                 {
                     (nameof(GzipRate), GzipRate), (nameof(DuplicateBatchRate), DuplicateBatchRate), (nameof(RetryRate), RetryRate),
                     (nameof(InvalidEventRate), InvalidEventRate), (nameof(LateRate), LateRate),
                 })
        {
            if (rate is < 0 or > 1 || double.IsNaN(rate)) throw new ArgumentException($"{name} must be between 0 and 1 (was {rate}).", name);
        }
        if (AllowedMiniProgramIds is not null)
        {
            foreach (var id in AllowedMiniProgramIds)
            {
                if (id is null || !MiniProgramIds.IsValid(id))
                    throw new ArgumentException($"AllowedMiniProgramIds holds '{id}', which is not a mini-program id ({MiniProgramIds.Rule}; leave the list empty for '*').", nameof(AllowedMiniProgramIds));
            }
        }
    }
}
