using Pipeline.Core.Events;

namespace Pipeline.Core.Ports;

/// <summary>
/// The accepted events of one batch that fall on one reporting day and one user shard (the first copy of
/// each id within the batch; copies across batches are told apart by the rollup, in the user's shard).
/// </summary>
/// <param name="ReceivedAt">When the batch was received (stored with each event: of two copies of an id, the first received counts); null: unknown.</param>
public sealed record EventSegment(DateOnly Day, int Shard, string BatchId, string Source, IReadOnlyList<PipelineEvent> Events, DateTimeOffset? ReceivedAt = null);

/// <summary>What one compaction of a (day, shard) did.</summary>
/// <param name="Generation">The compacted file's generation after the compaction (0: the (day, shard) has never been compacted).</param>
/// <param name="SegmentsFolded">Segments folded into the new generation by this compaction (0: there was nothing new, no generation was written).</param>
/// <param name="EventsFolded">Events of those segments.</param>
/// <param name="EventsCompacted">Events in the compacted file after the compaction.</param>
/// <param name="SegmentsDeleted">Segment blobs deleted: those just folded, and folded ones an earlier compaction left behind or a redelivery rewrote.</param>
/// <param name="FinishPending">A fold (<see cref="IEventStore.FoldAsync"/>) left work for a later <see cref="IEventStore.CompactAsync"/>: folded segments to delete, or the Parquet copy to bring up to date.</param>
public sealed record CompactionResult(DateOnly Day, int Shard, long Generation, int SegmentsFolded, long EventsFolded, long EventsCompacted, int SegmentsDeleted, bool FinishPending = false)
{
    /// <summary>Nothing to compact (a store without segments).</summary>
    public static CompactionResult Nothing(DateOnly day, int shard) => new(day, shard, 0, 0, 0, 0, 0);
}

/// <summary>What one compaction of a whole reporting day did (<see cref="IEventStore.CompactDayAsync"/>).</summary>
/// <param name="Shards">Each shard's compaction, in shard order.</param>
/// <param name="BatchSegmentsDeleted">Batch segments (<see cref="IEventStore.WriteBatchAsync"/>) deleted because every shard they hold events of has folded them.</param>
public sealed record DayCompactionResult(DateOnly Day, IReadOnlyList<CompactionResult> Shards, int BatchSegmentsDeleted)
{
    public int SegmentsFolded => Shards.Sum(s => s.SegmentsFolded);

    public long EventsFolded => Shards.Sum(s => s.EventsFolded);
}

/// <summary>A fold of a (day, shard) (<see cref="IEventStore.FoldAndReadAsync"/>) and its compacted events as the fold left them.</summary>
/// <param name="Blocks">The compacted file's blocks, in their compacted order (empty: the (day, shard) has no events).</param>
public sealed record FoldedEvents(CompactionResult Result, IReadOnlyList<ReadOnlyMemory<byte>> Blocks);

