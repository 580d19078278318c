using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace Pipeline.Client.Tests.Unit;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that shows the timers armed on it. The client waits only on its
/// clock (flush interval, back-off, attempt and shutdown timeouts) or for a reason to wake (a full
/// batch, a flush, disposal). So once a test has seen the client park on a timer, it moves the clock
/// itself: if no timer fired, nothing could have woken the client, and "nothing happened yet" is a
/// fact rather than the outcome of a wall-clock sleep on a fast enough machine.
/// </summary>
/// <remarks>
/// Declare it with <c>await using</c> before the client (<see cref="ClientTestKit.Client"/> hands
/// the client to it): at the end of the test it disposes its clients, moving time on only if one
/// still waits on this clock, so that a test whose assertion failed midway ends as failed instead of
/// hanging in a disposal that waits for a timer nobody advances.
/// </remarks>
internal sealed class TestClock() : FakeTimeProvider(Epoch), IAsyncDisposable
{
    /// <summary>Where every test clock starts: a whole second, so <c>sentAt</c> (in milliseconds) shows offsets exactly.</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    public static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    private readonly ConcurrentQueue<ArmedTimer> _timers = new();
    private readonly ConcurrentQueue<IAsyncDisposable> _owned = new();
    private int _fired;

    /// <summary>How many timer callbacks have run (they run inside <see cref="FakeTimeProvider.Advance"/>, synchronously).</summary>
    public int Fired => Volatile.Read(ref _fired);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var armed = new ArmedTimer(this, dueTime);
        armed.Inner = base.CreateTimer(s =>
        {
            armed.Fired = true;
            Interlocked.Increment(ref _fired);
            callback(s);
        }, state, dueTime, period);
        _timers.Enqueue(armed);
        return armed;
    }

    /// <summary>Waits (bounded) until a timer whose due time matches is armed and pending, and returns it.</summary>
    public async Task<ArmedTimer> ArmedAsync(Func<TimeSpan, bool> dueTime)
    {
        ArmedTimer? found = null;
        await ClientTestKit.EventuallyAsync(() => (found = _timers.FirstOrDefault(t => t.IsPending && dueTime(t.DueTime))) is not null);
        return found!;
    }

    public Task<ArmedTimer> ArmedAsync(TimeSpan dueTime) => ArmedAsync(d => d == dueTime);

    /// <summary>Disposes the client when the clock is disposed (disposing a client twice does nothing).</summary>
    public T Owns<T>(T client) where T : IAsyncDisposable
    {
        _owned.Enqueue(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        while (_owned.TryDequeue(out var client))
        {
            var disposing = client.DisposeAsync().AsTask();
            for (var i = 0; i < 100 && !disposing.IsCompleted; i++)
            {
                Advance(TimeSpan.FromSeconds(1));
                await Task.WhenAny(disposing, Task.Delay(10));
            }
            await disposing.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}

/// <summary>A timer armed on a <see cref="TestClock"/>: when it was armed, for how long, and whether it fired or was disposed.</summary>
internal sealed class ArmedTimer(TestClock clock, TimeSpan dueTime) : ITimer
{
    private volatile bool _fired, _disposed;

    public ITimer Inner { get; set; } = null!;

    public DateTimeOffset ArmedAt { get; private set; } = clock.GetUtcNow();

    public TimeSpan DueTime { get; private set; } = dueTime;

    public bool Fired { get => _fired; set => _fired = value; }

    public bool IsPending => !_fired && !_disposed && DueTime != Timeout.InfiniteTimeSpan;

    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        ArmedAt = clock.GetUtcNow();
        DueTime = dueTime;
        return Inner.Change(dueTime, period);
    }

    public void Dispose()
    {
        _disposed = true;
        Inner.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        _disposed = true;
        return Inner.DisposeAsync();
    }
}
