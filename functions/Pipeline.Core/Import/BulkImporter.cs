using System.Text.Json;
using Pipeline.Core.Ingest;

namespace Pipeline.Core.Import;

/// <summary>How a bulk import runs.</summary>
public sealed record ImportOptions
{
    /// <summary>The registered source the import acts as: its mini-program allow-list applies, and de-duplication is per (source, eventId).</summary>
    public required string Source { get; init; }

    /// <summary>Time rules of the events (<see cref="EventTimeRules.Import"/>: timestamps as sent; history only when asked for).</summary>
    public EventTimeRules TimeRules { get; init; } = EventTimeRules.Import(null);

    public ImportFormat Format { get; init; } = ImportFormat.Auto;

    /// <summary>Batches handed to ingest at once (the next ones are read and validated meanwhile).</summary>
    public int Parallelism { get; init; } = 4;

    public int MaxEventsPerBatch { get; init; } = IngestLimits.MaxEvents;

    public int MaxBatchBytes { get; init; } = IngestLimits.MaxBodyBytes;

    /// <summary>Tries of one batch while ingest answers 503 (storage unavailable) before the import stops.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Longest wait between two tries of a batch (ingest's <c>Retry-After</c>, capped by this).</summary>
    public TimeSpan MaxRetryWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Distinct event ids remembered to count duplicates within the file (a 64-bit hash each: about 20 to 40 bytes
    /// in the set, so at most about 80 MB); past it, the count is a lower bound.
    /// </summary>
    public int MaxTrackedIds { get; init; } = 2_000_000;
}

/// <summary>A line (or batch-file entry) the import did not accept, and why.</summary>
/// <param name="Line">1-based line of the file where the event starts.</param>
/// <param name="Entry">Its index in a batch file's <c>events</c>; null for NDJSON.</param>
/// <param name="EventId">Its <c>eventId</c> when the validator found a usable one.</param>
/// <param name="Code">A code of the contract (<c>missing_field</c>, <c>timestamp_out_of_range</c>, …) or of <see cref="ImportCodes"/>.</param>
public sealed record ImportRejection(long Line, int? Entry, string? EventId, string Code, string Message);

/// <summary>Counts so far, for a progress line.</summary>
/// <param name="EventsRead">Events read from the file (non-blank lines or batch-file entries, rejected ones included).</param>
/// <param name="Accepted">Events accepted by ingest (landed and enqueued for processing).</param>
/// <param name="Rejected">Events rejected, before validation or by it.</param>
/// <param name="Batches">Batches answered by ingest.</param>
public readonly record struct ImportProgress(long EventsRead, long Accepted, long Rejected, long Batches);

/// <summary>Told about an import as it goes, on one thread at a time, in file order.</summary>
public interface IImportObserver
{
    void Progress(ImportProgress progress);

    void Rejected(ImportRejection rejection);
}

/// <summary>Why an import ended before the end of its file.</summary>
public enum ImportStop
{
    /// <summary>The whole file was handled.</summary>
    None,

    /// <summary>The file could not be read further (a malformed batch file, a corrupt or truncated gzip file, a read error).</summary>
    FileError,

    /// <summary>The source is not registered.</summary>
    UnknownSource,

    /// <summary>Storage stayed unavailable for a batch through every try.</summary>
    StorageUnavailable,

    /// <summary>Ingest refused a batch for another reason (a bug: the import keeps within the contract's limits).</summary>
    Refused,
}

/// <summary>What an import did.</summary>
public sealed record ImportResult
{
    public required ImportFormat Format { get; init; }
    public required bool Gzip { get; init; }
    public required long EventsRead { get; init; }
    public required long Accepted { get; init; }
    public required long Rejected { get; init; }

    /// <summary>Accepted events whose <c>eventId</c> an earlier accepted event of the file already had: processing stores one of them.</summary>
    public required long DuplicatesInFile { get; init; }

    /// <summary>True when more distinct ids were accepted than <see cref="ImportOptions.MaxTrackedIds"/>: <see cref="DuplicatesInFile"/> is then a lower bound.</summary>
    public required bool DuplicatesCapped { get; init; }

