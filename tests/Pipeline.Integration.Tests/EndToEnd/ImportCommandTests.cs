using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Core.Time;
using Pipeline.Integration.Tests.Faults;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Local.Cli;

namespace Pipeline.Integration.Tests.EndToEnd;

/// <summary>
/// The <c>import</c> verb against Azurite (its own instance of the project's fixture, because the
/// runner's queue listeners and the rollup's cursor must see only this class's data): files land
/// through the ingest path, the running local runner processes them, the days they touch (more than
/// 30 days old too) are marked dirty and rolled up.
/// </summary>
public sealed class ImportCommandTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _folder = Directory.CreateTempSubdirectory("pipeline-import-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Event(string id, string type, DateTimeOffset at, string user, string miniProgram, JsonObject props) => new JsonObject
    {
        ["eventId"] = id,
        ["type"] = type,
        ["timestamp"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        ["userId"] = user,
        ["miniProgramId"] = miniProgram,
        ["sessionId"] = "s-" + at.ToString("yyyyMMdd", CultureInfo.InvariantCulture) + "-" + user, // a session a day
        ["platform"] = "android",
        ["props"] = props,
    }.ToJsonString();

    /// <summary>A session and <paramref name="pageViews"/> page views for each of <paramref name="users"/> users on <paramref name="day"/>.</summary>
    private static IEnumerable<string> Day(ReportingCalendar calendar, DateOnly day, int users, int pageViews)
    {
        var start = calendar.StartOf(day).AddHours(9);
        var tag = day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        for (var u = 0; u < users; u++)
        {
            var program = u % 2 == 0 ? "wx_imp_a" : "wx_imp_b";
            yield return Event($"{tag}-u{u}-s", "session_start", start.AddMinutes(u), $"user-{u}", program, new JsonObject { ["scene"] = 1001, ["loadMs"] = 500 });
            for (var k = 0; k < pageViews; k++)
                yield return Event($"{tag}-u{u}-p{k}", "page_view", start.AddMinutes(u).AddSeconds(k + 1), $"user-{u}", program, new JsonObject { ["page"] = "pages/index/index", ["durationMs"] = 1000 });
        }
    }

    [Fact]
    public async Task An_ndjson_file_and_a_gzip_one_are_imported_processed_de_duplicated_and_their_old_days_rolled_up()
    {
        await using var host = await PipelineHost.StartAsync(azurite.ConnectionString);
        var source = AzuriteFixture.Unique("backfill-");
        await host.CreateKeyAsync(source, "wx_imp_a", "wx_imp_b");
        var calendar = host.Get<ReportingCalendar>();
        var today = calendar.DayOf(DateTimeOffset.UtcNow);
        DateOnly d45 = today.AddDays(-45), d40 = today.AddDays(-40), d35 = today.AddDays(-35), d2 = today.AddDays(-2);

        // 1,230 good events on three days (two of them more than 30 days ago), and lines that must be rejected on their own.
        var lines = Day(calendar, d45, 10, 40).Concat(Day(calendar, d40, 10, 40)).Concat(Day(calendar, d2, 10, 40)).ToList();
        var duplicate = lines[5];
        lines.Insert(0, "not json at all");                                                      // line 1
        lines.Insert(100, "[1,2,3]");                                                            // line 101
        lines.Insert(200, "");                                                                   // line 201, blank
        lines.Insert(300, "{\"eventId\":\"long\",\"type\":\"page_view\",\"props\":{\"x\":\"" + new string('x', 70_000) + "\"}}"); // line 301
        lines.Insert(400, Event("no-user", "page_view", calendar.StartOf(d40), "u", "wx_imp_a", new JsonObject { ["page"] = "p" }).Replace("\"userId\":\"u\",", "", StringComparison.Ordinal)); // line 401
        lines.Insert(500, Event("elsewhere", "page_view", calendar.StartOf(d40), "u", "wx_other", new JsonObject { ["page"] = "p" })); // line 501
        lines.Insert(600, duplicate);                                                            // line 601
        lines.Insert(700, Event("too-old", "page_view", calendar.StartOf(today.AddDays(-70)), "u", "wx_imp_a", new JsonObject { ["page"] = "p" })); // line 701
        var plain = Path.Combine(_folder, "history.gz"); // a plain file, whatever its name says
        await File.WriteAllLinesAsync(plain, lines);

        using var output = new StringWriter();
        using var progress = new StringWriter();
        var exit = await ImportCommand.RunAsync(host.Services, new ImportRequest(plain, source, HistoryFrom: today.AddDays(-60)), output, progress, None);

        var summary = output.ToString();
        Assert.True(exit == 0, summary + progress);
        Assert.Contains("(NDJSON)", summary);
        Assert.Matches(@"events read\s+1,237\s", summary);
        Assert.Matches(@"accepted\s+1,231\s", summary);
        Assert.Matches(@"rejected\s+6\s", summary);
        Assert.Matches(@"duplicates in file\s+1\s", summary);
        Assert.Matches(@"batches\s+2\s", summary);
        Assert.Contains($"reporting days      {d45:yyyy-MM-dd} .. {d2:yyyy-MM-dd}", summary);
        Assert.Contains("line 701 eventId too-old: timestamp_out_of_range", summary);

        var rejectsPath = ImportCommand.DefaultRejectsPath(plain);
        Assert.Contains(rejectsPath, summary);
        var rejects = (await File.ReadAllLinesAsync(rejectsPath)).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(
            [(1L, (string?)null, "invalid_json"), (101, null, "invalid_field"), (301, null, "line_too_long"), (401, "no-user", "missing_field"),
             (501, "elsewhere", "forbidden_mini_program"), (701, "too-old", "timestamp_out_of_range")],
            rejects.Select(r => (r["line"]!.GetValue<long>(), r["eventId"]?.GetValue<string>(), r["code"]!.GetValue<string>())));
        Assert.All(rejects, r => Assert.False(string.IsNullOrEmpty(r["message"]!.GetValue<string>())));

        // The gzip variant, through the real verb in its own process: recognised by its bytes, not its name.
        var part2 = Day(calendar, d35, 5, 9).Append("{oops").ToList();
        var gzip = Path.Combine(_folder, "part2.ndjson");
        await using (var file = File.Create(gzip))
        await using (var compressor = new GZipStream(file, CompressionLevel.Optimal))
        await compressor.WriteAsync(Encoding.UTF8.GetBytes(string.Join("\n", part2) + "\n"));
        await using (var verb = RunnerProcess.Start(RunnerProcess.Settings(azurite.ConnectionString),
            "import", gzip, "--source", source, "--history-from", today.AddDays(-60).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))
        {
            Assert.True(await verb.WaitForExitAsync(TimeSpan.FromMinutes(2)) == 0, verb.Output);
            Assert.Contains("(gzip, NDJSON)", verb.Output);
            Assert.Matches(@"accepted\s+50\s", verb.Output);
            Assert.Contains("line 51: invalid_json", verb.Output);
            Assert.Contains("events/s", verb.Output); // progress and summary
        }

        // The running runner processes both: each event stored once, on its day, and every day marked dirty.
        await host.WaitForProcessingAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(410, await PipelineFlowTests.CountStoredAsync(host, d45));
        Assert.Equal(410, await PipelineFlowTests.CountStoredAsync(host, d40));
        Assert.Equal(410, await PipelineFlowTests.CountStoredAsync(host, d2));
        Assert.Equal(50, await PipelineFlowTests.CountStoredAsync(host, d35));
        var stored = new List<Pipeline.Core.Events.PipelineEvent>();
        for (var shard = 0; shard < host.Get<Pipeline.Core.PipelineOptions>().EventStoreShards; shard++)
            stored.AddRange(await host.Get<IEventStore>().ReadAsync(d45, shard, None));
        Assert.Equal(10, stored.Select(e => e.UserKey).Distinct().Count());
        Assert.DoesNotContain(stored, e => e.UserKey!.StartsWith("user-", StringComparison.Ordinal)); // pseudonymised
        var dirty = (await host.Get<IDirtyDayLedger>().ListAsync(None)).Select(d => d.Day).ToList();
        Assert.Superset(new HashSet<DateOnly> { d45, d40, d35, d2 }, dirty.ToHashSet());

        // The sweep verb, in its own process, compacts the imported days (all before today), as an operator runs it after a backfill: each
        // day's batch segments folded into one file per (day, shard) and deleted, nothing lost.
        await using (var sweep = RunnerProcess.Start(RunnerProcess.Settings(azurite.ConnectionString), "sweep"))
        {
            Assert.True(await sweep.WaitForExitAsync(TimeSpan.FromMinutes(2)) == 0, sweep.Output);
            Assert.Matches(@"event store: compacted \d+ day\(s\)", sweep.Output);
            Assert.Contains("landing sweep: swept", sweep.Output);
            Assert.Contains("peak RSS of this process", sweep.Output);
            var events = new Azure.Storage.Blobs.BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(Pipeline.Storage.StorageNames.EventsContainer);
            foreach (var day in new[] { d45, d40, d35, d2 })
            {
                Assert.Empty(await events.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, Pipeline.Storage.Blobs.BlobPaths.BatchPrefix(day), None).ToListAsync());
                Assert.NotEmpty(await events.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, Pipeline.Storage.Blobs.BlobPaths.Day(day) + "/", None).Where(b => b.Name.EndsWith(".evc", StringComparison.Ordinal)).ToListAsync());
            }
            Assert.Equal(410, await PipelineFlowTests.CountStoredAsync(host, d45));
            Assert.Equal(50, await PipelineFlowTests.CountStoredAsync(host, d35));
        }

        // The next rollup rolls from the oldest imported day on, days older than 30 days included.
        var report = await host.Get<RollupRunner>().RunDueAsync(None);
        Assert.True(report.DaysRolled[0] <= d45, report.ToString());
        Assert.Contains(d45, report.DaysRolled);
        Assert.Contains(d35, report.DaysRolled);
        var daily = new StoredMetrics(azurite.ConnectionString);
        Assert.Equal(10, await daily.ValueAsync(d45.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "users.dau|total|"));
        Assert.Equal(10, await daily.ValueAsync(d40.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "users.dau|total|"));
        Assert.Equal(5, await daily.ValueAsync(d35.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "users.dau|total|"));
        Assert.DoesNotContain(await host.Get<IDirtyDayLedger>().ListAsync(None), d => d.Day <= today.AddDays(-1));
    }

    [Fact]
    public async Task Without_history_old_events_are_rejected_and_importing_them_again_as_a_batch_file_stores_each_event_once()
    {
        await using var host = await PipelineHost.StartAsync(azurite.ConnectionString);
        var source = AzuriteFixture.Unique("rerun-");
        await host.CreateKeyAsync(source, "*");
        var calendar = host.Get<ReportingCalendar>();
        var today = calendar.DayOf(DateTimeOffset.UtcNow);
        DateOnly old = today.AddDays(-50), recent = today.AddDays(-3);
        var file = Path.Combine(_folder, "rerun.ndjson");
        await File.WriteAllLinesAsync(file, Day(calendar, old, 3, 2).Concat(Day(calendar, recent, 3, 2)));

        using var first = new StringWriter();
        Assert.Equal(0, await ImportCommand.RunAsync(host.Services, new ImportRequest(file, source), first, TextWriter.Null, None));
        Assert.Matches(@"accepted\s+9\s", first.ToString());
        Assert.Matches(@"rejected\s+9\s+timestamp_out_of_range 9", first.ToString());
        Assert.Contains("--history-from", first.ToString());

        // The same events again, as a JSON batch file (the endpoint's body, pretty-printed), with history.
        var batch = Path.Combine(_folder, "rerun.json");
        var events = new JsonArray((await File.ReadAllLinesAsync(file)).Select(l => JsonNode.Parse(l)).ToArray());
        await File.WriteAllTextAsync(batch, new JsonObject { ["sentAt"] = "2020-01-01T00:00:00Z", ["events"] = events }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        using var second = new StringWriter();
        Assert.Equal(0, await ImportCommand.RunAsync(host.Services, new ImportRequest(batch, source, HistoryFrom: old), second, TextWriter.Null, None));
        Assert.Contains("(JSON batch file)", second.ToString());
        Assert.Matches(@"accepted\s+18\s", second.ToString());

        await host.WaitForProcessingAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(9, await PipelineFlowTests.CountStoredAsync(host, old));
        var copies = await PipelineFlowTests.StoredCopiesAsync(host, recent);
        Assert.True(9 == copies.Distinct().Count(), string.Join(", ", copies)); // imported twice: both copies stored, the rollup counts one
    }

    [Fact]
    public async Task A_missing_file_an_unknown_source_and_unreachable_storage_fail_with_a_clear_message_and_a_non_zero_exit_code()
    {
        var file = Path.Combine(_folder, "one.ndjson");
        await File.WriteAllTextAsync(file, """{"eventId":"a"}""" + "\n");
        var settings = RunnerProcess.Settings(azurite.ConnectionString);

        await using (var missing = RunnerProcess.Start(settings, "import", Path.Combine(_folder, "nope.ndjson"), "--source", "x"))
        {
            Assert.Equal(1, await missing.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("does not exist", missing.Output);
        }

        await using (var unknown = RunnerProcess.Start(settings, "import", file, "--source", AzuriteFixture.Unique("ghost-")))
        {
            Assert.Equal(1, await unknown.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("is not registered", unknown.Output);
            Assert.Contains("keys create", unknown.Output);
        }

        var down = RunnerProcess.Settings(UnreachableStorage.Options().ConnectionString!);
        down["PipelineStorage__maxRetries"] = "0";
        await using (var unreachable = RunnerProcess.Start(down, "import", file, "--source", "x"))
        {
            Assert.Equal(2, await unreachable.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("storage is unreachable", unreachable.Output);
        }
    }
}
