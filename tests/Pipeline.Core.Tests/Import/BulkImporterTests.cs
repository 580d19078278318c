using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Events;
using Pipeline.Core.Import;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Pipeline.Core.Tests.Ingest;
using static Pipeline.Core.Tests.Import.ImportTestData;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Import;

/// <summary>The bulk import against in-memory ports: chunking, rejections by line, duplicates, gzip, and how it stops.</summary>
public class BulkImporterTests
{
    private readonly FakeTimeProvider _time = new(Now);
    private readonly FakeKeyStore _keys = new();
    private readonly FakeLandingStore _landing = new();
    private readonly FakeQueue _queue = new();
    private readonly FakeRejectedStore _rejected = new();
    private readonly FakeReceipts _receipts = new();
    private readonly BulkImporter _importer;

    public BulkImporterTests()
    {
        _keys.Sources[OnlyWx123.Name] = OnlyWx123;
        var handler = new IngestHandler(new IngestKeyCache(_keys, _time), _landing, _queue, _rejected, _receipts, new PipelineOptions { PseudonymisationKey = PseudonymisationKey }, _time);
        _importer = new BulkImporter(handler);
    }

    private sealed class Recorder : IImportObserver
    {
        public List<ImportRejection> Rejections { get; } = [];
        public List<ImportProgress> Progress { get; } = [];
        void IImportObserver.Progress(ImportProgress progress) => Progress.Add(progress);
        void IImportObserver.Rejected(ImportRejection rejection) => Rejections.Add(rejection);
    }

    private static string Line(string eventId, int daysAgo = 1, string program = "wx123")
    {
        var e = Event(eventId: eventId);
        e["timestamp"] = Now.AddDays(-daysAgo).ToUnixTimeMilliseconds();
        e["miniProgramId"] = program;
        return e.ToJsonString();
    }

    private async Task<(ImportResult Result, Recorder Seen)> Import(byte[] file, ImportOptions? options = null)
    {
        var seen = new Recorder();
        var result = await _importer.RunAsync(new MemoryStream(file), options ?? new ImportOptions { Source = OnlyWx123.Name }, seen, CancellationToken.None);
        return (result, seen);
    }

    private static byte[] Ndjson(IEnumerable<string> lines) => Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");

