using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>Waiting for a run outlives storage that cannot tell its progress for a while, and not forever.</summary>
public sealed class RollupWaitTests
{
    private static readonly RollupRun Run = new("run-1", new DateOnly(2026, 11, 24), new DateOnly(2026, 11, 24), 2, null, [], "test", DateTimeOffset.UnixEpoch);

    /// <summary>A run store whose progress reads fail the first <see cref="Failures"/> times (Azurite timing out under load).</summary>
    private sealed class FlakyProgress(TimeProvider time, int failures) : IRollupRunStore
    {
        public int Failures { get; } = failures;
        public int Reads { get; private set; }

        public Task<RollupProgress> GetProgressAsync(RollupRun run, CancellationToken cancellationToken)
        {
            Reads++;
            if (Reads <= Failures) throw new StorageUnavailableException("reading the progress of rollup run run-1 failed: timeout");
            var done = run.To;
            return Task.FromResult(new RollupProgress(run, [done, done], [], time.GetUtcNow(), time.GetUtcNow()));
        }

        public Task<(bool Started, RollupRun Active)> TryStartAsync(RollupRun run, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<RollupRun?> GetActiveAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<RollupRun?> GetAsync(string runId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task MarkShardDoneAsync(string runId, int shard, DateOnly day, long events, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<DateOnly?> GetShardDoneAsync(string runId, int shard, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<bool> AllShardsDoneAsync(RollupRun run, DateOnly day, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<DateOnly?> GetFinalisedThroughAsync(string runId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<bool> TryMarkFinalisedAsync(string runId, DayOutcome outcome, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task CompleteAsync(string runId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<RollupRun>> ListRecentAsync(int max, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private static RollupRunner Runner(IRollupRunStore runs, TimeProvider time, TimeSpan limit) =>
        new(null!, runs, time) { PollInterval = TimeSpan.FromMilliseconds(1), UnreadableProgressLimit = limit };

    [Fact]
    public async Task A_few_unreadable_progress_reads_do_not_end_the_wait()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var runs = new FlakyProgress(time, failures: 3);

        var progress = await Runner(runs, time, TimeSpan.FromMinutes(5)).WaitAsync(Run, null, CancellationToken.None);

        Assert.NotNull(progress.Completed);
        Assert.Equal(4, runs.Reads);
    }

    [Fact]
    public async Task Progress_unreadable_past_the_limit_ends_the_wait_with_the_storage_error()
    {
        // Each look at the clock moves it 1 s: the first failure is inside the 1.5 s limit, the second past it.
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch) { AutoAdvanceAmount = TimeSpan.FromSeconds(1) };
        var runs = new FlakyProgress(time, failures: int.MaxValue);
        var runner = Runner(runs, time, TimeSpan.FromSeconds(1.5));

        await Assert.ThrowsAsync<StorageUnavailableException>(() => runner.WaitAsync(Run, null, CancellationToken.None));
        Assert.Equal(2, runs.Reads);
    }
}
