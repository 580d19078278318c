using System.Collections.Concurrent;
using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;
using Polly;
using Polly.Retry;

namespace Pipeline.Storage.Blobs;

/// <summary>
/// The event store, in container <c>events</c>: segments written by processing, folded per
/// (day, shard) into one compacted file by <see cref="CompactAsync"/>, with a Parquet copy of
/// each compacted file for analysts in container <c>exports</c>.
/// </summary>
/// <remarks>
/// <para>Blobs:</para>
/// <list type="bullet">
/// <item><c>events/&lt;yyyy-MM-dd&gt;/batches/&lt;batchId&gt;.evs</c>: a batch segment (<see cref="EventBatchFile"/>), what
/// processing writes: the batch's events of one day, one <see cref="EventBlockCodec"/> block per shard, with the index of
/// the blocks also in the blob's metadata (<c>shards</c>), so that a listing tells which shards a batch holds and a
/// shard's block is one ranged read. For a (day, shard) it counts as a segment named by the batch id, exactly as the
/// per-shard segment below; it is deleted only by a day compaction (<see cref="CompactDayAsync"/>), once every shard
/// it holds has folded it.</item>
/// <item><c>events/&lt;yyyy-MM-dd&gt;/&lt;shard:D3&gt;/&lt;batchId&gt;.evb</c>: a per-shard segment, one <see cref="EventBlockCodec"/>
/// block per (day, shard, batch), each event with the batch's source: what processing wrote before batch segments
/// (still read, folded and deleted; <see cref="WriteAsync"/> writes one). Where a batch has both forms, the per-shard
/// one is read. Either name is deterministic, so a redelivered message overwrites its own segment (with the same
/// events: a batch always yields the same segments) instead of adding a copy.</item>
/// <item><c>events/&lt;yyyy-MM-dd&gt;/&lt;shard:D3&gt;.evc</c>: the compacted file (<see cref="CompactedEventFile"/>):
/// the events of every segment folded so far, the manifest of those segments' batch ids, and a
/// generation number. Beside the segments' folder, so listing segments never lists it.</item>
/// <item><c>exports/events/date=&lt;yyyy-MM-dd&gt;/shard=&lt;shard:D3&gt;.parquet</c>: the compacted file's events as
/// Parquet (<see cref="EventParquet"/>), with metadata <c>generation</c>.</item>
/// </list>
/// <para><b>The rule that makes it safe: a segment named in the compacted file's manifest does not
/// count.</b> Readers and compactors ignore it, wherever it came from: a compaction that died after
/// writing the compacted file and before deleting the segments it folded, or a redelivered message
/// that rewrote a segment after it was folded and deleted. A segment is deleted only after a
/// compacted file naming it was written, and every compacted file names every segment its
/// predecessor named (each generation is written only if the generation it was built from is still
/// the current one), so once named, a segment is named for good.</para>
/// <para><b>Compaction</b> (<see cref="CompactAsync"/>), each step an atomic blob operation, so a kill at any point
/// leaves a state the next reader or compactor handles:</para>
/// <list type="number">
/// <item>List the segments; then read the compacted file and its ETag (absent: generation 0, no manifest).</item>
/// <item>Fresh segments are the listed ones the manifest does not name; the others are stale.</item>
/// <item>If there are fresh segments: download them (one that has vanished was folded by another
/// compaction since step 1: start again), fold them (<see cref="CompactedEventFile.Fold"/>: the
/// old blocks byte for byte, then the fresh events, manifest ∪ fresh names, generation + 1), and
/// write the new file on condition that it is still the one read: <c>If-Match</c> its ETag, or
/// <c>If-None-Match: *</c> when there was none. Losing that race (412/409) means another
/// compaction won: start again from step 1 (it then finds little or nothing fresh).</item>
/// <item>Bring the Parquet copy up to the current generation (rewritten only when its
/// <c>generation</c> metadata is older, conditionally on its ETag, so a slow compactor never
/// replaces a newer copy with an older one).</item>
/// <item>Delete the folded and stale per-shard segments. (Batch segments are deleted by the day compaction, below.)</item>
/// </list>
/// <para>A <b>day compaction</b> (<see cref="CompactDayAsync"/>, what the sweeper runs) lists the day's batch segments
/// once, compacts every shard as above, reading each batch's blocks of a group of shards in one ranged request shared
/// by the group (groups sized so that at most <see cref="DayGroupBytes"/> of batch segments are held at once), then
/// deletes each batch segment whose every shard's compacted file, as just read or written, names it. The rule below
/// holds for batch segments too: one is deleted only after every compacted file it could count in names it.</para>
/// <para>A <b>fold</b> (<see cref="FoldAsync"/>, what the rollup runs) stops after step 3, leaving steps 4 and 5
/// to the next compaction (the sweeper's, asked for by <see cref="CompactionResult.FinishPending"/>): on
/// Azurite a delete costs as much as twenty downloads, and Parquet encoding is CPU the rollup need not wait for.</para>
/// <para>Killed after step 3, the segments are both folded and present: readers ignore them, the
/// next compaction deletes them and refreshes the Parquet copy. Killed before step 3 completes,
/// nothing changed. Two compactions racing serialise on the ETag; their output is also
/// deterministic (a pure function of the file read and the segments folded).</para>
/// <para><b>Reading the compacted file alone</b> (<see cref="ReadCompactedBlocksAsync"/>, what the rollup reads
/// right after compacting): its events in their order, which no later compaction changes (a fold keeps the
/// previous blocks byte for byte and appends), so a position among them names one copy of an event for good.</para>
/// <para><b>Reading</b> (<see cref="ReadAsync"/>, <see cref="ReadBlocksAsync"/>): list the segments
/// <i>first</i>, then read the compacted file (so the file read is at least as new as the
/// listing), then download the listed segments its manifest does not name. A segment missing by
/// then was folded into a newer generation after the file was read: the read starts again. Every
/// segment written before the read began is therefore counted exactly once, in the compacted file
/// or beside it.</para>
/// </remarks>
public sealed class BlobEventStore(BlobServiceClient blobService) : IEventStore
{
    /// <summary>Blobs downloaded or deleted at once.</summary>
    public const int ReadParallelism = 8;

