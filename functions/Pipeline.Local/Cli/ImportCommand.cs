using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Events;
using Pipeline.Core.Import;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Pipeline.Core.Time;
using Pipeline.Local.Hosting;

namespace Pipeline.Local.Cli;

/// <summary>What <c>import</c> was asked to do.</summary>
/// <param name="File">The NDJSON or JSON batch file, plain or gzip.</param>
/// <param name="Source">The registered source the import acts as.</param>
/// <param name="HistoryFrom">Accept events back to the start of this reporting day (a backfill); null: the contract's 30 days.</param>
/// <param name="RejectsPath">Where every rejected line is written; null: next to the input, <c>FILE.rejected.ndjson</c>.</param>
/// <param name="ShowRejected">How many rejected lines the summary shows.</param>
internal sealed record ImportRequest(string File, string Source, DateOnly? HistoryFrom = null, ImportFormat Format = ImportFormat.Auto,
    string? RejectsPath = null, int ShowRejected = 20, int Parallelism = 4);

/// <summary>
/// <c>import FILE --source NAME</c>: a backfill of wire-format events from a file, through the same ingest
/// path as a request (see <see cref="BulkImporter"/>). Progress goes to standard error, the summary to
/// standard output, every rejected line to the rejects file.
/// </summary>
internal static class ImportCommand
{
    /// <summary>Exit code when the file could not be read to its end (the events before that point were imported).</summary>
    public const int FileNotReadToEnd = 3;

    /// <summary>Exit code when ingest refused a batch for a reason other than storage (should not happen).</summary>
    public const int BatchRefused = 4;

