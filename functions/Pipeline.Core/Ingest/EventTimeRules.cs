namespace Pipeline.Core.Ingest;

/// <summary>
/// How ingest turns an event's <c>timestamp</c> into its time and which times it accepts. Every
/// request path (HTTP, the inbound queue) uses <see cref="Contract"/>; only a bulk import of
/// history (the local runner's <c>import</c> verb) uses <see cref="Import"/>. Every other rule of the
/// contract is the same for both.
/// </summary>
public sealed record EventTimeRules
{
    /// <summary>
    /// The contract: corrected by the batch's <c>sentAt</c> when present; accepted from 30 days before
    /// receipt (<see cref="IngestLimits.MaxBehind"/>) to 10 minutes after it (<see cref="IngestLimits.MaxAhead"/>).
    /// </summary>
    public static EventTimeRules Contract { get; } = new();

    /// <summary>
    /// Whether the batch's <c>sentAt</c> corrects the timestamps (<c>receivedAt − (sentAt − timestamp)</c>).
    /// The correction assumes the batch was received just after it was sent, which is true of a request
    /// and false of a file imported later: there it would move every event by the file's age.
    /// </summary>
    public bool CorrectClockSkew { get; init; } = true;

    /// <summary>
    /// When set and earlier than 30 days before receipt, the earliest time accepted instead (inclusive):
    /// history goes back this far. It never narrows the contract's window. Null: the contract's 30 days.
    /// </summary>
    public DateTimeOffset? AcceptFrom { get; init; }

    /// <summary>
    /// The rules of a bulk import: timestamps are taken as sent (a file's <c>sentAt</c> says nothing of
    /// the time of the import), and with <paramref name="historyFrom"/> events back to that instant are
    /// accepted. The upper bound (10 minutes after the import runs) is the contract's.
    /// </summary>
    public static EventTimeRules Import(DateTimeOffset? historyFrom) => new() { CorrectClockSkew = false, AcceptFrom = historyFrom };

    /// <summary>The earliest accepted time (Unix ms) for a batch received at <paramref name="receivedAtMs"/>.</summary>
    public long OldestAcceptedMs(long receivedAtMs)
    {
        var contract = receivedAtMs - (long)IngestLimits.MaxBehind.TotalMilliseconds;
        return AcceptFrom is { } from && from.ToUnixTimeMilliseconds() < contract ? from.ToUnixTimeMilliseconds() : contract;
    }

    /// <summary>True when <paramref name="correctedMs"/> is within the accepted window (both ends inclusive).</summary>
    public bool Accepts(long correctedMs, long receivedAtMs) =>
        correctedMs <= receivedAtMs + (long)IngestLimits.MaxAhead.TotalMilliseconds && correctedMs >= OldestAcceptedMs(receivedAtMs);

    /// <summary>True when the lower bound in force is <see cref="AcceptFrom"/> rather than the contract's 30 days.</summary>
    internal bool ExtendsHistory(long receivedAtMs) => OldestAcceptedMs(receivedAtMs) != receivedAtMs - (long)IngestLimits.MaxBehind.TotalMilliseconds;
}