/// <summary>The event store: events partitioned by reporting day and user shard.</summary>
public interface IEventStore
{
    /// <summary>Writes a segment. Deterministic name per (day, shard, batch): writing the same segment twice leaves one copy.</summary>
    Task WriteAsync(EventSegment segment, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the segments of one batch that fall on one reporting day (one per shard, all with the same day,
    /// batch id, source and receipt time) as one object: what processing writes. Deterministic per (day, batch),
    /// like <see cref="WriteAsync"/>. Read, folded and compacted exactly as the same segments written one by one.
    /// </summary>
    /// <remarks>The default implementation writes each segment with <see cref="WriteAsync"/> (stores without a batch form).</remarks>
    async Task WriteBatchAsync(IReadOnlyList<EventSegment> segments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segments);
        foreach (var segment in segments) await WriteAsync(segment, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads every event stored for a day in one shard (compacted or not), each exactly once.</summary>
    Task<IReadOnlyList<PipelineEvent>> ReadAsync(DateOnly day, int shard, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the same events as <see cref="ReadAsync"/> as encoded <see cref="EventBlockCodec"/>
    /// blocks, without decoding them, so that a reader can decode and aggregate one block at a time
    /// (the compacted file's blocks, then those of segments not yet folded into it).
    /// </summary>
    /// <remarks>The default implementation encodes <see cref="ReadAsync"/>'s events as one block (stores without an encoded form).</remarks>
    async Task<IReadOnlyList<ReadOnlyMemory<byte>>> ReadBlocksAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        [EventBlockCodec.Encode(await ReadAsync(day, shard, cancellationToken).ConfigureAwait(false))];

    /// <summary>
    /// Reads the (day, shard)'s compacted events only, as encoded blocks, in their compacted order (which
    /// never changes: a compaction keeps the events before it and appends): the input the rollup
    /// de-duplicates by position. Segments not yet folded are not read.
    /// </summary>
    /// <remarks>The default implementation is <see cref="ReadBlocksAsync"/> (stores that keep one ordered, append-only sequence).</remarks>
    Task<IReadOnlyList<ReadOnlyMemory<byte>>> ReadCompactedBlocksAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        ReadBlocksAsync(day, shard, cancellationToken);

    /// <summary>
    /// Folds every segment of the (day, shard) written since the last compaction into its compacted
    /// file, then deletes the folded segments. Safe at any time: concurrently with writes, reads and
    /// other compactions of the same (day, shard), and when killed at any point (see
    /// <c>BlobEventStore</c> for the protocol). <see cref="ReadAsync"/> returns the same events before and after.
    /// </summary>
    /// <remarks>The default implementation does nothing (stores without small segments to fold).</remarks>
    Task<CompactionResult> CompactAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        Task.FromResult(CompactionResult.Nothing(day, shard));

    /// <summary>
    /// The part of <see cref="CompactAsync"/> a reader waits for: folds the (day, shard)'s new segments into
    /// its compacted file, and stops there. The folded segments stay (readers ignore them) and the Parquet
    /// copy stays behind until the next <see cref="CompactAsync"/>, which <see cref="CompactionResult.FinishPending"/>
    /// asks for: deleting blobs one by one and encoding Parquet are not on the rollup's path.
    /// </summary>
    /// <remarks>The default implementation is <see cref="CompactAsync"/>.</remarks>
    Task<CompactionResult> FoldAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        CompactAsync(day, shard, cancellationToken);

    /// <summary>
    /// <see cref="FoldAsync"/>, then the compacted file it leaves, as <see cref="ReadCompactedBlocksAsync"/> reads it:
    /// what the rollup's scan of a (day, shard) needs, in one read of the file where the two calls make two (the
    /// fold reads the file to know what it holds, and at a shard-day of hundreds of thousands of events that file
    /// is tens of megabytes).
    /// </summary>
    /// <remarks>The default implementation calls the two in turn.</remarks>
    async Task<FoldedEvents> FoldAndReadAsync(DateOnly day, int shard, CancellationToken cancellationToken)
    {
        var result = await FoldAsync(day, shard, cancellationToken).ConfigureAwait(false);
        return new FoldedEvents(result, await ReadCompactedBlocksAsync(day, shard, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Compacts every shard of a reporting day (<see cref="CompactAsync"/> for shards 0 to <paramref name="shards"/> − 1)
    /// and deletes the batch segments every shard has folded: what the sweeper runs. A batch segment holds events of
    /// many shards, so only a compaction that sees them all can delete it; reading each batch once for all shards,
    /// rather than once per shard, is what makes it cheaper than compacting the shards one by one.
    /// </summary>
    /// <remarks>The default implementation compacts the shards one by one (stores without batch segments).</remarks>
    async Task<DayCompactionResult> CompactDayAsync(DateOnly day, int shards, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        var results = new CompactionResult[shards];
        for (var shard = 0; shard < shards; shard++)
            results[shard] = await CompactAsync(day, shard, cancellationToken).ConfigureAwait(false);
        return new DayCompactionResult(day, results, 0);
    }
}

/// <summary>A day that received events since it was last rolled up; <see cref="Version"/> changes each time it is marked again.</summary>
public sealed record DirtyDay(DateOnly Day, string Version);

/// <summary>
/// Which reporting days have (day, shard)s that the rollup folded without finishing
/// (<see cref="CompactionResult.FinishPending"/>): the sweeper's compactor finishes them. The same
/// versioned marks as <see cref="IDirtyDayLedger"/>: a mark made after the list survives the clear.
/// </summary>
public interface IFoldedDayLedger
{
    Task MarkAsync(IReadOnlyCollection<DateOnly> days, CancellationToken cancellationToken);

    Task<IReadOnlyList<DirtyDay>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Clears the mark only if it is still at <see cref="DirtyDay.Version"/>. Returns whether it was cleared.</summary>
    Task<bool> ClearAsync(DirtyDay day, CancellationToken cancellationToken);
}

/// <summary>Which reporting days need a (re-)rollup.</summary>
public interface IDirtyDayLedger
{
    Task MarkAsync(IReadOnlyCollection<DateOnly> days, CancellationToken cancellationToken);

    Task<IReadOnlyList<DirtyDay>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Clears the mark only if it is still at <see cref="DirtyDay.Version"/> (so a mark made during the rollup survives). Returns whether it was cleared.</summary>
    Task<bool> ClearAsync(DirtyDay day, CancellationToken cancellationToken);
}