    /// <summary>Batches answered by ingest (each one landing blob, or one rejected record when all its events were rejected).</summary>
    public required long Batches { get; init; }

    public required long BlankLines { get; init; }

    /// <summary>Rejections by code.</summary>
    public required IReadOnlyDictionary<string, long> RejectedByCode { get; init; }

    /// <summary>Earliest and latest time of the accepted events; null when none was accepted.</summary>
    public required AcceptedTimeRange? AcceptedTimes { get; init; }

    public required ImportStop Stop { get; init; }

    /// <summary>What stopped the import, for the operator; null when <see cref="Stop"/> is <see cref="ImportStop.None"/>.</summary>
    public string? StopMessage { get; init; }

    /// <summary>Events read whose batch was not stored because the import stopped (they may be imported again safely).</summary>
    public long NotImported { get; init; }

    /// <summary>The first line of the first batch not stored, when the import stopped.</summary>
    public long? FirstLineNotImported { get; init; }
}

/// <summary>
/// A bulk import of wire-format events from a file (the local runner's <c>import</c> verb): the file is
/// read as a stream (gzip recognised by its magic bytes), cut into batches within the contract's limits,
/// and each batch goes through <see cref="IngestHandler.HandleImportAsync"/>: the same validation,
/// pseudonymisation, landing blob, claim-check message, rejected record and ingest receipt as a request,
/// with the import's <see cref="EventTimeRules"/>. Lines that are not one JSON object, or are too long,
/// are rejected before they join a batch, so they never cost a valid event. Several batches are in
/// flight at once; results are reported in file order. Memory is bounded: (Parallelism + 1) batch
/// bodies, one line or entry, and the set of event ids for counting duplicates.
/// </summary>
public sealed class BulkImporter(IngestHandler handler)
{
    private const int MaxEarlyRejectionsPerChunk = 1000;

    public async Task<ImportResult> RunAsync(Stream file, ImportOptions options, IImportObserver? observer, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Parallelism, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAttempts, 1);
        var run = new Run(handler, options, observer, ct);
        return await run.ExecuteAsync(file).ConfigureAwait(false);
    }

    private sealed class Run(IngestHandler handler, ImportOptions options, IImportObserver? observer, CancellationToken ct)
    {
        private readonly Queue<(ImportChunk Chunk, Task<IngestOutcome>? Answer)> _inFlight = new();
        private readonly HashSet<ulong> _ids = [];
        private readonly Dictionary<string, long> _byCode = new(StringComparer.Ordinal);
        private long _read, _accepted, _rejected, _duplicates, _batches, _notImported;
        private long _earliest = long.MaxValue, _latest = long.MinValue;
        private bool _capped;
        private long _sequence;
        private ImportStop _stop;
        private string? _stopMessage;
        private long? _firstLineNotImported;

        public async Task<ImportResult> ExecuteAsync(Stream file)
        {
            var format = options.Format;
            var gzip = false;
            long blank = 0;
            ImportInput? input = null;
            try
            {
                input = ImportInput.Open(file);
                gzip = input.IsGzip;
                var head = new byte[ImportFormats.HeadBytes];
                var n = 0;
                while (n < head.Length && input.Read(head, n, head.Length - n) is var read and > 0) n += read;
                format = options.Format != ImportFormat.Auto ? options.Format : ImportFormats.Detect(head.AsSpan(0, n), n < head.Length);
                var content = new PrefixedStream(head.AsMemory(0, n), input);
                IImportReader reader = format == ImportFormat.Batch ? new BatchFileReader(content) : new NdjsonReader(content);

                await ReadAllAsync(reader).ConfigureAwait(false);
                blank = (reader as NdjsonReader)?.BlankLines ?? 0;
                if (_stop == ImportStop.None && input.IncompleteReason() is { } incomplete)
                    StopWith(ImportStop.FileError, incomplete, null);
            }
            catch (Exception e) when (e is ImportFileException or InvalidDataException or IOException)
            {
                // Reported as the result: the events read before the fault were handled (or are in flight).
                StopWith(ImportStop.FileError, e is ImportFileException ? e.Message : "the file could not be read: " + e.Message, null);
            }
            finally
            {
                input?.Dispose();
            }

            while (_inFlight.Count > 0) await CompleteOldestAsync().ConfigureAwait(false);
            observer?.Progress(Progress);
            return new ImportResult
            {
                Format = format,
                Gzip = gzip,
                EventsRead = _read,
                Accepted = _accepted,
                Rejected = _rejected,
                DuplicatesInFile = _duplicates,
                DuplicatesCapped = _capped,
                Batches = _batches,
                BlankLines = blank,
                RejectedByCode = _byCode,
                AcceptedTimes = _accepted > 0 ? new AcceptedTimeRange(_earliest, _latest) : null,
                Stop = _stop,
                StopMessage = _stopMessage,
                NotImported = _notImported,
                FirstLineNotImported = _firstLineNotImported,
            };
        }

