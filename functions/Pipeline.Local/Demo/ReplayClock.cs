namespace Pipeline.Local.Demo;

/// <summary>
/// The demo's clock: the system clock shifted by an offset that <see cref="MoveTo"/> sets. The
/// demo replays five weeks of history in minutes by moving it to each simulated day's send time,
/// so that ingest sees every batch arrive just after its day, as from a live ecosystem, inside
/// the contract's 30-day window. Timers and elapsed time stay real (only the wall clock moves).
/// </summary>
public sealed class ReplayClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    /// <summary>Makes <see cref="GetUtcNow"/> read <paramref name="instant"/> now (and advance in real time from there).</summary>
    public void MoveTo(DateTimeOffset instant) => Interlocked.Exchange(ref _offsetTicks, (instant - System.GetUtcNow()).Ticks);

    /// <summary>Back to the system clock.</summary>
    public void Reset() => Interlocked.Exchange(ref _offsetTicks, 0);
}
