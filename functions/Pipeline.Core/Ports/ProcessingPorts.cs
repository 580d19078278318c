using Pipeline.Core.Events;

namespace Pipeline.Core.Ports;

/// <summary>
/// The de-duplication index: which batch first claimed each (source, eventId) within the last 30 days.
/// </summary>
public interface IEventIdIndex
{
    /// <summary>
    /// Claims each event id for <paramref name="batchId"/>. Returns, per id, true when this batch owns it
    /// (it claimed it now, it had already claimed it on an earlier delivery, or the previous claim is
    /// older than the de-duplication window) and false when another batch owns it (a duplicate).
    /// Ids must be distinct within one call.
    /// </summary>
    Task<bool[]> ClaimAsync(string source, string batchId, IReadOnlyList<string> eventIds, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>The accepted, de-duplicated events of one batch that fall on one reporting day and one user shard.</summary>
public sealed record EventSegment(DateOnly Day, int Shard, string BatchId, string Source, IReadOnlyList<PipelineEvent> Events);

/// <summary>The event store: events partitioned by reporting day and user shard.</summary>
public interface IEventStore
{
    /// <summary>Writes a segment. Deterministic name per (day, shard, batch): writing the same segment twice leaves one copy.</summary>
    Task WriteAsync(EventSegment segment, CancellationToken cancellationToken);

    /// <summary>Reads every event stored for a day in one shard.</summary>
    Task<IReadOnlyList<PipelineEvent>> ReadAsync(DateOnly day, int shard, CancellationToken cancellationToken);
}

/// <summary>A day that received events since it was last rolled up; <see cref="Version"/> changes each time it is marked again.</summary>
public sealed record DirtyDay(DateOnly Day, string Version);

/// <summary>Which reporting days need a (re-)rollup.</summary>
public interface IDirtyDayLedger
{
    Task MarkAsync(IReadOnlyCollection<DateOnly> days, CancellationToken cancellationToken);

    Task<IReadOnlyList<DirtyDay>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Clears the mark only if it is still at <see cref="DirtyDay.Version"/> (so a mark made during the rollup survives). Returns whether it was cleared.</summary>
    Task<bool> ClearAsync(DirtyDay day, CancellationToken cancellationToken);
}
