using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Core.Time;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// The rollup's own ports in memory, for unit tests of the fan-out's logic: saved state, runs and
/// progress, and the two queues. The queues are worked inline, first in first out, as a host's
/// listeners would (a message enqueued while one is handled waits its turn), so a run has completed
/// when the request that planned it returns. <see cref="Hold"/> keeps messages on the queue instead,
/// for tests that deliver them by hand (duplicates, losses, orders).
/// </summary>
internal sealed class InMemoryRollup : IRollupStateStore, IRollupRunStore, IRollupQueue
{
    private readonly Dictionary<(DateOnly, int), byte[]> _shardStates = [];
    private readonly Dictionary<(DateOnly, int), byte[]> _partials = [];
    private readonly Dictionary<(DateOnly Day, string Part), byte[]> _ledgers = [];
    private readonly Dictionary<string, RollupRun> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateOnly?[]> _shardDone = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<DayOutcome>> _finalised = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _completed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _activity = new(StringComparer.Ordinal);
    private readonly Queue<object> _queue = new();
    private readonly TimeProvider _time;
    private string? _active;
    private bool _working;

    public InMemoryRollup(
        IEventStore events, IDirtyDayLedger dirty, IMetricsStore metrics, IExportStore exports, IIngestReceiptLedger receipts,
        RollupEngine engine, ReportingCalendar calendar, PipelineOptions options, TimeProvider time)
    {
        _time = time;
        Planner = new RollupPlanner(dirty, this, this, this, calendar, options, new RollupOptions(), time);
        Shard = new ShardRollupHandler(events, this, this, this, engine, Folded);
        Finaliser = new DayFinaliseHandler(this, this, this, metrics, exports, receipts, dirty, engine, time);
        Runner = new RollupRunner(Planner, this, time);
    }

    /// <summary>The days the shards folded without finishing their compaction.</summary>
    public RollupRunnerTests.FakeLedger Folded { get; } = new();

    public RollupPlanner Planner { get; }
    public ShardRollupHandler Shard { get; }
    public DayFinaliseHandler Finaliser { get; }
    public RollupRunner Runner { get; }

    public RollupCursor? Cursor { get; set; }

    /// <summary>When true, enqueued messages stay in <see cref="Pending"/> until <see cref="DeliverAsync"/>.</summary>
    public bool Hold { get; set; }

    public IReadOnlyCollection<object> Pending => _queue;

    /// <summary>The days that have a saved ledger (its registry part).</summary>
    public IEnumerable<DateOnly> LedgerDays => _ledgers.Keys.Where(k => k.Part == LedgerParts.Registry).Select(k => k.Day);

    /// <summary>Forgets a day's saved ledger, as if its blobs were deleted.</summary>
    public void DropLedger(DateOnly day)
    {
        foreach (var key in _ledgers.Keys.Where(k => k.Day == day).ToList()) _ledgers.Remove(key);
    }

    /// <summary>The whole window state as of the end of <paramref name="day"/>: every shard's state and every part of the ledger, as one.</summary>
    public WindowState WholeState(DateOnly day, int shards)
    {
        var whole = WindowStateCodec.Decode(_ledgers[(day, LedgerParts.Registry)]);
        for (var s = 0; s < shards; s++)
        {
            var orders = WindowStateCodec.Decode(_ledgers[(day, LedgerParts.Orders(s))]);
            foreach (var kv in orders.Orders) whole.Orders.Add(kv.Key, kv.Value);
            var buyers = WindowStateCodec.Decode(_ledgers[(day, LedgerParts.Buyers(s))]);
            foreach (var kv in buyers.Buyers) whole.Buyers.Add(kv.Key, kv.Value);
            var shard = WindowStateCodec.Decode(_shardStates[(day, s)]);
            foreach (var kv in shard.Users) whole.Users.Add(kv.Key, kv.Value);
            foreach (var kv in shard.UserPrograms) whole.UserPrograms.Add(kv.Key, kv.Value);
            foreach (var kv in shard.Sessions) whole.Sessions.Add(kv.Key, kv.Value);
        }
        return whole;
    }

