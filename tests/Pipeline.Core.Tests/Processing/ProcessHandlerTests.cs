using Microsoft.Extensions.Time.Testing;
using Pipeline.Core;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Pipeline.Core.Processing;
using Pipeline.Core.Time;

namespace Pipeline.Core.Tests.Processing;

public sealed class ProcessHandlerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private readonly FakePorts _ports = new();
    private readonly ProcessHandler _handler;

    public ProcessHandlerTests()
    {
        _handler = new ProcessHandler(_ports, _ports, _ports, new ReportingCalendar("Asia/Shanghai"),
            new PipelineOptions { EventStoreShards = 4 }, new FakeTimeProvider(Now), _ports);
    }

    [Fact]
    public async Task Stores_each_event_once_and_marks_its_reporting_day()
    {
        // 2026-11-22T16:30Z is 00:30 on 2026-11-23 in Shanghai; 15:30Z is still the 22nd there.
        var message = _ports.Land("b1", "src", Event("e1", "2026-11-22T16:30:00Z"), Event("e2", "2026-11-22T15:30:00Z"));

        var result = await _handler.HandleAsync(message, default);

        Assert.Equal(2, result.Stored);
        Assert.Equal(0, result.Duplicates);
        Assert.Equal([new DateOnly(2026, 11, 22), new DateOnly(2026, 11, 23)], result.Days);
        Assert.Equal(["e2"], _ports.StoredIds(new DateOnly(2026, 11, 22)));
        Assert.Equal(["e1"], _ports.StoredIds(new DateOnly(2026, 11, 23)));
        Assert.Equal(2, _ports.Marked.Count);
    }

    [Fact]
    public async Task Writes_one_object_per_day_of_the_batch_with_its_shards_in_order()
    {
        // Ten users over 4 shards on 2026-11-23 (Shanghai), one event on the 22nd.
        var events = Enumerable.Range(0, 10).Select(i => Event($"e{i}", "2026-11-22T16:30:00Z", user: $"user-{i}"))
            .Append(Event("late", "2026-11-22T15:30:00Z")).ToArray();
        var message = _ports.Land("b1", "src", events);

        await _handler.HandleAsync(message, default);

        var writes = _ports.BatchWrites.OrderBy(w => w[0].Day).ToList();
        Assert.Equal([new DateOnly(2026, 11, 22), new DateOnly(2026, 11, 23)], writes.Select(w => w[0].Day));
        foreach (var write in writes)
        {
            Assert.All(write, s => Assert.Equal((write[0].Day, "b1", "src", (DateTimeOffset?)Now), (s.Day, s.BatchId, s.Source, s.ReceivedAt)));
            Assert.Equal(write.Select(s => s.Shard).Order(), write.Select(s => s.Shard)); // ascending, each shard once
            Assert.Equal(write.Count, write.Select(s => s.Shard).Distinct().Count());
        }
        Assert.True(writes[1].Count > 1, "ten users fall in more than one of 4 shards");
        Assert.Equal(events.Length, writes.Sum(w => w.Sum(s => s.Events.Count)));
        Assert.All(writes[1], s => Assert.All(s.Events, e => Assert.Equal(s.Shard, UserShard.Of(e.UserKey, 4))));
    }

    [Fact]
    public async Task Marks_the_landing_batch_processed_after_storing_it()
    {
        var message = _ports.Land("b1", "src", Event("e1", "2026-11-22T16:30:00Z"));

        await _handler.HandleAsync(message, default);

        Assert.Equal([message.LandingPath], _ports.Processed); // the sweeper leaves it alone from now on
    }

    [Fact]
    public async Task A_retry_in_another_batch_is_stored_in_the_same_user_shard_for_the_rollup_to_drop()
    {
        // The retry of e1 is corrected to a few ms earlier, landing on the previous reporting day. Processing
        // writes nothing per event: it stores both copies, and the user's shard tells them apart when it rolls.
        var first = _ports.Land("b1", "src", Event("e1", "2026-11-22T16:00:00.002Z"));
        var retry = _ports.Land("b2", "src", Event("e1", "2026-11-22T15:59:59.998Z"));

        await _handler.HandleAsync(first, default);
        var second = await _handler.HandleAsync(retry, default);

        Assert.Equal(0, second.Duplicates);
        Assert.Equal(["e1"], _ports.StoredIds(new DateOnly(2026, 11, 23)));
        Assert.Equal(["e1"], _ports.StoredIds(new DateOnly(2026, 11, 22)));
        Assert.Single(_ports.Segments.Keys.Select(k => k.Item2).Distinct());
    }

    [Fact]
    public async Task Every_segment_carries_the_batch_source_and_the_batch_order()
    {
        var message = _ports.Land("b1", "payments",
            Event("e3", "2026-11-23T03:00:00Z"), Event("e1", "2026-11-23T01:00:00Z"), Event("e2", "2026-11-23T02:00:00Z"));

        await _handler.HandleAsync(message, default);

        var segment = Assert.Single(_ports.Segments.Values);
        Assert.Equal("payments", segment.Source);
        Assert.Equal(["e3", "e1", "e2"], segment.Events.Select(e => e.EventId));
    }

    [Fact]
    public async Task The_same_event_id_from_another_source_is_a_different_event()
    {
        await _handler.HandleAsync(_ports.Land("b1", "payments", Event("e1", "2026-11-23T01:00:00Z")), default);
        var other = await _handler.HandleAsync(_ports.Land("b2", "ads", Event("e1", "2026-11-23T01:00:00Z")), default);

        Assert.Equal(1, other.Stored);
        Assert.Equal(2, _ports.StoredIds(new DateOnly(2026, 11, 23)).Count);
    }

    [Fact]
    public async Task A_repeated_id_inside_one_batch_keeps_the_first()
    {
        var message = _ports.Land("b1", "src", Event("e1", "2026-11-23T01:00:00Z", page: "/first"), Event("e1", "2026-11-23T01:00:01Z", page: "/second"));

        var result = await _handler.HandleAsync(message, default);

        Assert.Equal(1, result.Stored);
        Assert.Equal(1, result.Duplicates);
        Assert.Equal("/first", Assert.Single(_ports.Stored(new DateOnly(2026, 11, 23))).Page);
    }

    [Fact]
    public async Task Redelivery_of_the_same_message_rewrites_the_same_segments()
    {
        var message = _ports.Land("b1", "src", Event("e1", "2026-11-23T01:00:00Z"), Event("e2", "2026-11-23T02:00:00Z", user: "u2"));

        var once = await _handler.HandleAsync(message, default);
        var twice = await _handler.HandleAsync(message, default);

        Assert.Equal(once.Stored, twice.Stored);
        Assert.Equal(2, _ports.StoredIds(new DateOnly(2026, 11, 23)).Count);
    }

    [Fact]
    public async Task A_missing_landing_blob_fails_so_the_host_retries_then_poisons()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _handler.HandleAsync(new ProcessingMessage("gone", "landing/gone.json"), default));
        Assert.Contains("gone", error.Message);
    }

    [Fact]
    public async Task Events_of_one_user_share_a_shard()
    {
        var message = _ports.Land("b1", "src", Event("e1", "2026-11-23T01:00:00Z", user: "u7"), Event("e2", "2026-11-23T05:00:00Z", user: "u7"));

        await _handler.HandleAsync(message, default);

        Assert.Single(_ports.Segments);
    }

    private static PipelineEvent Event(string id, string time, string user = "u1", string? page = null) => new()
    {
        EventId = id,
        Type = EventType.PageView,
        TimeMs = DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(),
        UserKey = user,
        MiniProgramId = "wx1",
        SessionId = "s1",
        Page = page ?? "/index",
    };

    /// <summary>Simple in-memory ports: this is a unit test of the handler's logic.</summary>
    private sealed class FakePorts : ILandingStore, IEventStore, IDirtyDayLedger, IProcessedBatchLedger
    {
        private readonly Dictionary<string, LandingBatch> _landing = [];
        public Dictionary<(DateOnly, int, string), EventSegment> Segments { get; } = [];
        public List<DateOnly> Marked { get; } = [];

        public ProcessingMessage Land(string batchId, string source, params PipelineEvent[] events)
        {
            _landing[batchId] = new LandingBatch
            {
                BatchId = batchId, Source = source, KeyId = "k", ReceivedAt = Now, ReceivedCount = events.Length, RejectedCount = 0, Events = events,
            };
            return new ProcessingMessage(batchId, batchId);
        }

        public List<PipelineEvent> Stored(DateOnly day) => Segments.Values.Where(s => s.Day == day).SelectMany(s => s.Events).ToList();
        public List<string> StoredIds(DateOnly day) => Stored(day).Select(e => e.EventId).Order().ToList();

        public Task<string> WriteAsync(LandingBatch batch, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<LandingBatch?> ReadAsync(string path, CancellationToken cancellationToken) => Task.FromResult(_landing.GetValueOrDefault(path));

        public Task WriteAsync(EventSegment segment, CancellationToken cancellationToken)
        {
            lock (Segments) Segments[(segment.Day, segment.Shard, segment.BatchId)] = segment; // written concurrently
            return Task.CompletedTask;
        }

        /// <summary>Each <see cref="IEventStore.WriteBatchAsync"/> call: the segments of one (batch, day).</summary>
        public List<IReadOnlyList<EventSegment>> BatchWrites { get; } = [];

        public async Task WriteBatchAsync(IReadOnlyList<EventSegment> segments, CancellationToken cancellationToken)
        {
            lock (BatchWrites) BatchWrites.Add(segments);
            foreach (var segment in segments) await WriteAsync(segment, cancellationToken);
        }

        public Task<IReadOnlyList<PipelineEvent>> ReadAsync(DateOnly day, int shard, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task MarkAsync(IReadOnlyCollection<DateOnly> days, CancellationToken cancellationToken) { Marked.AddRange(days); return Task.CompletedTask; }
        public List<string> Processed { get; } = [];
        public Task MarkProcessedAsync(string landingPath, DateTimeOffset processedAt, CancellationToken cancellationToken) { Processed.Add(landingPath); return Task.CompletedTask; }
        public Task<IReadOnlyList<DirtyDay>> ListAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<bool> ClearAsync(DirtyDay day, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