    public static Command Create()
    {
        var file = new Argument<string>("FILE")
        {
            Description = "NDJSON (one wire-format event object per line) or a JSON batch file ({\"events\": [...]}, the HTTP body, of any length); plain or gzip (recognised by its first bytes, not its name).",
        };
        var source = new Option<string?>("--source")
        {
            HelpName = "NAME",
            Description = "The registered source (see 'keys create') the import acts as: its mini-program allow-list applies, and events are de-duplicated per source and eventId, so give the source that sent (or would have sent) them. No default.",
        };
        var historyFrom = DateOptions.Create("--history-from",
            "Accept events as old as this reporting day: a backfill of history. Without it, events more than 30 days old are rejected (timestamp_out_of_range), as on the HTTP endpoint", required: false);
        historyFrom.HelpName = "DATE";
        var format = new Option<string>("--format")
        {
            Description = "auto (default): a batch file when the first JSON object has an \"events\" array, else NDJSON; or ndjson, batch.",
            DefaultValueFactory = _ => "auto",
        };
        format.AcceptOnlyFromAmong("auto", "ndjson", "batch");
        var rejects = new Option<string?>("--rejects")
        {
            HelpName = "FILE",
            Description = "File to write every rejected line to (NDJSON: line, entry, eventId, code, message; never the line's content). Default: FILE.rejected.ndjson next to the input.",
        };
        var show = new Option<int>("--show-rejected") { HelpName = "N", Description = "How many rejected lines the summary prints.", DefaultValueFactory = _ => 20 };
        var parallel = new Option<int>("--parallel") { HelpName = "N", Description = "Batches sent to storage at once (1 to 16).", DefaultValueFactory = _ => 4 };

        var command = new Command("import", "Import (backfill) wire-format events from a file through the ingest path: the same validation, pseudonymisation, landing blobs, claim checks and receipts as POST /api/v1/events. Processing then stores them and marks their days dirty; 'rollup' re-rolls those days.")
        {
            file, source, historyFrom, format, rejects, show, parallel,
        };
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var request = new ImportRequest(
                parse.GetValue(file)!,
                parse.GetValue(source) ?? throw new CliException(
                    "--source is required: the registered source the import acts as (its allow-list applies, and duplicates are dropped per source and eventId). 'keys list' shows the sources."),
                parse.GetValue(historyFrom),
                Enum.Parse<ImportFormat>(parse.GetValue(format)!, ignoreCase: true),
                parse.GetValue(rejects),
                parse.GetValue(show),
                parse.GetValue(parallel));
            Check(request);
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            return await RunAsync(services, request, Console.Out, Console.Error, ct);
        }));
        return command;
    }

    /// <summary>The checks that need no storage: a <see cref="CliException"/> for a missing file or a bad option.</summary>
    internal static void Check(ImportRequest request)
    {
        if (!File.Exists(request.File))
            throw new CliException($"the file '{request.File}' does not exist.");
        if (request.ShowRejected < 0) throw new CliException("--show-rejected must be 0 or more.");
        if (request.Parallelism is < 1 or > 16) throw new CliException("--parallel must be 1 to 16.");
        if (!SourceNames.IsValid(request.Source)) throw new CliException($"--source '{request.Source}' is not a source name ({SourceNames.Rule}); 'keys list' shows the sources.");
    }

    /// <summary>The default rejects file of an input: next to it, <c>FILE.rejected.ndjson</c>.</summary>
    internal static string DefaultRejectsPath(string file) => Path.GetFullPath(file) + ".rejected.ndjson";

    /// <summary>Runs an import with the pipeline's services; returns the exit code. Unknown source and missing file: <see cref="CliException"/>.</summary>
    internal static async Task<int> RunAsync(IServiceProvider services, ImportRequest request, TextWriter output, TextWriter progress, CancellationToken ct)
    {
        Check(request);
        var registration = await services.GetRequiredService<IIngestKeyStore>().FindSourceAsync(request.Source, ct)
            ?? throw new CliException($"the source '{request.Source}' is not registered. Register it with 'keys create --source {request.Source} --mini-programs LIST|*' "
                + "(the import acts as that source: its allow-list applies, and duplicates are dropped per source and eventId); 'keys list' shows the sources.");

        var calendar = services.GetRequiredService<ReportingCalendar>();
        var timeRules = EventTimeRules.Import(request.HistoryFrom is { } from ? calendar.StartOf(from) : null);
        var rejectsPath = Path.GetFullPath(request.RejectsPath ?? DefaultRejectsPath(request.File));
        if (string.Equals(rejectsPath, Path.GetFullPath(request.File), StringComparison.Ordinal))
            throw new CliException("--rejects names the input file itself.");

        await progress.WriteLineAsync($"Importing {request.File} as source '{registration.Name}' (may write {(registration.AllMiniPrograms ? "every mini-program" : string.Join(", ", registration.MiniProgramIds))}); "
            + (request.HistoryFrom is { } h ? $"events from {h:yyyy-MM-dd} on accepted as history." : "events more than 30 days old are rejected (use --history-from DATE for a backfill)."));

        FileStream rejectsFile;
        try
        {
            rejectsFile = new FileStream(rejectsPath, FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write the rejects file '{rejectsPath}' ({e.Message}); choose another with --rejects.");
        }

        var clock = Stopwatch.StartNew();
        ImportResult result;
        var observer = new ImportReporter(rejectsFile, progress, clock, request.ShowRejected);
        await using (rejectsFile)
        {
            await using var input = new FileStream(request.File, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var options = new ImportOptions
            {
                Source = registration.Name,
                TimeRules = timeRules,
                Format = request.Format,
                Parallelism = request.Parallelism,
            };
            result = await new BulkImporter(services.GetRequiredService<IngestHandler>()).RunAsync(input, options, observer, ct);
            observer.Flush();
        }
        clock.Stop();
        if (result.Rejected == 0) File.Delete(rejectsPath);

        await output.WriteAsync(Summary(request, registration.Name, result, clock.Elapsed, calendar, observer.Shown, result.Rejected > 0 ? rejectsPath : null));
        if (result.Stop != ImportStop.None)
        {
            await progress.WriteLineAsync($"error: the import stopped: {result.StopMessage}");
            if (result.FirstLineNotImported is { } line)
                await progress.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  Events from line {line:N0} on were not imported ({result.NotImported:N0} read but not stored; the rest of the file was not read)."));
            await progress.WriteLineAsync(result.Stop == ImportStop.FileError
                ? "  The events read before that point were handled (see the summary). Importing the repaired file again is safe: the events already accepted are dropped as duplicates by processing."
                : "  Running the same import again is safe: the events already accepted are dropped as duplicates by processing.");
        }
        return result.Stop switch
        {
            ImportStop.None => 0,
            ImportStop.UnknownSource => 1,
            ImportStop.StorageUnavailable => 2,
            ImportStop.FileError => FileNotReadToEnd,
            _ => BatchRefused,
        };
    }

    internal static string Summary(ImportRequest request, string source, ImportResult result, TimeSpan elapsed, ReportingCalendar calendar,
        IReadOnlyList<ImportRejection> shown, string? rejectsPath)
    {
        var c = CultureInfo.InvariantCulture;
        var w = new StringWriter(c);
        var seconds = Math.Max(elapsed.TotalSeconds, 0.001);
        var kind = $"{(result.Gzip ? "gzip, " : "")}{(result.Format == ImportFormat.Batch ? "JSON batch file" : "NDJSON")}";
        w.WriteLine(string.Create(c, $"Import of {request.File} ({kind}) as source '{source}'{(result.Stop == ImportStop.None ? "" : " (stopped early)")}:"));
        Row(w, "events read", result.EventsRead, result.BlankLines > 0 ? string.Create(c, $"(and {result.BlankLines:N0} blank line{(result.BlankLines == 1 ? "" : "s")} skipped)") : null);
        Row(w, "accepted", result.Accepted, "landed with their claim checks on the processing queue");
        Row(w, "rejected", result.Rejected, result.RejectedByCode.Count == 0 ? null
            : string.Join(", ", result.RejectedByCode.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => string.Create(c, $"{p.Key} {p.Value:N0}"))));
        Row(w, "duplicates in file", result.DuplicatesInFile,
            (result.DuplicatesCapped ? "at least; " : "") + "accepted events whose eventId an earlier line had: processing stores one");
        Row(w, "batches", result.Batches, null);
        w.WriteLine(string.Create(c, $"  {"elapsed",-20}{seconds,12:0.0} s"));
        w.WriteLine(string.Create(c, $"  {"throughput",-20}{(result.Accepted + result.Rejected) / seconds,12:N0} events/s"));
        if (result.AcceptedTimes is { } times)
        {
            var first = calendar.DayOf(times.EarliestMs);
            var last = calendar.DayOf(times.LatestMs);
            w.WriteLine(string.Create(c, $"  {"reporting days",-20}{first:yyyy-MM-dd} .. {last:yyyy-MM-dd} ({calendar.TimeZone.Id})"));
        }

        if (result.Rejected > 0)
        {
            w.WriteLine();
            w.WriteLine(shown.Count < result.Rejected
                ? string.Create(c, $"Rejected lines (the first {shown.Count:N0} of {result.Rejected:N0}; all of them in {rejectsPath}):")
                : $"Rejected lines (also in {rejectsPath}):");
            foreach (var r in shown)
            {
                var where = r.Entry is { } entry ? string.Create(c, $"line {r.Line} (events[{entry}])") : string.Create(c, $"line {r.Line}");
                w.WriteLine($"  {where}{(r.EventId is null ? "" : " eventId " + r.EventId)}: {r.Code}: {r.Message}");
            }
            if (request.HistoryFrom is null && result.RejectedByCode.TryGetValue(RejectionCodes.TimestampOutOfRange, out var old))
            {
                w.WriteLine();
                w.WriteLine(string.Create(c, $"{old:N0} event(s) were out of the time window; if they are history (more than 30 days old), import the file again with --history-from YYYY-MM-DD: the events already accepted are dropped as duplicates."));
            }
            if (result.Accepted == 0 && result.RejectedByCode.Keys.All(k => k == ImportCodes.InvalidJson) && result.Format == ImportFormat.Ndjson)
            {
                w.WriteLine();
                w.WriteLine("No line was a JSON event. If the file is one JSON batch object spread over many lines, give --format batch.");
            }
        }

        if (result.Accepted > 0 && result.AcceptedTimes is { } range)
        {
            w.WriteLine();
            w.WriteLine(string.Create(c, $"Next: processing takes the batches from the processing queue ('serve' here, the Functions app in Azure), stores each event once and marks its day dirty; the next 'rollup' then rolls every day from {calendar.DayOf(range.EarliestMs):yyyy-MM-dd} through yesterday again."));
        }
        return w.ToString();
    }

    private static void Row(TextWriter w, string name, long value, string? note) =>
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-20}{value,12:N0}{(note is null ? "" : "   " + note)}"));

    /// <summary>Progress lines (at most one a second) on standard error, and every rejection to the rejects file.</summary>
    private sealed class ImportReporter(Stream rejects, TextWriter progress, Stopwatch clock, int show) : IImportObserver
    {
        private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
        private readonly Utf8JsonWriter _json = new(rejects, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        private readonly List<ImportRejection> _shown = [];
        private TimeSpan _lastPrinted = TimeSpan.Zero;

        public IReadOnlyList<ImportRejection> Shown => _shown;

        public void Progress(ImportProgress p)
        {
            var now = clock.Elapsed;
            if (now - _lastPrinted < Interval) return;
            _lastPrinted = now;
            var rate = (p.Accepted + p.Rejected) / Math.Max(now.TotalSeconds, 0.001);
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {now.TotalSeconds,6:0.0} s  read {p.EventsRead:N0}  accepted {p.Accepted:N0}  rejected {p.Rejected:N0}  batches {p.Batches:N0}  {rate:N0} events/s"));
        }

        public void Rejected(ImportRejection r)
        {
            if (_shown.Count < show) _shown.Add(r);
            _json.WriteStartObject();
            _json.WriteNumber("line"u8, r.Line);
            if (r.Entry is { } entry) _json.WriteNumber("entry"u8, entry);
            if (r.EventId is null) _json.WriteNull("eventId"u8);
            else _json.WriteString("eventId"u8, r.EventId);
            _json.WriteString("code"u8, r.Code);
            _json.WriteString("message"u8, r.Message);
            _json.WriteEndObject();
            _json.Flush();
            rejects.WriteByte((byte)'\n');
            _json.Reset();
        }

        public void Flush()
        {
            _json.Flush();
            rejects.Flush();
        }
    }
}