    /// <summary>Delivers one held message (the oldest), as a queue trigger would.</summary>
    public async Task DeliverAsync(object message)
    {
        switch (message)
        {
            case RollupShardMessage m: await Shard.HandleAsync(m, CancellationToken.None); break;
            case RollupDayMessage m: await Finaliser.HandleAsync(m, CancellationToken.None); break;
            default: throw new ArgumentException("Not a rollup message.", nameof(message));
        }
    }

    /// <summary>Takes every held message off the queue.</summary>
    public List<object> TakePending()
    {
        var all = _queue.ToList();
        _queue.Clear();
        return all;
    }

    // IRollupQueue: worked inline, in order.
    public Task EnqueueShardAsync(RollupShardMessage message, CancellationToken cancellationToken) => EnqueueAsync(message);

    public Task EnqueueDayAsync(RollupDayMessage message, CancellationToken cancellationToken) => EnqueueAsync(message);

    private async Task EnqueueAsync(object message)
    {
        _queue.Enqueue(message);
        if (Hold || _working) return;
        _working = true;
        try
        {
            while (!Hold && _queue.TryDequeue(out var next)) await DeliverAsync(next);
        }
        finally
        {
            _working = false;
        }
    }

    // IRollupStateStore
    private readonly Dictionary<int, (byte[] Window, int Version)> _windows = [];
    private readonly Dictionary<(DateOnly, int), byte[]> _duplicates = [];

    /// <summary>The duplicate copies saved for a (day, shard), as positions.</summary>
    public IReadOnlyList<long> DuplicatesOf(DateOnly day, int shard) =>
        _duplicates.TryGetValue((day, shard), out var bytes) ? DuplicateCopies.Decode(bytes).Positions.ToArray() : [];

    /// <summary>Duplicate copies found by the shards, over every (day, shard).</summary>
    public int DuplicatesFound => _duplicates.Values.Sum(b => DuplicateCopies.Decode(b).Count);

    /// <summary>A shard's saved window (empty when none).</summary>
    public EventIdWindow WindowOf(int shard) =>
        _windows.TryGetValue(shard, out var w) ? EventIdWindowCodec.Decode(w.Window) : EventIdWindow.Empty;

