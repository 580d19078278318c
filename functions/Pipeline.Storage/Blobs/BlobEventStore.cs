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
/// <item><c>events/&lt;yyyy-MM-dd&gt;/&lt;shard:D3&gt;/&lt;batchId&gt;.evb</c>: a segment, one <see cref="EventBlockCodec"/>
/// block per (day, shard, batch), each event with the batch's source. The name is deterministic, so a
/// redelivered message overwrites its own segment (with the same events: a batch always yields the
/// same segments) instead of adding a copy.</item>
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
/// <item>Delete the folded and stale segments.</item>
/// </list>
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

    private const string GenerationKey = "generation";
    private const string EventCountKey = "eventCount";

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
            events.AddRange(Decode(block, () => BlobPaths.Events(day, shard, batchId)));
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
            token => new ValueTask<CompactionResult>(CompactOnceAsync(day, shard, finish: true, token)), ct).AsTask(), cancellationToken);
    }

    public Task<CompactionResult> FoldAsync(DateOnly day, int shard, CancellationToken cancellationToken)
    {
        var description = $"folding event segments {BlobPaths.EventPrefix(day, shard)}";
        return StorageFailures.RunAsync(description, ct => Races.ExecuteAsync(
            token => new ValueTask<CompactionResult>(CompactOnceAsync(day, shard, finish: false, token)), ct).AsTask(), cancellationToken);
    }

    /// <summary>The compacted file (null: none) and the segments not folded into it, in name order.</summary>
    private sealed record Snapshot(CompactedEventFile? Compacted, IReadOnlyList<(string BatchId, ReadOnlyMemory<byte> Block)> Pending);

    private Task<Snapshot> ReadSnapshotAsync(DateOnly day, int shard, CancellationToken cancellationToken) =>
        StorageFailures.RunAsync("reading event segments " + BlobPaths.EventPrefix(day, shard), ct => Races.ExecuteAsync(async token =>
        {
            // Listing first, then the compacted file: see the class remarks.
            var listed = await ListSegmentsAsync(day, shard, token).ConfigureAwait(false);
            await StepAsync("read-listed").ConfigureAwait(false);
            var (compacted, _) = await ReadCompactedAsync(day, shard, token).ConfigureAwait(false);
            await StepAsync("read-compacted-read").ConfigureAwait(false);
            var pending = compacted is null ? listed : listed.Where(b => !compacted.HasFolded(b)).ToList();
            return new Snapshot(compacted, await DownloadSegmentsAsync(day, shard, pending, token).ConfigureAwait(false));
        }, ct).AsTask(), cancellationToken);

    /// <param name="finish">Also bring the Parquet copy up to date and delete the folded segments (steps 4 and 5); a fold stops after step 3.</param>
    private async Task<CompactionResult> CompactOnceAsync(DateOnly day, int shard, bool finish, CancellationToken ct)
    {
        var listed = await ListSegmentsAsync(day, shard, ct).ConfigureAwait(false);
        await StepAsync("listed").ConfigureAwait(false);
        var (compacted, etag) = await ReadCompactedAsync(day, shard, ct).ConfigureAwait(false);
        await StepAsync("compacted-read").ConfigureAwait(false);

        var fresh = new List<string>();
        var stale = new List<string>();
        foreach (var batchId in listed) (compacted is not null && compacted.HasFolded(batchId) ? stale : fresh).Add(batchId);

        var current = compacted;
        long eventsFolded = 0;
        if (fresh.Count > 0)
        {
            var segments = await DownloadSegmentsAsync(day, shard, fresh, ct).ConfigureAwait(false);
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
            // CompactAsync finishes (each step is idempotent, see the class remarks).
            var pending = fresh.Count + stale.Count > 0;
            return new CompactionResult(day, shard, current?.Generation ?? 0, fresh.Count, eventsFolded, current?.EventCount ?? 0, 0, pending);
        }

        if (current is not null)
        {
            await ExportAsync(day, shard, current, ct).ConfigureAwait(false);
            await StepAsync("exported").ConfigureAwait(false);
        }

        var deleted = 0;
        await Parallel.ForEachAsync(fresh.Concat(stale), new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = ct }, async (batchId, token) =>
        {
            var response = await _container.GetBlobClient(BlobPaths.Events(day, shard, batchId)).DeleteIfExistsAsync(cancellationToken: token).ConfigureAwait(false);
            if (response.Value) Interlocked.Increment(ref deleted);
        }).ConfigureAwait(false);
        await StepAsync("deleted").ConfigureAwait(false);

        return new CompactionResult(day, shard, current?.Generation ?? 0, fresh.Count, eventsFolded, current?.EventCount ?? 0, deleted);
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

    /// <summary>Batch ids of the (day, shard)'s segments, in name order.</summary>
    private async Task<List<string>> ListSegmentsAsync(DateOnly day, int shard, CancellationToken ct)
    {
        var prefix = BlobPaths.EventPrefix(day, shard);
        var batchIds = new List<string>();
        await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, ct).ConfigureAwait(false))
            if (BlobPaths.SegmentBatchId(item.Name, prefix) is { } batchId) batchIds.Add(batchId);
        return batchIds;
    }

    private async Task<(CompactedEventFile? File, ETag? ETag)> ReadCompactedAsync(DateOnly day, int shard, CancellationToken ct)
    {
        var path = BlobPaths.CompactedEvents(day, shard);
        Response<BlobDownloadResult> response;
        try
        {
            response = await _container.GetBlobClient(path).DownloadContentAsync(ct).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return (null, null);
        }
        try
        {
            return (CompactedEventFile.Decode(response.Value.Content.ToMemory()), response.Value.Details.ETag);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"Compacted event file {StorageNames.EventsContainer}/{path}: {ex.Message}", ex);
        }
    }

    /// <summary>Downloads segments, keeping the order given; one that no longer exists throws <see cref="SegmentVanishedException"/>.</summary>
    private async Task<(string BatchId, ReadOnlyMemory<byte> Block)[]> DownloadSegmentsAsync(DateOnly day, int shard, IReadOnlyList<string> batchIds, CancellationToken ct)
    {
        var blocks = new (string, ReadOnlyMemory<byte>)[batchIds.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, batchIds.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = ct },
            async (i, token) =>
            {
                var path = BlobPaths.Events(day, shard, batchIds[i]);
                var content = await _container.GetBlobClient(path).ContentOrNullAsync(token).ConfigureAwait(false)
                    ?? throw new SegmentVanishedException($"Event segment {StorageNames.EventsContainer}/{path} was listed but is gone (folded by a concurrent compaction).");
                blocks[i] = (batchIds[i], content.ToMemory());
            }).ConfigureAwait(false);
        return blocks;
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
