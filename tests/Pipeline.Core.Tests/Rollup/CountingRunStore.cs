using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// A run store that counts the progress records each call reads, as the table store reads them: the
/// whole progress is a record per shard and per day finalised (and the run's own); a point read is one
/// record; "every shard done?" returns the one shard found behind, or nothing.
/// </summary>
internal sealed class CountingRunStore(IRollupRunStore inner) : IRollupRunStore
{
    public long RecordsRead { get; private set; }

    public async Task<RollupProgress> GetProgressAsync(RollupRun run, CancellationToken cancellationToken)
    {
        var progress = await inner.GetProgressAsync(run, cancellationToken);
        RecordsRead += progress.ShardDone.Count + progress.Finalised.Count + 2; // + the finalised pointer and the run
        return progress;
    }

    public Task<DateOnly?> GetShardDoneAsync(string runId, int shard, CancellationToken cancellationToken) => One(inner.GetShardDoneAsync(runId, shard, cancellationToken));

    public async Task<bool> AllShardsDoneAsync(RollupRun run, DateOnly day, CancellationToken cancellationToken)
    {
        var done = await inner.AllShardsDoneAsync(run, day, cancellationToken);
        if (!done) RecordsRead++;
        return done;
    }

    public Task<DateOnly?> GetFinalisedThroughAsync(string runId, CancellationToken cancellationToken) => One(inner.GetFinalisedThroughAsync(runId, cancellationToken));

    public Task<RollupRun?> GetAsync(string runId, CancellationToken cancellationToken) => One(inner.GetAsync(runId, cancellationToken));

    public Task<(bool Started, RollupRun Active)> TryStartAsync(RollupRun run, CancellationToken cancellationToken) => inner.TryStartAsync(run, cancellationToken);
    public Task<RollupRun?> GetActiveAsync(CancellationToken cancellationToken) => inner.GetActiveAsync(cancellationToken);
    public Task MarkShardDoneAsync(string runId, int shard, DateOnly day, long events, CancellationToken cancellationToken) => inner.MarkShardDoneAsync(runId, shard, day, events, cancellationToken);
    public Task<bool> TryMarkFinalisedAsync(string runId, DayOutcome outcome, CancellationToken cancellationToken) => inner.TryMarkFinalisedAsync(runId, outcome, cancellationToken);
    public Task CompleteAsync(string runId, CancellationToken cancellationToken) => inner.CompleteAsync(runId, cancellationToken);
    public Task<IReadOnlyList<RollupRun>> ListRecentAsync(int max, CancellationToken cancellationToken) => inner.ListRecentAsync(max, cancellationToken);

    private async Task<T> One<T>(Task<T> read)
    {
        var value = await read;
        RecordsRead++;
        return value;
    }
}