    /// <summary>Attempts of a read or a compaction that keeps losing races to other compactions.</summary>
    public const int MaxAttempts = 8;

    /// <summary>
    /// Shards a day compaction compacts at once: one. Each holds its blocks, its new compacted file and, while it
    /// writes the Parquet copy, a row group of decoded events (≈ 50 MB, <see cref="EventParquet.RowGroupSize"/>) and
    /// the copy itself, ≈ 200 MB at 625,000 events a shard-day; with two at once the sweeper peaked at 1.6 GiB on the
    /// 10,000,000-event day
    /// (docs/performance.md). The reads inside one shard's fold still run <see cref="ReadParallelism"/> at once.
    /// </summary>
    public const int DayCompactionParallelism = 1;

    /// <summary>
    /// Bytes of batch segments a day compaction holds at once: past it the day's shards are compacted in groups,
    /// each group reading its own blocks of every batch (one ranged read per batch and group), so memory stays
    /// bounded while a day with more data costs more reads. It was 512 MiB with 4 shards at once (2.3 GiB on the
    /// 10,000,000-event day), then 256 MiB (1.3 GiB); at 128 MiB that day's sweep peaks at 1.2 GiB and takes about
    /// as long (docs/performance.md).
    /// </summary>
    public const long DayGroupBytes = 128L << 20;

    private const string GenerationKey = "generation";
    private const string EventCountKey = "eventCount";
    private const string IndexKey = "shards";

    /// <summary>
    /// Longest index written to a batch segment's metadata (Azure allows 8 KiB for all of a blob's metadata; at
    /// ≈ 8 characters a shard that is ≈ 700 shards in one batch). A longer one is left out and readers read the
    /// file's own header (two small ranged reads). Settable for tests.
    /// </summary>
    internal int MaxIndexMetadata { get; init; } = 6_000;

    /// <summary><see cref="DayGroupBytes"/>, settable for tests (a small value makes one group per shard).</summary>
    internal long GroupBytes { get; init; } = DayGroupBytes;

    private readonly BlobContainerClient _container = blobService.GetBlobContainerClient(StorageNames.EventsContainer);
    private readonly BlobContainerClient _exports = blobService.GetBlobContainerClient(StorageNames.ExportsContainer);

