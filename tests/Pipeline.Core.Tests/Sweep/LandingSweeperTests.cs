using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Processing;
using Pipeline.Core.Sweep;
using Pipeline.Core.Time;

namespace Pipeline.Core.Tests.Sweep;

public sealed class LandingSweeperTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);
    private readonly FakeInventory _inventory = new();
    private readonly FakeQueue _queue = new();

    private LandingSweeper Sweeper() => new(_inventory, _queue, new SweepOptions(), _time);

    [Fact]
    public async Task Enqueues_only_old_unprocessed_batches_and_records_the_sweep()
    {
        _inventory.Add("lost", Now.AddMinutes(-30));
        _inventory.Add("done", Now.AddMinutes(-30), processed: Now.AddMinutes(-29));
        _inventory.Add("fresh", Now.AddMinutes(-2));
        _inventory.Add("yesterday", Now.AddDays(-1));
        _inventory.Add("too-old", Now.AddDays(-3)); // outside the lookback: never listed

        var report = await Sweeper().RunAsync(default);

        Assert.Equal(["yesterday", "lost"], report.Enqueued);
        Assert.Equal(4, report.Scanned);
        Assert.Equal(["yesterday", "lost"], _queue.Sent.Select(m => m.BatchId));
        Assert.Equal(_inventory.Entries["lost"].Path, _queue.Sent[1].LandingPath);
        Assert.Equal(1, _inventory.Entries["lost"].Sweeps);
        Assert.Equal(Now, _inventory.Entries["lost"].SweptAt);
    }

    [Fact]
    public async Task A_batch_that_never_gets_processed_is_swept_a_bounded_number_of_times()
    {
        _inventory.Add("poisoned", Now.AddMinutes(-30));
        var sweeper = Sweeper();

        for (var run = 0; run < 10; run++)
        {
            await sweeper.RunAsync(default);
            _time.Advance(TimeSpan.FromMinutes(15));
        }
        var last = await sweeper.RunAsync(default);

        Assert.Equal(3, _queue.Sent.Count);
        Assert.Equal(["poisoned"], last.GivenUp);
    }

    [Fact]
    public async Task Enqueues_before_recording_so_a_failed_record_only_repeats_the_enqueue()
    {
        _inventory.Add("lost", Now.AddMinutes(-30));
        _inventory.FailRecord = true;

        await Assert.ThrowsAsync<InvalidOperationException>(() => Sweeper().RunAsync(default));
        Assert.Single(_queue.Sent);

        _inventory.FailRecord = false;
        await Sweeper().RunAsync(default);
        Assert.Equal(2, _queue.Sent.Count);
    }

    [Fact]
    public async Task Processing_marks_a_batch_processed_only_after_its_events_are_stored_and_its_days_marked()
    {
        var ports = new ProcessingFakes();
        var handler = new ProcessHandler(ports, ports, ports, new ReportingCalendar("Asia/Shanghai"), new PipelineOptions(), _time, ports);
        var message = new ProcessingMessage("b1", "2026/11/23/b1.json");

        ports.FailWrites = true;
        await Assert.ThrowsAsync<IOException>(() => handler.HandleAsync(message, default));
        Assert.DoesNotContain(ports.Log, l => l.StartsWith("processed", StringComparison.Ordinal));

        ports.FailWrites = false;
        await handler.HandleAsync(message, default);
        Assert.Equal(["write", "mark", "processed 2026/11/23/b1.json"], ports.Log);
    }

    private sealed class FakeInventory : ILandingInventory
    {
        public Dictionary<string, LandingEntry> Entries { get; } = [];
        public bool FailRecord { get; set; }

        public void Add(string batchId, DateTimeOffset writtenAt, DateTimeOffset? processed = null) =>
            Entries[batchId] = new LandingEntry(batchId, $"{writtenAt:yyyy'/'MM'/'dd}/{batchId}.json", writtenAt, processed, null, 0);

        public async IAsyncEnumerable<LandingEntry> ListAsync(DateOnly utcDay, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            foreach (var e in Entries.Values.Where(e => DateOnly.FromDateTime(e.WrittenAt.UtcDateTime) == utcDay).ToList())
                yield return e;
        }

        public Task RecordSweepAsync(string landingPath, DateTimeOffset sweptAt, CancellationToken cancellationToken)
        {
            if (FailRecord) throw new InvalidOperationException("storage failed");
            var entry = Entries.Values.Single(e => e.Path == landingPath);
            Entries[entry.BatchId] = entry with { SweptAt = sweptAt, Sweeps = entry.Sweeps + 1 };
            return Task.CompletedTask;
        }
    }

    private sealed class FakeQueue : IProcessingQueue
    {
        public List<ProcessingMessage> Sent { get; } = [];

        public Task EnqueueAsync(ProcessingMessage message, CancellationToken cancellationToken)
        {
            Sent.Add(message);
            return Task.CompletedTask;
        }
    }

    private sealed class ProcessingFakes : ILandingStore, IEventStore, IDirtyDayLedger, IProcessedBatchLedger
    {
        public List<string> Log { get; } = [];
        public bool FailWrites { get; set; }

        public Task<LandingBatch?> ReadAsync(string path, CancellationToken cancellationToken) => Task.FromResult<LandingBatch?>(new LandingBatch
        {
            BatchId = "b1",
            Source = "src",
            KeyId = "k",
            ReceivedAt = Now,
            ReceivedCount = 1,
            RejectedCount = 0,
            Events = [new PipelineEvent { EventId = "e1", Type = EventType.PageView, TimeMs = Now.ToUnixTimeMilliseconds(), UserKey = "u1", MiniProgramId = "wx_a" }],
        });

        public Task<string> WriteAsync(LandingBatch batch, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task WriteAsync(EventSegment segment, CancellationToken cancellationToken)
        {
            if (FailWrites) throw new IOException("storage failed");
            Log.Add("write");
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<PipelineEvent>> ReadAsync(DateOnly day, int shard, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task MarkAsync(IReadOnlyCollection<DateOnly> days, CancellationToken cancellationToken)
        {
            Log.Add("mark");
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<DirtyDay>> ListAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> ClearAsync(DirtyDay day, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task MarkProcessedAsync(string landingPath, DateTimeOffset processedAt, CancellationToken cancellationToken)
        {
            Log.Add("processed " + landingPath);
            return Task.CompletedTask;
        }
    }
}
