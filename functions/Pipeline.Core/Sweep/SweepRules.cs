using Pipeline.Core.Ports;

namespace Pipeline.Core.Sweep;

/// <summary>What the sweeper does with one landing batch.</summary>
public enum SweepDecision
{
    /// <summary>Processing finished it.</summary>
    Processed,
    /// <summary>Written within the grace period: its claim check is probably still on its way.</summary>
    TooRecent,
    /// <summary>Swept within the retry interval: that claim check may still be waiting in the queue.</summary>
    RecentlySwept,
    /// <summary>Swept <see cref="SweepOptions.MaxSweeps"/> times and still not processed: left for an operator.</summary>
    GivenUp,
    /// <summary>Unprocessed past the grace period: enqueue its claim check.</summary>
    Enqueue,
}

/// <summary>The sweeper's decision for one landing batch; pure.</summary>
public static class SweepRules
{
    public static SweepDecision Decide(LandingEntry entry, DateTimeOffset now, SweepOptions options)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(options);
        if (entry.ProcessedAt is not null) return SweepDecision.Processed;
        if (now - entry.WrittenAt < options.GracePeriod) return SweepDecision.TooRecent;
        if (entry.Sweeps >= options.MaxSweeps) return SweepDecision.GivenUp;
        if (entry.SweptAt is { } swept && now - swept < options.RetryInterval) return SweepDecision.RecentlySwept;
        return SweepDecision.Enqueue;
    }

    /// <summary>The UTC days of receipt to list: from <c>now - lookback</c> through today, oldest first.</summary>
    public static IReadOnlyList<DateOnly> DaysToList(DateTimeOffset now, SweepOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var last = DateOnly.FromDateTime(now.UtcDateTime);
        var first = DateOnly.FromDateTime((now - options.Lookback).UtcDateTime);
        var days = new List<DateOnly>();
        for (var d = first; d <= last; d = d.AddDays(1)) days.Add(d);
        return days;
    }
}