    private static readonly ResiliencePipeline Races = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder()
                .Handle<RequestFailedException>(e => e.Status is 412 or 409)
                .Handle<SegmentVanishedException>(),
            MaxRetryAttempts = MaxAttempts - 1,
            Delay = TimeSpan.FromMilliseconds(20),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        })
        .Build();

    /// <summary>
    /// Test hook: awaited after each step of a compaction (<c>listed</c>, <c>compacted-read</c>,
    /// <c>segments-downloaded</c>, <c>compacted-written</c>, <c>exported</c>, <c>deleted</c>) and of
    /// a read (<c>read-listed</c>, <c>read-compacted-read</c>). A hook that throws stops the
    /// operation there, as a killed host would; one that waits lets a test interleave another.
    /// </summary>
    internal Func<string, Task>? AfterStep { get; init; }

    public Task WriteAsync(EventSegment segment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var path = BlobPaths.Events(segment.Day, segment.Shard, segment.BatchId);
        return StorageFailures.RunAsync("writing event segment " + path, ct =>
            _container.GetBlobClient(path).UploadAsync(
                new BinaryData(EventBlockCodec.Encode(segment.Events, segment.Source, segment.ReceivedAt?.ToUnixTimeMilliseconds())),
                new BlobUploadOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
                    Metadata = new Dictionary<string, string>
                    {
                        ["source"] = segment.Source,
                        [EventCountKey] = segment.Events.Count.ToString(CultureInfo.InvariantCulture),
                    },
                },
                ct), cancellationToken);
    }

    public Task WriteBatchAsync(IReadOnlyList<EventSegment> segments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segments);
        if (segments.Count == 0) return Task.CompletedTask;
        var first = segments[0];
        foreach (var segment in segments)
        {
            if (segment.Day != first.Day || segment.BatchId != first.BatchId || segment.Source != first.Source || segment.ReceivedAt != first.ReceivedAt)
                throw new ArgumentException(
                    $"The segments of one batch segment share day, batch, source and receipt time: {segment.Day:yyyy-MM-dd}/{segment.BatchId}/{segment.Source} beside {first.Day:yyyy-MM-dd}/{first.BatchId}/{first.Source}.",
                    nameof(segments));
        }
        var receivedMs = first.ReceivedAt?.ToUnixTimeMilliseconds();
        var bytes = EventBatchFile.Encode(segments.OrderBy(s => s.Shard).Select(s => (s.Shard, EventBlockCodec.Encode(s.Events, s.Source, receivedMs))).ToList());
        var index = EventBatchFile.FormatIndex(EventBatchFile.ReadIndex(bytes));
        var metadata = new Dictionary<string, string>
        {
            ["source"] = first.Source,
            [EventCountKey] = segments.Sum(s => s.Events.Count).ToString(CultureInfo.InvariantCulture),
        };
        if (index.Length <= MaxIndexMetadata) metadata[IndexKey] = index;
        var path = BlobPaths.Batch(first.Day, first.BatchId);
        return StorageFailures.RunAsync("writing event batch segment " + path, ct =>
            _container.GetBlobClient(path).UploadAsync(
                new BinaryData(bytes),
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" }, Metadata = metadata },
                ct), cancellationToken);
    }

    public async Task<IReadOnlyList<PipelineEvent>> ReadAsync(DateOnly day, int shard, CancellationToken cancellationToken)
    {
        var snapshot = await ReadSnapshotAsync(day, shard, cancellationToken).ConfigureAwait(false);
        var events = new List<PipelineEvent>((int)Math.Min(int.MaxValue, snapshot.Compacted?.EventCount ?? 0));
        if (snapshot.Compacted is { } compacted)
        {
            for (var i = 0; i < compacted.Blocks.Count; i++)
                events.AddRange(Decode(compacted.Blocks[i], () => $"{BlobPaths.CompactedEvents(day, shard)} block {i}"));
        }
        foreach (var (batchId, block) in snapshot.Pending)
            events.AddRange(Decode(block, () => $"segment {batchId} of {BlobPaths.EventPrefix(day, shard)}"));
        return events;
    }

    public async Task<IReadOnlyList<ReadOnlyMemory<byte>>> ReadBlocksAsync(DateOnly day, int shard, CancellationToken cancellationToken)
    {
        var snapshot = await ReadSnapshotAsync(day, shard, cancellationToken).ConfigureAwait(false);
        var blocks = new List<ReadOnlyMemory<byte>>((snapshot.Compacted?.Blocks.Count ?? 0) + snapshot.Pending.Count);
        if (snapshot.Compacted is { } compacted) blocks.AddRange(compacted.Blocks);
        foreach (var (_, block) in snapshot.Pending) blocks.Add(block);
        return blocks;
    }

    public Task<IReadOnlyList<ReadOnlyMemory<byte>>> ReadCompactedBlocksAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("reading compacted events " + BlobPaths.CompactedEvents(day, shard), async ct =>
        {
            var (compacted, _) = await ReadCompactedAsync(day, shard, ct).ConfigureAwait(false);
            return compacted?.Blocks ?? (IReadOnlyList<ReadOnlyMemory<byte>>)[];
        }, cancellationToken);

    public Task<CompactionResult> CompactAsync(DateOnly day, int shard, CancellationToken cancellationToken)
    {
        var description = $"compacting event segments {BlobPaths.EventPrefix(day, shard)}";
        return StorageFailures.RunAsync(description, ct => Races.ExecuteAsync(
            async token => (await CompactOnceAsync(day, shard, finish: true, batches: null, loader: null, token).ConfigureAwait(false)).Result, ct).AsTask(), cancellationToken);
    }

    public async Task<CompactionResult> FoldAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        (await FoldAndReadAsync(day, shard, cancellationToken).ConfigureAwait(false)).Result;

    public Task<FoldedEvents> FoldAndReadAsync(DateOnly day, int shard, CancellationToken cancellationToken)
    {
        var description = $"folding event segments {BlobPaths.EventPrefix(day, shard)}";
        return StorageFailures.RunAsync(description, ct => Races.ExecuteAsync(async token =>
        {
            // The file the fold wrote, or read and left as it was: one download of it, not a second one to read it.
            var (result, file) = await CompactOnceAsync(day, shard, finish: false, batches: null, loader: null, token).ConfigureAwait(false);
            return new FoldedEvents(result, file?.Blocks ?? []);
        }, ct).AsTask(), cancellationToken);
    }

    public Task<DayCompactionResult> CompactDayAsync(DateOnly day, int shards, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        return StorageFailures.RunAsync($"compacting the event store's day {BlobPaths.Day(day)}", async ct =>
        {
            // Listed once, before any shard's compacted file is read (the order every read and compaction keeps).
            var batches = await ListBatchesAsync(day, ct).ConfigureAwait(false);
            await StepAsync("day-listed").ConfigureAwait(false);

            var results = new CompactionResult[shards];
            var files = new CompactedEventFile?[shards];
            foreach (var (lo, hi) in ShardGroups(batches, shards, GroupBytes))
            {
                var group = new GroupSections(this, day, lo, hi);
                await Parallel.ForEachAsync(Enumerable.Range(lo, hi - lo), new ParallelOptions { MaxDegreeOfParallelism = DayCompactionParallelism, CancellationToken = ct }, async (shard, token) =>
                    (results[shard], files[shard]) = await Races.ExecuteAsync(
                        t => new ValueTask<(CompactionResult, CompactedEventFile?)>(CompactOnceAsync(day, shard, finish: true, batches, group.LoadAsync, t)), token).ConfigureAwait(false))
                    .ConfigureAwait(false);
            }
            await StepAsync("day-compacted").ConfigureAwait(false);

            // Every compacted file only ever gains names, so one that names the batch now names it for good.
            var done = batches.Where(b => b.Index.All(x => x.Shard < shards && files[x.Shard]?.HasFolded(b.BatchId) == true)).ToList();
            var deleted = 0;
            await Parallel.ForEachAsync(done, new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = ct }, async (batch, token) =>
            {
                var response = await _container.GetBlobClient(BlobPaths.Batch(day, batch.BatchId)).DeleteIfExistsAsync(cancellationToken: token).ConfigureAwait(false);
                if (response.Value) Interlocked.Increment(ref deleted);
            }).ConfigureAwait(false);
            await StepAsync("batches-deleted").ConfigureAwait(false);
            return new DayCompactionResult(day, results, deleted);
        }, cancellationToken);
    }

    /// <summary>Contiguous ranges of shards whose blocks of the listed batches total about <paramref name="groupBytes"/> each (evenly split by shard count).</summary>
    private static IEnumerable<(int Lo, int Hi)> ShardGroups(IReadOnlyList<BatchEntry> batches, int shards, long groupBytes)
    {
        var total = batches.Sum(b => b.Index.Count == 0 ? 0L : b.Index[^1].Offset + b.Index[^1].Length);
        var groups = (int)Math.Clamp((total + groupBytes - 1) / groupBytes, 1, shards);
        for (var g = 0; g < groups; g++) yield return ((int)((long)g * shards / groups), (int)((long)(g + 1) * shards / groups));
    }

    /// <summary>The compacted file (null: none) and the segments not folded into it, in name order.</summary>
    private sealed record Snapshot(CompactedEventFile? Compacted, IReadOnlyList<(string BatchId, ReadOnlyMemory<byte> Block)> Pending);

    /// <summary>A batch segment of the day as listed, with the index of its shard blocks (from its metadata, or else its header).</summary>
    private sealed record BatchEntry(string BatchId, IReadOnlyList<EventBatchSection> Index);

    /// <summary>A segment that counts for a (day, shard) unless its compacted file names it: a per-shard segment blob (<see cref="Batch"/> null), or the shard's block of a batch segment.</summary>
    private sealed record SegmentRef(string BatchId, BatchEntry? Batch);

    /// <summary>Reads a segment's block for a shard; one that no longer exists throws <see cref="SegmentVanishedException"/>.</summary>
    private delegate Task<ReadOnlyMemory<byte>> SegmentLoader(DateOnly day, int shard, SegmentRef segment, CancellationToken cancellationToken);

    private Task<Snapshot> ReadSnapshotAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("reading event segments " + BlobPaths.EventPrefix(day, shard), ct => Races.ExecuteAsync(async token =>
        {
            // Listing first, then the compacted file: see the class remarks.
            var listed = await ListSegmentRefsAsync(day, shard, batches: null, token).ConfigureAwait(false);
            await StepAsync("read-listed").ConfigureAwait(false);
            var (compacted, _) = await ReadCompactedAsync(day, shard, token).ConfigureAwait(false);
            await StepAsync("read-compacted-read").ConfigureAwait(false);
            var pending = compacted is null ? listed : listed.Where(b => !compacted.HasFolded(b.BatchId)).ToList();
            return new Snapshot(compacted, await DownloadSegmentsAsync(day, shard, pending, loader: null, token).ConfigureAwait(false));
        }, ct).AsTask(), cancellationToken);

    /// <param name="finish">Also bring the Parquet copy up to date and delete the folded per-shard segments (steps 4 and 5); a fold stops after step 3.</param>
    /// <param name="batches">The day's batch segments, listed before this call (a day compaction lists them once for every shard); null: list them now.</param>
    /// <param name="loader">How segments' blocks are read (a day compaction shares each batch's read among a group of shards); null: one read each.</param>
    /// <returns>What was done, and the compacted file as it now is (null: none).</returns>
    private async Task<(CompactionResult Result, CompactedEventFile? File)> CompactOnceAsync(
        DateOnly day, int shard, bool finish, IReadOnlyList<BatchEntry>? batches, SegmentLoader? loader, CancellationToken ct)
    {
        var listed = await ListSegmentRefsAsync(day, shard, batches, ct).ConfigureAwait(false);
        await StepAsync("listed").ConfigureAwait(false);
        var (compacted, etag) = await ReadCompactedAsync(day, shard, ct).ConfigureAwait(false);
        await StepAsync("compacted-read").ConfigureAwait(false);

        var fresh = new List<SegmentRef>();
        var stale = new List<SegmentRef>();
        foreach (var segment in listed) (compacted is not null && compacted.HasFolded(segment.BatchId) ? stale : fresh).Add(segment);

        var current = compacted;
        long eventsFolded = 0;
        if (fresh.Count > 0)
        {
            var segments = await DownloadSegmentsAsync(day, shard, fresh, loader, ct).ConfigureAwait(false);
            await StepAsync("segments-downloaded").ConfigureAwait(false);
            byte[] bytes;
            try
            {
                bytes = CompactedEventFile.Fold(compacted, segments);
            }
            catch (InvalidDataException ex)
            {
                throw new InvalidDataException($"Compacting {StorageNames.EventsContainer}/{BlobPaths.EventPrefix(day, shard)}: {ex.Message}", ex);
            }
            current = CompactedEventFile.Decode(bytes);
            eventsFolded = current.EventCount - (compacted?.EventCount ?? 0);

            await _container.GetBlobClient(BlobPaths.CompactedEvents(day, shard)).UploadAsync(
                new BinaryData(bytes),
                new BlobUploadOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
                    Metadata = new Dictionary<string, string>
                    {
                        [GenerationKey] = current.Generation.ToString(CultureInfo.InvariantCulture),
                        [EventCountKey] = current.EventCount.ToString(CultureInfo.InvariantCulture),
                        ["segments"] = current.FoldedCount.ToString(CultureInfo.InvariantCulture),
                    },
                    Conditions = etag is { } e ? new BlobRequestConditions { IfMatch = e } : new BlobRequestConditions { IfNoneMatch = ETag.All },
                },
                ct).ConfigureAwait(false);
            await StepAsync("compacted-written").ConfigureAwait(false);
        }

        if (!finish)
        {
            // Segments folded now or before and still present, or a Parquet copy that is now behind: a later
            // CompactAsync (per-shard segments) or CompactDayAsync (batch segments) finishes; each step is idempotent.
            var pending = fresh.Count + stale.Count > 0;
            return (new CompactionResult(day, shard, current?.Generation ?? 0, fresh.Count, eventsFolded, current?.EventCount ?? 0, 0, pending), current);
        }

        if (current is not null)
        {
            await ExportAsync(day, shard, current, ct).ConfigureAwait(false);
            await StepAsync("exported").ConfigureAwait(false);
        }

        var deleted = 0;
        await Parallel.ForEachAsync(fresh.Concat(stale).Where(s => s.Batch is null), new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = ct }, async (segment, token) =>
        {
            var response = await _container.GetBlobClient(BlobPaths.Events(day, shard, segment.BatchId)).DeleteIfExistsAsync(cancellationToken: token).ConfigureAwait(false);
            if (response.Value) Interlocked.Increment(ref deleted);
        }).ConfigureAwait(false);
        await StepAsync("deleted").ConfigureAwait(false);

        return (new CompactionResult(day, shard, current?.Generation ?? 0, fresh.Count, eventsFolded, current?.EventCount ?? 0, deleted), current);
    }

    /// <summary>Brings the Parquet copy up to <paramref name="compacted"/>'s generation, unless it is there already (or newer).</summary>
    private async Task ExportAsync(DateOnly day, int shard, CompactedEventFile compacted, CancellationToken ct)
    {
        var blob = _exports.GetBlobClient(BlobPaths.EventExport(day, shard));
        while (true)
        {
            BlobProperties? existing = null;
            try
            {
                existing = (await blob.GetPropertiesAsync(cancellationToken: ct).ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
            }
            if (existing is not null && existing.Metadata.TryGetValue(GenerationKey, out var g)
                && long.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out var generation) && generation >= compacted.Generation)
                return;

            using var parquet = new MemoryStream();
            await EventParquet.WriteAsync(parquet, RowGroups(compacted), new Dictionary<string, string>
            {
                ["pipeline.date"] = BlobPaths.Day(day),
                ["pipeline.shard"] = shard.ToString(CultureInfo.InvariantCulture),
                ["pipeline.generation"] = compacted.Generation.ToString(CultureInfo.InvariantCulture),
            }, ct).ConfigureAwait(false);
            parquet.Position = 0;
            try
            {
                await blob.UploadAsync(parquet, new BlobUploadOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = EventParquet.ContentType },
                    Metadata = new Dictionary<string, string>
                    {
                        [GenerationKey] = compacted.Generation.ToString(CultureInfo.InvariantCulture),
                        [EventCountKey] = compacted.EventCount.ToString(CultureInfo.InvariantCulture),
                    },
                    Conditions = existing is null ? new BlobRequestConditions { IfNoneMatch = ETag.All } : new BlobRequestConditions { IfMatch = existing.ETag },
                }, ct).ConfigureAwait(false);
                return;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Another compaction wrote the copy meanwhile: look again (it may be newer).
            }
        }
    }

    /// <summary>The compacted file's events in row groups of whole blocks (about <see cref="EventParquet.RowGroupSize"/> events), decoded one group at a time.</summary>
    private static IEnumerable<IReadOnlyList<PipelineEvent>> RowGroups(CompactedEventFile compacted)
    {
        var group = new List<PipelineEvent>();
        foreach (var block in compacted.Blocks)
        {
            group.AddRange(EventBlockCodec.Decode(block.Span));
            if (group.Count >= EventParquet.RowGroupSize)
            {
                yield return group;
                group = [];
            }
        }
        if (group.Count > 0) yield return group;
    }

    /// <summary>
    /// The segments that hold events of the (day, shard), in batch id order: its per-shard segments, and the day's
    /// batch segments whose index has a block for the shard (a batch with both forms once, as its per-shard segment).
    /// </summary>
    private async Task<List<SegmentRef>> ListSegmentRefsAsync(DateOnly day, int shard, IReadOnlyList<BatchEntry>? batches, CancellationToken ct)
    {
        var segments = new Dictionary<string, SegmentRef>(StringComparer.Ordinal);
        foreach (var batchId in await ListSegmentsAsync(day, shard, ct).ConfigureAwait(false)) segments[batchId] = new SegmentRef(batchId, null);
        foreach (var batch in batches ?? await ListBatchesAsync(day, ct).ConfigureAwait(false))
            if (EventBatchFile.Find(batch.Index, shard) is not null) segments.TryAdd(batch.BatchId, new SegmentRef(batch.BatchId, batch));
        var ordered = segments.Values.ToList();
        ordered.Sort((x, y) => string.CompareOrdinal(x.BatchId, y.BatchId));
        return ordered;
    }

    /// <summary>Batch ids of the (day, shard)'s per-shard segments, in name order.</summary>
    private async Task<List<string>> ListSegmentsAsync(DateOnly day, int shard, CancellationToken ct)
    {
        var prefix = BlobPaths.EventPrefix(day, shard);
        var batchIds = new List<string>();
        await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, ct).ConfigureAwait(false))
            if (BlobPaths.SegmentBatchId(item.Name, prefix) is { } batchId) batchIds.Add(batchId);
        return batchIds;
    }

    /// <summary>The day's batch segments with their indexes (from the listing's metadata; a batch listed without one has its header read).</summary>
    private async Task<List<BatchEntry>> ListBatchesAsync(DateOnly day, CancellationToken ct)
    {
        var prefix = BlobPaths.BatchPrefix(day);
        var listed = new List<(string BatchId, IReadOnlyList<EventBatchSection>? Index)>();
        await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix, Traits = BlobTraits.Metadata }, ct).ConfigureAwait(false))
        {
            if (BlobPaths.SegmentBatchId(item.Name, prefix, BlobPaths.BatchExtension) is not { } batchId) continue;
            listed.Add((batchId, item.Metadata is not null && item.Metadata.TryGetValue(IndexKey, out var text) ? EventBatchFile.ParseIndex(text) : null));
        }
        var entries = new BatchEntry?[listed.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, listed.Count), new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = ct }, async (i, token) =>
        {
            var (batchId, index) = listed[i];
            // Gone since the listing: deleted by a day compaction, so every shard's compacted file names it; as if listed later.
            index ??= await ReadBatchHeaderAsync(day, batchId, token).ConfigureAwait(false);
            entries[i] = index is null ? null : new BatchEntry(batchId, index);
        }).ConfigureAwait(false);
        return entries.OfType<BatchEntry>().ToList();
    }

    /// <summary>The index of a batch segment from its own header (two small ranged reads), or null when it no longer exists.</summary>
    private async Task<IReadOnlyList<EventBatchSection>?> ReadBatchHeaderAsync(DateOnly day, string batchId, CancellationToken ct)
    {
        var path = BlobPaths.Batch(day, batchId);
        try
        {
            if (await RangeOrNullAsync(path, 0, EventBatchFile.HeaderLength(0), ct).ConfigureAwait(false) is not { } start) return null;
            var sections = EventBatchFile.DeclaredSections(start.ToMemory().Span);
            if (await RangeOrNullAsync(path, 0, EventBatchFile.HeaderLength(sections), ct).ConfigureAwait(false) is not { } header) return null;
            return EventBatchFile.ReadHeader(header.ToMemory().Span);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"Event batch segment {StorageNames.EventsContainer}/{path}: {ex.Message}", ex);
        }
    }

    /// <summary>A byte range of a blob, or null when the blob does not exist.</summary>
    private async Task<BinaryData?> RangeOrNullAsync(string path, long offset, long length, CancellationToken ct)
    {
        try
        {
            var content = (await _container.GetBlobClient(path).DownloadContentAsync(new BlobDownloadOptions { Range = new HttpRange(offset, length) }, ct).ConfigureAwait(false)).Value.Content;
            if (content.ToMemory().Length != length)
                throw new InvalidDataException($"Event batch segment {StorageNames.EventsContainer}/{path}: bytes {offset}-{offset + length - 1} are past its end (its index does not match it).");
            return content;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private async Task<(CompactedEventFile? File, ETag? ETag)> ReadCompactedAsync(DateOnly day, int shard, CancellationToken ct)
    {
        var path = BlobPaths.CompactedEvents(day, shard);
        Response<BlobDownloadStreamingResult> response;
        try
        {
            response = await _container.GetBlobClient(path).DownloadStreamingAsync(cancellationToken: ct).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return (null, null);
        }
        // Into one array of the blob's length: a growing buffer would allocate about twice the file (tens of MB
        // per shard-day at scale, on the large-object heap) before the copy that is kept.
        var bytes = new byte[response.Value.Details.ContentLength];
        await using (var content = response.Value.Content)
            await content.ReadExactlyAsync(bytes, ct).ConfigureAwait(false);
        try
        {
            return (CompactedEventFile.Decode(bytes), response.Value.Details.ETag);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"Compacted event file {StorageNames.EventsContainer}/{path}: {ex.Message}", ex);
        }
    }

    /// <summary>Downloads segments' blocks for a shard, keeping the order given; one that no longer exists throws <see cref="SegmentVanishedException"/>.</summary>
    private async Task<(string BatchId, ReadOnlyMemory<byte> Block)[]> DownloadSegmentsAsync(DateOnly day, int shard, IReadOnlyList<SegmentRef> segments, SegmentLoader? loader, CancellationToken ct)
    {
        loader ??= LoadSegmentAsync;
        var blocks = new (string, ReadOnlyMemory<byte>)[segments.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, segments.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = ct },
            async (i, token) => blocks[i] = (segments[i].BatchId, await loader(day, shard, segments[i], token).ConfigureAwait(false))).ConfigureAwait(false);
        return blocks;
    }

    /// <summary>One segment's block for a shard: a per-shard segment whole, or one ranged read of a batch segment.</summary>
    private async Task<ReadOnlyMemory<byte>> LoadSegmentAsync(DateOnly day, int shard, SegmentRef segment, CancellationToken ct)
    {
        if (segment.Batch is null)
        {
            var path = BlobPaths.Events(day, shard, segment.BatchId);
            var content = await _container.GetBlobClient(path).ContentOrNullAsync(ct).ConfigureAwait(false) ?? throw Vanished(path);
            return content.ToMemory();
        }
        var section = EventBatchFile.Find(segment.Batch.Index, shard)
            ?? throw new ArgumentException($"Batch segment {segment.BatchId} holds no events of shard {shard}.", nameof(segment));
        var batchPath = BlobPaths.Batch(day, segment.BatchId);
        return (await RangeOrNullAsync(batchPath, section.Offset, section.Length, ct).ConfigureAwait(false) ?? throw Vanished(batchPath)).ToMemory();
    }

    private static SegmentVanishedException Vanished(string path) =>
        new($"Event segment {StorageNames.EventsContainer}/{path} was listed but is gone (folded by a concurrent compaction).");

    /// <summary>
    /// A day compaction's reads for a group of shards [<paramref name="lo"/>, <paramref name="hi"/>): a batch's blocks of
    /// the group's shards are contiguous (blocks are in shard order), so the first shard of the group that needs a batch
    /// reads them all in one ranged request and the others take theirs from here. Held until the group is done: at most
    /// the group's share of the day's batch bytes (<see cref="DayGroupBytes"/>).
    /// </summary>
    private sealed class GroupSections(BlobEventStore store, DateOnly day, int lo, int hi)
    {
        private readonly ConcurrentDictionary<string, Lazy<Task<Dictionary<int, ReadOnlyMemory<byte>>>>> _batches = new(StringComparer.Ordinal);

        public async Task<ReadOnlyMemory<byte>> LoadAsync(DateOnly segmentDay, int shard, SegmentRef segment, CancellationToken ct)
        {
            if (segment.Batch is not { } batch || segmentDay != day || shard < lo || shard >= hi)
                return await store.LoadSegmentAsync(segmentDay, shard, segment, ct).ConfigureAwait(false);
            var read = _batches.GetOrAdd(batch.BatchId, _ => new Lazy<Task<Dictionary<int, ReadOnlyMemory<byte>>>>(() => ReadGroupAsync(batch, ct)));
            try
            {
                return (await read.Value.ConfigureAwait(false))[shard];
            }
            catch
            {
                // A failed or cancelled read is not kept: the shard's retry (or another shard) reads again.
                _batches.TryRemove(new KeyValuePair<string, Lazy<Task<Dictionary<int, ReadOnlyMemory<byte>>>>>(batch.BatchId, read));
                throw;
            }
        }

        private async Task<Dictionary<int, ReadOnlyMemory<byte>>> ReadGroupAsync(BatchEntry batch, CancellationToken ct)
        {
            var sections = batch.Index.Where(s => s.Shard >= lo && s.Shard < hi).ToList();
            var from = sections[0].Offset;
            var to = sections[^1].Offset + sections[^1].Length;
            var path = BlobPaths.Batch(day, batch.BatchId);
            var bytes = (await store.RangeOrNullAsync(path, from, to - from, ct).ConfigureAwait(false) ?? throw Vanished(path)).ToMemory();
            return sections.ToDictionary(s => s.Shard, s => bytes.Slice((int)(s.Offset - from), s.Length));
        }
    }

    private static List<PipelineEvent> Decode(ReadOnlyMemory<byte> block, Func<string> describe)
    {
        try
        {
            return EventBlockCodec.Decode(block.Span);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"Event store {StorageNames.EventsContainer}/{describe()}: {ex.Message}", ex);
        }
    }

    private Task StepAsync(string step) => AfterStep?.Invoke(step) ?? Task.CompletedTask;

    /// <summary>A listed segment disappeared before it was downloaded: a concurrent compaction folded it; the operation starts again.</summary>
    private sealed class SegmentVanishedException(string message) : Exception(message);
}
