using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// The finaliser folds the shards' partials in as they are loaded, loading no more than
/// <see cref="DayFinaliseHandler.ReadParallelism"/> ahead, so what it holds does not grow with the shards.
/// </summary>
public sealed class FinaliserFoldTests
{
    /// <summary>Saved state whose partial loads are counted, the first shard's held back until <see cref="Release"/>.</summary>
    private sealed class GatedPartials(IRollupStateStore inner) : IRollupStateStore
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _started;

        public int Started => Volatile.Read(ref _started);

        public void Release() => _gate.SetResult();

        public async Task<byte[]?> LoadPartialAsync(DateOnly day, int shard, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _started);
            if (shard == 0) await _gate.Task.WaitAsync(cancellationToken);
            return await inner.LoadPartialAsync(day, shard, cancellationToken);
        }

        public Task<byte[]?> LoadShardStateAsync(DateOnly day, int shard, CancellationToken cancellationToken) => inner.LoadShardStateAsync(day, shard, cancellationToken);
        public Task SaveShardStateAsync(DateOnly day, int shard, ReadOnlyMemory<byte> state, CancellationToken cancellationToken) => inner.SaveShardStateAsync(day, shard, state, cancellationToken);
        public Task SavePartialAsync(DateOnly day, int shard, ReadOnlyMemory<byte> partial, CancellationToken cancellationToken) => inner.SavePartialAsync(day, shard, partial, cancellationToken);
        public Task<byte[]?> LoadLedgerPartAsync(DateOnly day, string part, CancellationToken cancellationToken) => inner.LoadLedgerPartAsync(day, part, cancellationToken);
        public Task SaveLedgerPartAsync(DateOnly day, string part, ReadOnlyMemory<byte> ledger, CancellationToken cancellationToken) => inner.SaveLedgerPartAsync(day, part, ledger, cancellationToken);
        public Task<(byte[]? Window, string? Version)> LoadIdWindowAsync(int shard, CancellationToken cancellationToken) => inner.LoadIdWindowAsync(shard, cancellationToken);
        public Task<string> SaveIdWindowAsync(int shard, ReadOnlyMemory<byte> window, string? expectedVersion, CancellationToken cancellationToken) => inner.SaveIdWindowAsync(shard, window, expectedVersion, cancellationToken);
        public Task<byte[]?> LoadDuplicatesAsync(DateOnly day, int shard, CancellationToken cancellationToken) => inner.LoadDuplicatesAsync(day, shard, cancellationToken);
        public Task SaveDuplicatesAsync(DateOnly day, int shard, ReadOnlyMemory<byte> duplicates, CancellationToken cancellationToken) => inner.SaveDuplicatesAsync(day, shard, duplicates, cancellationToken);
        public Task<RollupCursor?> GetCursorAsync(CancellationToken cancellationToken) => inner.GetCursorAsync(cancellationToken);
        public Task SetCursorAsync(RollupCursor cursor, CancellationToken cancellationToken) => inner.SetCursorAsync(cursor, cancellationToken);
    }

    [Fact]
    public async Task The_finaliser_loads_at_most_its_read_parallelism_ahead_of_the_fold_and_writes_the_rows_of_the_whole_day()
    {
        const int shards = 3 * DayFinaliseHandler.ReadParallelism;
        var expected = new HeldRun(shards);
        foreach (var m in await expected.PlanAsync()) await expected.Rollup.DeliverAsync(m);
        await expected.Rollup.DeliverAsync(expected.Rollup.TakePending().Single());

        var f = new HeldRun(shards);
        foreach (var m in await f.PlanAsync()) await f.Rollup.DeliverAsync(m);
        var day = (RollupDayMessage)f.Rollup.TakePending().Single();
        var partials = new GatedPartials(f.Rollup);
        var finaliser = new DayFinaliseHandler(partials, f.Rollup, f.Rollup, f.Metrics, new RollupRunnerTests.FakeExports(), new RollupRunnerTests.FakeReceipts(), f.Ledger, f.Engine, f.Time);

        var finalising = finaliser.HandleAsync(day, CancellationToken.None);
        // Shard 0's partial is held back: the fold waits for it, and no more than the read parallelism is loaded meanwhile.
        var waited = TimeSpan.Zero;
        while (partials.Started < DayFinaliseHandler.ReadParallelism && waited < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
            waited += TimeSpan.FromMilliseconds(10);
        }
        await Task.Delay(100);
        Assert.Equal(DayFinaliseHandler.ReadParallelism, partials.Started);
        Assert.False(finalising.IsCompleted);

        f.Time.Advance(TimeSpan.FromSeconds(5)); // the held partial costs the merge five seconds
        partials.Release();
        var result = await finalising;

        Assert.NotNull(result.Outcome);
        // The log line's phases: the five seconds fall in the merge, none elsewhere (the fake clock stood still).
        Assert.Equal(new FinalisePhases(TimeSpan.FromSeconds(5), TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero), result.Phases);
        Assert.Equal("merge 5.0 s, ledger 0.0 s, rows 0.0 s, tables 0.0 s, exports 0.0 s", result.Phases!.ToString());
        Assert.Equal(shards, partials.Started);
        Assert.Equal(expected.Metrics.Days[HeldRun.D1], f.Metrics.Days[HeldRun.D1]);
    }
}