        private ImportProgress Progress => new(_read, _accepted, _rejected, _batches);

        private async Task ReadAllAsync(IImportReader reader)
        {
            var chunk = NewChunk();
            try
            {
                while (_stop == ImportStop.None && reader.TryRead(out var item))
                {
                    ct.ThrowIfCancellationRequested();
                    _read++;
                    if (item.IsRejected)
                    {
                        chunk.EarlyRejections.Add(new ImportRejection(item.Line, item.Ordinal < 0 ? null : item.Ordinal, null, item.Code!, item.Message!));
                        if (chunk.EarlyRejections.Count < MaxEarlyRejectionsPerChunk) continue;
                    }
                    else if (chunk.TryAdd(item.Json.Span, item.Line, item.Ordinal, item.IdHash))
                    {
                        if (!chunk.IsFull) continue;
                    }
                    else
                    {
                        await SubmitAsync(chunk).ConfigureAwait(false);
                        chunk = NewChunk();
                        if (!chunk.TryAdd(item.Json.Span, item.Line, item.Ordinal, item.IdHash))
                            throw new InvalidOperationException("An event does not fit in an empty batch."); // prevented by ImportChunk's limits
                        continue;
                    }
                    await SubmitAsync(chunk).ConfigureAwait(false);
                    chunk = NewChunk();
                }
            }
            finally
            {
                // What was read before the end (or a fault of the file) is still handled.
                if (chunk.Count > 0 || chunk.EarlyRejections.Count > 0) await SubmitAsync(chunk).ConfigureAwait(false);
                else chunk.Dispose();
            }
        }

        private ImportChunk NewChunk() => new(_sequence++, options.MaxEventsPerBatch, options.MaxBatchBytes);

        private async Task SubmitAsync(ImportChunk chunk)
        {
            // At most Parallelism batches in flight; a batch is sent only while the import has not stopped.
            if (chunk.Count > 0)
                while (_inFlight.Count >= options.Parallelism) await CompleteOldestAsync().ConfigureAwait(false);
            // Validation and pseudonymisation run on the thread pool, so the next batch is read meanwhile.
            var answer = chunk.Count == 0 || _stop != ImportStop.None ? null : Task.Run(() => SendAsync(chunk), ct);
            _inFlight.Enqueue((chunk, answer));
            while (_inFlight.Count > 0 && _inFlight.Peek().Answer is null or { IsCompleted: true })
                await CompleteOldestAsync().ConfigureAwait(false);
        }

        private async Task<IngestOutcome> SendAsync(ImportChunk chunk)
        {
            for (var attempt = 1; ; attempt++)
            {
                var outcome = await handler.HandleImportAsync(options.Source, chunk.Body(), options.TimeRules, ct).ConfigureAwait(false);
                if (outcome.Kind != IngestResultKind.Unavailable || attempt >= options.MaxAttempts) return outcome;
                var wait = outcome.RetryAfter is { } after && after < options.MaxRetryWait ? after : options.MaxRetryWait;
                await Task.Delay(wait, ct).ConfigureAwait(false);
            }
        }