    public Task<(byte[]? Window, string? Version)> LoadIdWindowAsync(int shard, CancellationToken cancellationToken) =>
        Task.FromResult(_windows.TryGetValue(shard, out var w) ? ((byte[]?)w.Window, (string?)w.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)) : (null, null));

    public Task<string> SaveIdWindowAsync(int shard, ReadOnlyMemory<byte> window, string? expectedVersion, CancellationToken cancellationToken)
    {
        var current = _windows.TryGetValue(shard, out var w) ? w.Version.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        if (current != expectedVersion) throw new RollupConflictException($"Window of shard {shard} is at {current ?? "none"}, not {expectedVersion ?? "none"}.");
        var next = (current is null ? 0 : w.Version) + 1;
        _windows[shard] = (window.ToArray(), next);
        return Task.FromResult(next.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public Task<byte[]?> LoadDuplicatesAsync(DateOnly day, int shard, CancellationToken cancellationToken) => Task.FromResult(_duplicates.GetValueOrDefault((day, shard)));

    public Task SaveDuplicatesAsync(DateOnly day, int shard, ReadOnlyMemory<byte> duplicates, CancellationToken cancellationToken)
    {
        _duplicates[(day, shard)] = duplicates.ToArray();
        return Task.CompletedTask;
    }

    public Task<byte[]?> LoadShardStateAsync(DateOnly day, int shard, CancellationToken cancellationToken) => Task.FromResult(_shardStates.GetValueOrDefault((day, shard)));

    public Task SaveShardStateAsync(DateOnly day, int shard, ReadOnlyMemory<byte> state, CancellationToken cancellationToken)
    {
        _shardStates[(day, shard)] = state.ToArray();
        return Task.CompletedTask;
    }

    public Task<byte[]?> LoadPartialAsync(DateOnly day, int shard, CancellationToken cancellationToken) => Task.FromResult(_partials.GetValueOrDefault((day, shard)));

    public Task SavePartialAsync(DateOnly day, int shard, ReadOnlyMemory<byte> partial, CancellationToken cancellationToken)
    {
        _partials[(day, shard)] = partial.ToArray();
        return Task.CompletedTask;
    }

    public Task<byte[]?> LoadLedgerPartAsync(DateOnly day, string part, CancellationToken cancellationToken) => Task.FromResult(_ledgers.GetValueOrDefault((day, part)));

    public Task SaveLedgerPartAsync(DateOnly day, string part, ReadOnlyMemory<byte> ledger, CancellationToken cancellationToken)
    {
        _ledgers[(day, part)] = ledger.ToArray();
        return Task.CompletedTask;
    }

    public Task<RollupCursor?> GetCursorAsync(CancellationToken cancellationToken) => Task.FromResult(Cursor);

    public Task SetCursorAsync(RollupCursor cursor, CancellationToken cancellationToken)
    {
        Cursor = cursor;
        return Task.CompletedTask;
    }

    // IRollupRunStore
    public Task<(bool Started, RollupRun Active)> TryStartAsync(RollupRun run, CancellationToken cancellationToken)
    {
        if (_active is not null) return Task.FromResult((false, _runs[_active]));
        _runs[run.RunId] = run;
        _shardDone[run.RunId] = new DateOnly?[run.Shards];
        _finalised[run.RunId] = [];
        _activity[run.RunId] = run.CreatedAt;
        _active = run.RunId;
        return Task.FromResult((true, run));
    }

    public Task<RollupRun?> GetActiveAsync(CancellationToken cancellationToken) => Task.FromResult(_active is null ? null : _runs[_active]);

    public Task<RollupRun?> GetAsync(string runId, CancellationToken cancellationToken) => Task.FromResult(_runs.GetValueOrDefault(runId));

    public Task MarkShardDoneAsync(string runId, int shard, DateOnly day, long events, CancellationToken cancellationToken)
    {
        _shardDone[runId][shard] = day;
        _activity[runId] = _time.GetUtcNow();
        return Task.CompletedTask;
    }

    public Task<DateOnly?> GetShardDoneAsync(string runId, int shard, CancellationToken cancellationToken) => Task.FromResult(_shardDone[runId][shard]);

    public Task<bool> AllShardsDoneAsync(RollupRun run, DateOnly day, CancellationToken cancellationToken) =>
        Task.FromResult(_shardDone[run.RunId].All(d => d >= day));

    public Task<DateOnly?> GetFinalisedThroughAsync(string runId, CancellationToken cancellationToken) =>
        Task.FromResult(_finalised[runId] is { Count: > 0 } days ? days[^1].Day : (DateOnly?)null);

    public Task<bool> TryMarkFinalisedAsync(string runId, DayOutcome outcome, CancellationToken cancellationToken)
    {
        var list = _finalised[runId];
        var expected = list.Count == 0 ? _runs[runId].From : list[^1].Day.AddDays(1);
        if (outcome.Day != expected) return Task.FromResult(false);
        list.Add(outcome);
        _activity[runId] = _time.GetUtcNow();
        return Task.FromResult(true);
    }

    public Task CompleteAsync(string runId, CancellationToken cancellationToken)
    {
        _completed.TryAdd(runId, _time.GetUtcNow());
        if (_active == runId) _active = null;
        return Task.CompletedTask;
    }

    public Task<RollupProgress> GetProgressAsync(RollupRun run, CancellationToken cancellationToken) =>
        Task.FromResult(new RollupProgress(run, _shardDone[run.RunId].ToArray(), _finalised[run.RunId].ToArray(),
            _completed.TryGetValue(run.RunId, out var c) ? c : null, _activity[run.RunId]));

    public Task<IReadOnlyList<RollupRun>> ListRecentAsync(int max, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<RollupRun>>(_runs.Values.OrderByDescending(r => r.RunId, StringComparer.Ordinal).Take(max).ToList());
}
