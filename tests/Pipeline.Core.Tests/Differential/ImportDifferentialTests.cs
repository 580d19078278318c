using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Events;
using Pipeline.Core.Import;
using Pipeline.Core.Ingest;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;
using Pipeline.Core.Tests.Ingest;
using Xunit.Abstractions;

namespace Pipeline.Core.Tests.Differential;

/// <summary>
/// Generated datasets loaded the way an operator loads history: written as an NDJSON file of wire-format events
/// (docs/ingest-contract.md; some gzipped), imported by the real <see cref="BulkImporter"/> through <see cref="IngestHandler"/>
/// (validation, pseudonymisation, landing, claim check), processed by <see cref="Processing.ProcessHandler"/>, then
/// rolled up by the scheduled run over in-memory ports. Every event must be accepted and stored as generated (its
/// user pseudonymised), and every day's rows must equal <see cref="ReferenceRollup"/> of the generated events.
/// </summary>
/// <remarks>
/// The seeds are a few of <see cref="DifferentialTests"/>'s, chosen for what they hold: 3 (42 days, 9 mini-programs,
/// two month-ends: the first with an empty previous month, the second with monthly retention rows), 20 (64 days, one
/// mini-program with 125 custom names on one day), 97 (more than 1000 custom names on one day), 11 (a long span of 113
/// days). <see cref="ImportSeedFeatureTests"/> checks that the generated datasets still hold all of this. Users are pseudonymised by ingest, which renames
/// them one to one: no metric depends on a user's name, so the reference of the generated events is the expected
/// result. The rollup is given the dataset's ingest receipts (the import's own receipts fall on the day it runs,
/// after the dataset).
/// To replay one: <c>DIFF_SEED=20 dotnet test tests/Pipeline.Core.Tests --filter FullyQualifiedName=Pipeline.Core.Tests.Differential.ImportDifferentialTests.Replay</c>.
/// </remarks>
public sealed class ImportDifferentialTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Seeds => new[] { 3, 20, 97, 11 }.Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Seeds))]
    public Task Imported_dataset_rolls_up_equal_to_the_reference(int seed) => Run(seed);

    /// <summary>Replays the seeds in DIFF_SEED; without it, seed 3.</summary>
    [Fact]
    public async Task Replay()
    {
        var text = Environment.GetEnvironmentVariable("DIFF_SEED");
        if (string.IsNullOrWhiteSpace(text)) text = "3";
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var seed = int.Parse(part, System.Globalization.CultureInfo.InvariantCulture);
            output.WriteLine($"seed {seed}: {DatasetGenerator.Generate(seed).Shape}");
            await Run(seed);
        }
    }

    private static async Task Run(int seed)
    {
        var ds = DatasetGenerator.Generate(seed);
        var rng = new Random(seed * 31 + 11);
        var engine = new RollupEngine(SceneTable.Default, ds.CommissionRate);
        var pipeline = new InMemoryPipeline(engine, rng.Next(1, 9), ds.Receipts);

        // The import runs the morning after the dataset's last day, accepting history back to its first event.
        var importTime = new FakeTimeProvider(DatasetGenerator.Calendar.StartOf(ds.LastDay.AddDays(1)).AddHours(9));
        var queue = new FakeQueue();
        var keys = new FakeKeyStore { Sources = { [IngestTestData.AllPrograms.Name] = IngestTestData.AllPrograms } };
        var handler = new IngestHandler(new IngestKeyCache(keys, importTime), pipeline, queue, new FakeRejectedStore(), new FakeReceipts(),
            new PipelineOptions { PseudonymisationKey = IngestTestData.PseudonymisationKey }, importTime);
        var file = Ndjson(ds.Events);
        var gzip = seed % 2 == 1;
        var options = new ImportOptions
        {
            Source = IngestTestData.AllPrograms.Name,
            TimeRules = EventTimeRules.Import(DateTimeOffset.FromUnixTimeMilliseconds(ds.Events.Min(e => e.TimeMs))),
            MaxEventsPerBatch = rng.Next(50, 1001),
        };
        var result = await new BulkImporter(handler).RunAsync(new MemoryStream(gzip ? Import.ImportTestData.Gzip(file) : file), options, null, CancellationToken.None);

        Assert.Equal(ImportStop.None, result.Stop);
        Assert.Equal(gzip, result.Gzip);
        Assert.Equal((ds.Events.Count, ds.Events.Count, 0L, 0L), (result.EventsRead, result.Accepted, result.Rejected, result.DuplicatesInFile));

        foreach (var message in queue.Messages)
            await pipeline.Processor.HandleAsync(message, CancellationToken.None);
        AssertStoredAsGenerated(ds, pipeline);

        pipeline.MorningAfter(ds.LastDay);
        var report = await pipeline.Runner.RunDueAsync(CancellationToken.None);
        Assert.Equal(ds.FirstDay, report.DaysRolled[0]);
        Assert.Equal(ds.LastDay, report.DaysRolled[^1]);

        var reference = new ReferenceRollup(ds.Events, ds.Receipts, SceneTable.Default, ds.CommissionRate);
        var failures = RowDiff.CompareDays(ds, ds.FirstDay, ds.LastDay, pipeline.Rows, reference.RowsOf, "bulk import", "reference", "imported", nameof(ImportDifferentialTests));
        if (failures.Count > 0)
            Assert.Fail($"{failures.Count} day(s) differ; first:\n{failures[0]}" + (failures.Count > 1 ? $"\nsecond:\n{failures[1]}" : ""));
    }

    /// <summary>Every generated event reached the event store once, with its fields as generated and its user renamed one to one.</summary>
    private static void AssertStoredAsGenerated(GeneratedDataset ds, InMemoryPipeline pipeline)
    {
        var stored = new List<PipelineEvent>();
        for (var day = ds.FirstDay; day <= ds.LastDay; day = day.AddDays(1))
            for (var shard = 0; shard < pipeline.Shards; shard++)
                stored.AddRange(pipeline.ReadAsync(day, shard, CancellationToken.None).Result);
        Assert.Equal(ds.Events.Count, stored.Count);
        var byId = stored.ToDictionary(e => e.EventId, StringComparer.Ordinal);
        var pseudonyms = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in ds.Events)
        {
            var s = byId[e.EventId];
            Assert.Equal(
                (e.Type, e.CustomName, e.TimeMs, e.MiniProgramId, e.SessionId, e.Platform, e.Scene, e.LoadMs, e.ReferrerMiniProgramId, e.DurationMs, e.Page, e.ShareTarget),
                (s.Type, s.CustomName, s.TimeMs, s.MiniProgramId, s.SessionId, s.Platform, s.Scene, s.LoadMs, s.ReferrerMiniProgramId, s.DurationMs, s.Page, s.ShareTarget));
            Assert.Equal(
                (e.OrderId, e.Amount, e.Currency, e.MerchantId, e.AdUnitId, e.Revenue, e.ErrorKind, e.Message, e.Reason, e.Scope, e.DeveloperId, e.Version, e.Category),
                (s.OrderId, s.Amount, s.Currency, s.MerchantId, s.AdUnitId, s.Revenue, s.ErrorKind, s.Message, s.Reason, s.Scope, s.DeveloperId, s.Version, s.Category));
            if (e.UserKey is null)
            {
                Assert.Null(s.UserKey);
                continue;
            }
            Assert.NotEqual(e.UserKey, s.UserKey); // pseudonymised
            Assert.Equal(pseudonyms.TryAdd(e.UserKey, s.UserKey!) ? s.UserKey : pseudonyms[e.UserKey], s.UserKey);
        }
        Assert.Equal(pseudonyms.Count, pseudonyms.Values.Distinct(StringComparer.Ordinal).Count());
    }

    /// <summary>The events as an NDJSON file of the wire format: timestamps as Unix ms, each type's props, extra props passed through.</summary>
    internal static byte[] Ndjson(IEnumerable<PipelineEvent> events)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer);
        foreach (var e in events)
        {
            writer.Reset(buffer);
            Write(writer, e);
            writer.Flush();
            buffer.Write("\n"u8);
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void Write(Utf8JsonWriter w, PipelineEvent e)
    {
        w.WriteStartObject();
        w.WriteString("eventId", e.EventId);
        w.WriteString("type", WireNames.TypeName(e.Type, e.CustomName));
        w.WriteNumber("timestamp", e.TimeMs);
        if (e.UserKey is not null) w.WriteString("userId", e.UserKey);
        w.WriteString("miniProgramId", e.MiniProgramId);
        if (e.SessionId is not null) w.WriteString("sessionId", e.SessionId);
        if (e.Platform != Platform.Unknown) w.WriteString("platform", WireNames.PlatformName(e.Platform));
        w.WriteStartObject("props");
        void Text(string name, string? value)
        {
            if (value is not null) w.WriteString(name, value);
        }
        void Number(string name, long? value)
        {
            if (value is { } v) w.WriteNumber(name, v);
        }
        switch (e.Type)
        {
            case EventType.SessionStart:
                Number("scene", e.Scene);
                Number("loadMs", e.LoadMs);
                Text("referrerMiniProgramId", e.ReferrerMiniProgramId);
                break;
            case EventType.SessionEnd:
                Number("durationMs", e.DurationMs);
                break;
            case EventType.PageView:
                Text("page", e.Page);
                Number("durationMs", e.DurationMs);
                break;
            case EventType.Share:
                Text("target", EventProps.Target.Rule.NameOf((long)e.ShareTarget));
                Text("page", e.Page);
                break;
            case EventType.OrderPaid or EventType.OrderRefunded:
                Text("orderId", e.OrderId);
                Number("amount", e.Amount);
                Text("currency", e.Currency);
                Text("merchantId", e.MerchantId);
                break;
            case EventType.AdImpression:
                Text("adUnitId", e.AdUnitId);
                Number("revenue", e.Revenue);
                Text("currency", e.Currency);
                break;
            case EventType.AdClick:
                Text("adUnitId", e.AdUnitId);
                break;
            case EventType.Error:
                Text("kind", EventProps.Kind.Rule.NameOf((long)e.ErrorKind));
                Text("message", e.Message);
                break;
            case EventType.Complaint:
                Text("reason", e.Reason);
                break;
            case EventType.PermissionDenied:
                Text("scope", e.Scope);
                break;
            case EventType.MiniProgramPublished:
                Text("developerId", e.DeveloperId);
                Text("version", e.Version);
                Text("category", e.Category);
                break;
        }
        if (e.ExtraProps is not null)
        {
            using var extra = JsonDocument.Parse(e.ExtraProps);
            foreach (var property in extra.RootElement.EnumerateObject()) property.WriteTo(w);
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