        private async Task CompleteOldestAsync()
        {
            var (chunk, answer) = _inFlight.Dequeue();
            using (chunk)
            {
                var outcome = answer is null ? null : await answer.ConfigureAwait(false);
                Report(chunk, outcome);
            }
            observer?.Progress(Progress);
        }

        private void Report(ImportChunk chunk, IngestOutcome? outcome)
        {
            var rejections = new List<ImportRejection>(chunk.EarlyRejections);
            if (chunk.Count > 0 && outcome is null)
            {
                // Read after the import stopped: not sent.
                NotImported(chunk);
            }
            else if (outcome is not null && (outcome.Kind == IngestResultKind.Accepted || outcome.ErrorCode == IngestErrorCodes.AllRejected))
            {
                _batches++;
                var rejected = new bool[chunk.Count];
                foreach (var r in outcome.Rejections)
                {
                    rejected[r.Index] = true;
                    rejections.Add(new ImportRejection(chunk.Lines[r.Index], Entry(chunk.Ordinals[r.Index]), r.EventId, r.Code, r.Message));
                }
                _accepted += outcome.Accepted;
                if (outcome.AcceptedTimes is { } times)
                {
                    _earliest = Math.Min(_earliest, times.EarliestMs);
                    _latest = Math.Max(_latest, times.LatestMs);
                }
                for (var i = 0; i < chunk.Count; i++)
                {
                    if (rejected[i] || chunk.IdHashes[i] is not (var hash and not 0)) continue;
                    if (_ids.Count < options.MaxTrackedIds ? !_ids.Add(hash) : _ids.Contains(hash)) _duplicates++;
                    else if (_ids.Count >= options.MaxTrackedIds) _capped = true;
                }
            }
            else if (outcome is not null && outcome.Kind == IngestResultKind.Invalid)
            {
                // The whole batch refused (cannot happen for a body built of checked entries): every event rejected with the reason.
                _batches++;
                for (var i = 0; i < chunk.Count; i++)
                    rejections.Add(new ImportRejection(chunk.Lines[i], Entry(chunk.Ordinals[i]), null, outcome.ErrorCode!, outcome.ErrorMessage!));
            }
            else if (outcome is not null)
            {
                var stop = outcome.Kind switch
                {
                    IngestResultKind.Unauthorized => ImportStop.UnknownSource,
                    IngestResultKind.Unavailable => ImportStop.StorageUnavailable,
                    _ => ImportStop.Refused,
                };
                var message = outcome.Kind == IngestResultKind.Unavailable
                    ? $"storage is unavailable ({options.MaxAttempts} tries of the batch from line {chunk.Lines[0]}): {outcome.ErrorMessage}"
                    : $"ingest refused the batch from line {chunk.Lines[0]} ({outcome.ErrorCode}): {outcome.ErrorMessage}";
                StopWith(stop, message, chunk.Lines[0]);
                NotImported(chunk);
            }

            rejections.Sort((a, b) => a.Line != b.Line ? a.Line.CompareTo(b.Line) : Nullable.Compare(a.Entry, b.Entry));
            foreach (var r in rejections)
            {
                _rejected++;
                _byCode[r.Code] = _byCode.GetValueOrDefault(r.Code) + 1;
                observer?.Rejected(r);
            }
        }

        private void NotImported(ImportChunk chunk)
        {
            _notImported += chunk.Count;
            if (chunk.Count > 0 && (_firstLineNotImported is null || chunk.Lines[0] < _firstLineNotImported)) _firstLineNotImported = chunk.Lines[0];
        }

        private void StopWith(ImportStop stop, string message, long? line)
        {
            if (_stop != ImportStop.None) return;
            _stop = stop;
            _stopMessage = message;
            if (line is { } l) _firstLineNotImported = l;
        }

        private static int? Entry(int ordinal) => ordinal < 0 ? null : ordinal;
    }
}