    [Fact]
    public async Task Invalid_lines_are_rejected_with_their_line_and_never_cost_a_valid_event_of_their_batch()
    {
        var lines = new List<string>();
        for (var i = 0; i < 25; i++) lines.Add(Line($"e-{i}"));
        lines.Insert(3, "not json at all");
        lines.Insert(7, "");
        lines.Insert(10, Line("forbidden", program: "wx999"));
        lines.Insert(12, "{\"eventId\":\"broken\",");
        lines.Insert(15, new string('x', ImportLimits.MaxItemBytes + 1));
        lines.Insert(20, Line("old", daysAgo: 45));

        var (result, seen) = await Import(Ndjson(lines), new ImportOptions { Source = OnlyWx123.Name, MaxEventsPerBatch = 10, Parallelism = 3 });

        Assert.Equal(ImportStop.None, result.Stop);
        Assert.Equal((30L, 25L, 5L, 1L), (result.EventsRead, result.Accepted, result.Rejected, result.BlankLines));
        Assert.Equal(
            [
                (4L, (string?)null, ImportCodes.InvalidJson),
                (11, "forbidden", RejectionCodes.ForbiddenMiniProgram),
                (13, null, ImportCodes.InvalidJson),
                (16, null, ImportCodes.LineTooLong),
                (21, "old", RejectionCodes.TimestampOutOfRange),
            ],
            seen.Rejections.Select(r => (r.Line, r.EventId, r.Code)));
        Assert.Equal(3, result.Batches); // 27 checked lines in batches of at most 10
        Assert.Equal(25, _landing.Written.Sum(b => b.Events.Count));
        Assert.All(_landing.Written, b => Assert.InRange(b.ReceivedCount, 1, 10));
        Assert.Equal(3, _queue.Messages.Count);
        Assert.Equal(27, _receipts.Recorded.Sum(r => r.Receipt.Received)); // the lines not JSON never reached ingest
        Assert.Equal(new Dictionary<string, long> { ["invalid_json"] = 2, ["forbidden_mini_program"] = 1, ["line_too_long"] = 1, ["timestamp_out_of_range"] = 1 },
            result.RejectedByCode);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"e-{i}").Order(), _landing.Written.SelectMany(b => b.Events).Select(e => e.EventId).Order());
    }

    [Fact]
    public async Task History_is_accepted_only_when_asked_for_and_the_time_range_is_reported()
    {
        var file = Ndjson([Line("a", 45), Line("b", 2)]);

        var (contract, _) = await Import(file);
        Assert.Equal((1L, 1L), (contract.Accepted, contract.Rejected));

        var (history, seen) = await Import(file, new ImportOptions { Source = OnlyWx123.Name, TimeRules = EventTimeRules.Import(Now.AddDays(-60)) });
        Assert.Equal((2L, 0L), (history.Accepted, history.Rejected));
        Assert.Empty(seen.Rejections);
        Assert.Equal(new AcceptedTimeRange(Now.AddDays(-45).ToUnixTimeMilliseconds(), Now.AddDays(-2).ToUnixTimeMilliseconds()), history.AcceptedTimes);
    }

    [Fact]
    public async Task Duplicate_event_ids_among_accepted_events_are_counted()
    {
        var (result, _) = await Import(Ndjson([Line("a"), Line("b"), Line("a"), Line("c", program: "wx999"), Line("c"), Line("a")]),
            new ImportOptions { Source = OnlyWx123.Name, MaxEventsPerBatch = 2 });

        Assert.Equal((5L, 1L, 2L), (result.Accepted, result.Rejected, result.DuplicatesInFile));
        Assert.False(result.DuplicatesCapped);
    }

    [Fact]
    public async Task Past_the_tracked_ids_the_duplicate_count_is_a_lower_bound()
    {
        var (result, _) = await Import(Ndjson([Line("a"), Line("b"), Line("a"), Line("b")]),
            new ImportOptions { Source = OnlyWx123.Name, MaxTrackedIds = 1 });
        Assert.Equal(1, result.DuplicatesInFile);
        Assert.True(result.DuplicatesCapped);
    }

    [Fact]
    public async Task A_gzip_file_is_imported_as_its_content()
    {
        var lines = Enumerable.Range(0, 1500).Select(i => Line($"g-{i}")).Append("garbage").ToList();
        var (result, seen) = await Import(Gzip(Ndjson(lines)));

        Assert.True(result.Gzip);
        Assert.Equal(ImportFormat.Ndjson, result.Format);
        Assert.Equal((1501L, 1500L, 1L, 2L), (result.EventsRead, result.Accepted, result.Rejected, result.Batches));
        Assert.Equal(1501, Assert.Single(seen.Rejections).Line);
        Assert.Equal(ImportStop.None, result.Stop);
    }

    [Fact]
    public async Task A_truncated_gzip_file_imports_what_it_holds_and_says_it_is_truncated()
    {
        var gzip = Gzip(Ndjson(Enumerable.Range(0, 3000).Select(i => Line($"t-{i}"))));
        var (result, _) = await Import(gzip[..^6]);

        Assert.Equal(ImportStop.FileError, result.Stop);
        Assert.Contains("truncated", result.StopMessage);
        Assert.Equal(result.EventsRead, result.Accepted);
        Assert.InRange(result.Accepted, 1, 3000);
    }

    [Fact]
    public async Task A_batch_file_is_imported_entry_by_entry_in_batches_within_the_limits()
    {
        var events = Enumerable.Range(0, 2500).Select(i => JsonNode.Parse(Line($"b-{i}"))!).ToList();
        events[1234] = JsonNode.Parse("""{"eventId":"nope"}""")!;
        var body = "{\"sentAt\":\"2020-01-01T00:00:00Z\",\n\"events\":[\n" + string.Join(",\n", events.Select(e => e.ToJsonString())) + "\n]}";

        var (result, seen) = await Import(Encoding.UTF8.GetBytes(body));

        Assert.Equal(ImportFormat.Batch, result.Format);
        Assert.Equal((2500L, 2499L, 1L, 3L), (result.EventsRead, result.Accepted, result.Rejected, result.Batches));
        var rejection = Assert.Single(seen.Rejections);
        Assert.Equal((1237L, 1234, "nope", RejectionCodes.MissingField), (rejection.Line, rejection.Entry, rejection.EventId, rejection.Code));
        // The file's sentAt is not used: the events keep their timestamps.
        Assert.All(_landing.Written.SelectMany(b => b.Events), e => Assert.Equal(Now.AddDays(-1).ToUnixTimeMilliseconds(), e.TimeMs));
    }

    [Fact]
    public async Task A_malformed_batch_file_imports_the_entries_before_the_fault_and_stops()
    {
        var body = "{\"events\":[" + Line("a") + "," + Line("b") + ",{\"eventId\": oops}]}";
        var (result, _) = await Import(Encoding.UTF8.GetBytes(body), new ImportOptions { Source = OnlyWx123.Name, Format = ImportFormat.Batch });

        Assert.Equal(ImportStop.FileError, result.Stop);
        Assert.Contains("not valid JSON at line 1", result.StopMessage);
        Assert.Equal(2, result.Accepted);
    }

    [Fact]
    public async Task An_unknown_source_stops_the_import_with_nothing_stored()
    {
        var (result, _) = await Import(Ndjson([Line("a"), Line("b")]), new ImportOptions { Source = "nobody" });

        Assert.Equal(ImportStop.UnknownSource, result.Stop);
        Assert.Equal((0L, 2L, 1L), (result.Accepted, result.NotImported, result.FirstLineNotImported!.Value));
        Assert.Empty(_landing.Written);
    }

    [Fact]
    public async Task Storage_that_stays_unavailable_stops_the_import_after_the_tries_and_names_the_first_line_not_imported()
    {
        var lines = Enumerable.Range(0, 30).Select(i => Line($"s-{i}")).ToList();
        var writes = 0;
        _landing.OnWrite = () =>
        {
            if (Interlocked.Increment(ref writes) > 1) _landing.Throw = new StorageUnavailableException("storage down");
        };

        var (result, _) = await Import(Ndjson(lines), new ImportOptions
        {
            Source = OnlyWx123.Name, MaxEventsPerBatch = 10, Parallelism = 1, MaxAttempts = 3, MaxRetryWait = TimeSpan.Zero,
        });

        Assert.Equal(ImportStop.StorageUnavailable, result.Stop);
        Assert.Contains("3 tries", result.StopMessage);
        Assert.Equal(10, result.Accepted);
        Assert.Equal(11, result.FirstLineNotImported);
        Assert.Equal((30L, 20L), (result.EventsRead, result.NotImported)); // the third batch was read, and not sent once the import stopped
        Assert.Equal(1 + 3, writes); // the second batch was tried 3 times; the third never sent
    }

    [Fact]
    public async Task Progress_is_reported_in_file_order_and_ends_with_the_totals()
    {
        var (result, seen) = await Import(Ndjson(Enumerable.Range(0, 95).Select(i => i % 10 == 0 ? "x" : Line($"p-{i}"))),
            new ImportOptions { Source = OnlyWx123.Name, MaxEventsPerBatch = 10, Parallelism = 4 });

        Assert.Equal(seen.Rejections.Select(r => r.Line).Order(), seen.Rejections.Select(r => r.Line));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 10L * i + 1), seen.Rejections.Select(r => r.Line));
        var last = seen.Progress[^1];
        Assert.Equal((95L, 85L, 10L, result.Batches), (last.EventsRead, last.Accepted, last.Rejected, last.Batches));
        Assert.True(seen.Progress.Zip(seen.Progress.Skip(1)).All(p => p.Second.Accepted >= p.First.Accepted));
    }
}
