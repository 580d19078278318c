using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.Core.Scenes;
using Pipeline.Core.Time;
using Pipeline.Local.Simulation;

namespace Pipeline.Integration.Tests.Simulation;

/// <summary>The generator alone: determinism, coverage of the contract and the metric catalog, the injected faults and the ledger.</summary>
public sealed class TrafficGeneratorTests
{
    /// <summary>13:30 in Asia/Shanghai: the period starts and ends mid-afternoon.</summary>
    internal static readonly DateTimeOffset End = new(2026, 11, 24, 5, 30, 0, TimeSpan.Zero);

    private static readonly ReportingCalendar Calendar = new("Asia/Shanghai");

    private static readonly Lazy<SimulationPlan> DefaultPlan = new(() => TrafficGenerator.Generate(new SimulationOptions { EndTime = End }));

    private static readonly string[] BuiltInTypes =
    [
        "session_start", "session_end", "page_view", "share", "order_paid", "order_refunded", "ad_impression", "ad_click",
        "error", "complaint", "permission_denied", "mini_program_published",
    ];

    private static List<SimulatedEvent> ValidFirstCopies(SimulationPlan plan)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return plan.Requests.SelectMany(r => r.Events).Where(e => e.IsValid && seen.Add(e.EventId)).ToList();
    }

    [Fact]
    public void The_same_seed_sends_the_same_bytes_and_another_seed_does_not()
    {
        var options = () => new SimulationOptions { Users = 120, Days = 3, EndTime = End };
        var sentAt = End + TimeSpan.FromSeconds(5);
        string Fingerprint(SimulationPlan plan)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var request in plan.Requests)
            {
                hash.AppendData(BitConverter.GetBytes(request.Gzip));
                hash.AppendData(request.RenderJson(sentAt));
            }
            return Convert.ToHexString(hash.GetHashAndReset());
        }

        var a = TrafficGenerator.Generate(options());
        var b = TrafficGenerator.Generate(options());
        var other = options();
        other.Seed = 43;
        var c = TrafficGenerator.Generate(other);

        Assert.Equal(a.Requests.Count(), b.Requests.Count());
        Assert.Equal(Fingerprint(a), Fingerprint(b));
        Assert.NotEqual(Fingerprint(a), Fingerprint(c));
        Assert.Equal(a.Ledger.UniqueValidEventIds.Order(StringComparer.Ordinal), b.Ledger.UniqueValidEventIds.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_default_run_is_a_few_tens_of_thousands_of_events_with_every_type()
    {
        var plan = DefaultPlan.Value;
        Assert.InRange(plan.Ledger.EventsSent, 15_000, 100_000);
        Assert.Equal(500, plan.Ecosystem.Users.Count);
        Assert.Equal(12, plan.Ecosystem.MiniPrograms.Count);
        foreach (var type in BuiltInTypes)
            Assert.True(plan.Ledger.UniqueValidByType.GetValueOrDefault(type) > 0, $"no {type}");
        Assert.Contains(plan.Ledger.UniqueValidByType.Keys, t => t.StartsWith("custom.", StringComparison.Ordinal));
    }

    [Fact]
    public void A_default_run_exercises_every_channel_platform_currency_and_kind()
    {
        var plan = DefaultPlan.Value;
        var events = ValidFirstCopies(plan);
        var starts = events.Where(e => e.Type == "session_start").ToList();
        var channels = starts.Select(e => SceneTable.Default.ChannelOf(e.Props["scene"]!.GetValue<int>())).ToHashSet();
        foreach (var channel in SceneTable.Default.ChannelNames)
            Assert.Contains(channel, channels);
        foreach (var channel in new[] { "qr", "share", "explore", "search", "other" })
            Assert.Contains(channel, channels);
        Assert.True(starts.Count(e => e.Props.ContainsKey("loadMs")) > starts.Count * 0.8, "loadMs mostly present");
        Assert.Contains(starts, e => !e.Props.ContainsKey("loadMs"));
        Assert.All(starts, e => Assert.NotNull(e.Platform));
        Assert.Superset(new HashSet<string> { "ios", "android", "harmony", "windows", "mac" }, starts.Select(e => e.Platform!).ToHashSet());

        // Sessions whose session_start never arrived (channel unknown).
        var started = starts.Select(e => (e.UserId, e.MiniProgramId, e.SessionId)).ToHashSet();
        Assert.Contains(events, e => e.Type == "page_view" && !started.Contains((e.UserId, e.MiniProgramId, e.SessionId)));

        string Prop(SimulatedEvent e, string name) => e.Props[name]!.ToString();
        Assert.Equal(["chat", "group", "moments"], events.Where(e => e.Type == "share").Select(e => Prop(e, "target")).Distinct().Order());
        Assert.Equal(["crash", "js_error", "network", "other"], events.Where(e => e.Type == "error").Select(e => Prop(e, "kind")).Distinct().Order());
        Assert.Equal(["CNY", "HKD", "USD"], events.Where(e => e.Type == "order_paid").Select(e => Prop(e, "currency")).Distinct().Order());
        Assert.Contains(events, e => e.Type == "order_paid" && e.SessionId is null);
        Assert.Contains(events, e => e.Type == "ad_impression" && e.Props.ContainsKey("revenue"));
        Assert.Contains(events, e => e.Type == "ad_impression" && !e.Props.ContainsKey("revenue"));
        Assert.All(events.Where(e => e.Type == "mini_program_published"), e => Assert.Null(e.UserId));
        Assert.Equal(Enum.GetValues<TimestampStyle>(), events.Select(e => e.Style).Distinct().Order());

        // Engaged users: some sessions last over a minute; some are bounces of under 3 s.
        var durations = events.Where(e => e.Type == "session_end").Select(e => e.Props["durationMs"]!.GetValue<long>()).ToList();
        Assert.Contains(durations, d => d >= 60_000);
        Assert.Contains(durations, d => d < 3_000);
        Assert.Contains(durations, d => d > 100_000);

        // Every program is published on the first day; at least one later release, one by a new owner.
        var published = events.Where(e => e.Type == "mini_program_published").ToList();
        var firstDay = Calendar.DayOf(plan.Start);
        Assert.All(plan.Ecosystem.MiniPrograms, p => Assert.Contains(published, e => e.MiniProgramId == p.MiniProgramId && Calendar.DayOf(e.Time) == firstDay));
        Assert.Contains(published, e => Calendar.DayOf(e.Time) > firstDay);
        Assert.True(published.GroupBy(e => e.MiniProgramId).Any(g => g.Select(e => Prop(e, "developerId")).Distinct().Count() > 1), "an ownership change");

        // Popularity is skewed: the busiest program has several times the sessions of the median one.
        var perProgram = starts.GroupBy(e => e.MiniProgramId).Select(g => g.Count()).OrderDescending().ToList();
        Assert.True(perProgram[0] > 3 * perProgram[perProgram.Count / 2]);

        // Sessions that cross a local midnight.
        var sessionDays = events.Where(e => e.SessionId is not null).GroupBy(e => (e.UserId, e.MiniProgramId, e.SessionId))
            .Count(g => g.Select(e => Calendar.DayOf(e.Time)).Distinct().Count() > 1);
        Assert.True(sessionDays >= 3, $"{sessionDays} sessions across midnight");
    }

    [Fact]
    public void The_client_scene_catalog_agrees_with_the_pipeline_table()
    {
        foreach (var (channel, codes) in SceneCatalog.CodesByChannel)
            Assert.All(codes, code => Assert.Equal(channel, SceneTable.Default.ChannelOf(code)));
    }

    [Fact]
    public void New_users_join_over_the_days_and_come_back()
    {
        var plan = DefaultPlan.Value;
        var events = ValidFirstCopies(plan);
        var firstDayOfUser = events.Where(e => e.Type == "session_start").GroupBy(e => e.UserId!).ToDictionary(g => g.Key, g => g.Min(e => Calendar.DayOf(e.Time)));
        var newPerDay = firstDayOfUser.Values.GroupBy(d => d).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(newPerDay.Count(p => p.Value > 0) >= 6, "new users on most days");
        var active = plan.Ledger.ActiveUsersByDay;
        var day = active.Keys.Order().ElementAt(3);
        var returning = events.Where(e => e.Type == "session_start" && Calendar.DayOf(e.Time) == day && firstDayOfUser[e.UserId!] < day).Select(e => e.UserId).Distinct().Count();
        Assert.True(returning > 20, $"{returning} returning users on {day}");
    }

    [Theory]
    [InlineData(false, "2026-11-24T05:30:00Z")]
    [InlineData(true, "2026-11-24T05:30:00Z")]
    [InlineData(false, "2026-03-01T16:00:20Z")] // 00:00:20 local: the first reporting day is a sliver
    [InlineData(true, "2026-07-15T15:58:00Z")]  // 23:58 local
    public void Every_event_is_valid_or_has_exactly_the_expected_defect(bool restricted, string end)
    {
        var options = new SimulationOptions { Users = 150, Days = 4, EndTime = DateTimeOffset.Parse(end), InvalidEventRate = 0.03 };
        if (restricted) options.AllowedMiniProgramIds = ["wx0000000000000001", "wx00000000000000a2", "wxmini-allowed_3"];
        var plan = TrafficGenerator.Generate(options);
        var sentAt = plan.End + TimeSpan.FromSeconds(30);
        var receivedAt = sentAt + TimeSpan.FromMilliseconds(40);

        var kinds = new HashSet<InvalidEventKind>();
        foreach (var request in plan.Requests.Where(r => r.Kind != PlannedRequestKind.InvalidRequest))
        {
            using var body = JsonDocument.Parse(request.RenderJson(sentAt));
            var wireSentAt = body.RootElement.GetProperty("sentAt").GetDateTimeOffset();
            Assert.Equal(sentAt + request.SentAtSkew, wireSentAt);
            var wire = body.RootElement.GetProperty("events").EnumerateArray().ToList();
            Assert.Equal(request.Events.Count, wire.Count);
            for (var i = 0; i < wire.Count; i++)
            {
                var e = request.Events[i];
                var code = ContractChecker.Check(wire[i], wireSentAt, receivedAt, options.AllowedMiniProgramIds);
                Assert.True(code == e.ExpectedRejection, $"{e}: checker says {code ?? "valid"}, expected {e.ExpectedRejection ?? "valid"}: {wire[i].GetRawText()}");
                if (e.Invalid is { } kind) kinds.Add(kind);
            }
        }

        var expectedKinds = Enum.GetValues<InvalidEventKind>().Where(k => restricted || k != InvalidEventKind.ForbiddenMiniProgram);
        Assert.Equal(expectedKinds.Order(), kinds.Order());
        if (restricted)
        {
            Assert.Equal(options.AllowedMiniProgramIds!.Order(StringComparer.Ordinal), plan.Ecosystem.MiniPrograms.Select(p => p.MiniProgramId).Order(StringComparer.Ordinal));
            Assert.All(ValidFirstCopies(plan), e => Assert.Contains(e.MiniProgramId, options.AllowedMiniProgramIds!));
        }
    }

    [Fact]
    public void Valid_events_stay_inside_the_period_and_away_from_midnight()
    {
        var plan = DefaultPlan.Value;
        foreach (var e in ValidFirstCopies(plan))
        {
            Assert.InRange(e.Time, plan.Start, plan.End - TimeSpan.FromMinutes(1));
            var sinceMidnight = e.Time - Calendar.StartOf(Calendar.DayOf(e.Time));
            if (e.NearMidnight) Assert.InRange(sinceMidnight, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5));
            else Assert.InRange(sinceMidnight, TimeSpan.FromSeconds(2), TimeSpan.FromDays(1) - TimeSpan.FromSeconds(2));
        }
    }

    [Fact]
    public void Retries_keep_the_event_id_and_follow_their_original()
    {
        var plan = DefaultPlan.Value;
        var firstStage = new Dictionary<string, int>(StringComparer.Ordinal);
        var retries = 0;
        for (var s = 0; s < plan.Stages.Count; s++)
        {
            foreach (var e in plan.Stages[s].Requests.Where(r => r.Kind == PlannedRequestKind.Batch).SelectMany(r => r.Events))
            {
                if (e.RetryOf is { } original)
                {
                    retries++;
                    Assert.Equal(original.EventId, e.EventId);
                    Assert.Equal(original.Type, e.Type);
                    Assert.Same(original.Props, e.Props);
                    var shift = Math.Abs((e.Time - original.Time).TotalMilliseconds);
                    Assert.InRange(shift, 1, 20);
                    Assert.True(firstStage.TryGetValue(e.EventId, out var stage) && stage < s, $"retry of {e.EventId} before its original");
                }
                else if (e.IsValid) firstStage.TryAdd(e.EventId, s);
            }
        }
        Assert.Equal(plan.Ledger.RetriesSent, retries);
        Assert.InRange(retries, plan.Ledger.ValidEventsSent / 100, plan.Ledger.ValidEventsSent / 20);

        // Each midnight inside the period has an event a few ms after it whose retry lands on the day before.
        Assert.True(plan.Ledger.RetriesAcrossMidnight >= 5, $"{plan.Ledger.RetriesAcrossMidnight} retries across midnight");
        var across = plan.Requests.SelectMany(r => r.Events).Where(e => e.RetryOf is { NearMidnight: true }).ToList();
        Assert.All(across, e => Assert.Equal(Calendar.DayOf(e.RetryOf!.Time).AddDays(-1), Calendar.DayOf(e.Time)));

        // They travel alone, under a sentAt that runs fast, so that even 200 ms of latency leaves their corrected time on the day before.
        var skewed = plan.Requests.Where(r => r.SentAtSkew > TimeSpan.Zero && r.Kind == PlannedRequestKind.Batch).ToList();
        Assert.Equal(across.Count, skewed.Sum(r => r.Events.Count));
        foreach (var request in skewed)
        {
            var sentAt = End + TimeSpan.FromMinutes(1);
            var receivedAt = sentAt + TimeSpan.FromMilliseconds(200);
            using var body = JsonDocument.Parse(request.RenderJson(sentAt));
            var wireSentAt = body.RootElement.GetProperty("sentAt").GetDateTimeOffset();
            Assert.Equal(sentAt + request.SentAtSkew, wireSentAt);
            foreach (var e in request.Events)
            {
                Assert.True(e.RetryOf is { NearMidnight: true }, e.ToString());
                var corrected = receivedAt - (wireSentAt - e.Time);
                Assert.Equal(Calendar.DayOf(e.RetryOf!.Time).AddDays(-1), Calendar.DayOf(corrected));
            }
        }
    }

    [Fact]
    public void Exact_duplicates_replay_a_batch_of_an_earlier_stage()
    {
        var plan = DefaultPlan.Value;
        var stageOf = plan.Stages.SelectMany((s, i) => s.Requests.Select(r => (r, i))).ToDictionary(p => p.r.Id, p => p.i);
        var duplicates = plan.Requests.Where(r => r.Kind == PlannedRequestKind.ExactDuplicate).ToList();
        Assert.NotEmpty(duplicates);
        Assert.Equal(plan.Ledger.DuplicateBatchesSent, duplicates.Count);
        var sentAt = End;
        foreach (var d in duplicates)
        {
            Assert.NotNull(d.DuplicateOf);
            Assert.True(stageOf[d.DuplicateOf!.Id] < stageOf[d.Id]);
            Assert.Equal(d.DuplicateOf.Gzip, d.Gzip);
            Assert.Equal(d.DuplicateOf.RenderJson(sentAt), d.RenderJson(sentAt));
        }
    }

    [Fact]
    public void Late_events_are_sent_after_a_later_day()
    {
        var plan = DefaultPlan.Value;
        Assert.InRange(plan.Ledger.LateEventsSent, 100, 2_000);
        var dayStage = plan.Stages.Select((s, i) => (s, i)).Where(p => p.s.Name.StartsWith("day ", StringComparison.Ordinal))
            .ToDictionary(p => DateOnly.Parse(p.s.Name[4..]), p => p.i);
        for (var s = 0; s < plan.Stages.Count; s++)
        {
            foreach (var e in plan.Stages[s].Requests.Where(r => r.Kind == PlannedRequestKind.Batch).SelectMany(r => r.Events))
            {
                if (e.RetryOf is not null || !plan.Ledger.LateEventIds.Contains(e.EventId)) continue;
                var nextDay = Calendar.DayOf(e.Time).AddDays(1);
                Assert.True(dayStage.TryGetValue(nextDay, out var next) && next < s, $"late {e} sent in stage {s}");
                Assert.True(plan.End - e.Time < TimeSpan.FromDays(29));
            }
        }
    }

    [Fact]
    public void The_ledger_adds_up()
    {
        var plan = DefaultPlan.Value;
        var ledger = plan.Ledger;
        var first = ValidFirstCopies(plan);

        Assert.Equal(first.Count, ledger.UniqueValidEvents);
        Assert.Equal(first.Select(e => e.EventId).ToHashSet(), ledger.UniqueValidEventIds);
        Assert.Equal(ledger.UniqueValidEvents, ledger.UniqueValidByType.Values.Sum());
        Assert.Equal(ledger.UniqueValidEvents, ledger.UniqueValidByDay.Values.Sum());
        foreach (var group in first.GroupBy(e => Calendar.DayOf(e.Time)))
            Assert.Equal(group.Count(), ledger.UniqueValidByDay[group.Key]);
        foreach (var group in first.GroupBy(e => e.Type))
            Assert.Equal(group.Count(), ledger.UniqueValidByType[group.Key]);
        foreach (var group in first.Where(e => e.Type == "session_start").GroupBy(e => Calendar.DayOf(e.Time)))
        {
            Assert.Equal(group.Count(), ledger.SessionsByDay[group.Key]);
            Assert.Equal(group.Select(e => e.UserId).Distinct().Count(), ledger.ActiveUsersByDay[group.Key]);
        }

        var all = plan.Requests.SelectMany(r => r.Events).ToList();
        Assert.Equal(all.Count, ledger.EventsSent);
        Assert.Equal(ledger.EventsSent, ledger.ValidEventsSent + ledger.InvalidEventsSent);
        Assert.Equal(ledger.ValidEventsSent, ledger.UniqueValidEvents + ledger.DuplicateEventsSent + ledger.RetriesSent);
        Assert.Equal(ledger.InvalidEventsSent, ledger.ExpectedRejectionsByCode.Values.Sum());
        Assert.Equal(ledger.InvalidEventsSent, ledger.InvalidEventsByKind.Values.Sum());
        Assert.Equal(plan.Requests.Sum(r => r.ExpectedAccepted), ledger.ValidEventsSent);
        Assert.Equal(plan.Requests.Count(r => r.Kind == PlannedRequestKind.InvalidRequest), ledger.InvalidRequestsSent);
        Assert.InRange(ledger.InvalidEventsSent, ledger.ValidEventsSent / 200, ledger.ValidEventsSent / 50);
        Assert.Equal(8, ledger.UniqueValidByDay.Count); // 7 × 24 h ending mid-afternoon span 8 reporting days
    }

    [Fact]
    public void Batches_stay_within_the_contract_limits_and_gzip_bodies_decompress()
    {
        var plan = DefaultPlan.Value;
        var sentAt = End;
        var batches = plan.Requests.Where(r => r.Kind != PlannedRequestKind.InvalidRequest).ToList();
        foreach (var request in batches)
        {
            Assert.InRange(request.Events.Count, 1, 1000);
            Assert.Equal(202, request.ExpectedStatus);
            var json = request.RenderJson(sentAt);
            Assert.True(json.Length <= 4 * 1024 * 1024);
            var body = request.RenderBody(sentAt);
            if (request.Gzip)
            {
                using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
                using var inflated = new MemoryStream();
                gzip.CopyTo(inflated);
                Assert.Equal(json, inflated.ToArray());
                using var doc = JsonDocument.Parse(inflated.ToArray());
                Assert.All(doc.RootElement.GetProperty("events").EnumerateArray(), e => Assert.True(e.GetRawText().Length <= 32 * 1024));
            }
            else Assert.Equal(json, body);
        }
        var gzipShare = batches.Count(r => r.Gzip) / (double)batches.Count;
        Assert.InRange(gzipShare, 0.35, 0.65);
        Assert.InRange(batches.Average(r => r.Events.Count), 150, 260);
    }

    [Fact]
    public void Invalid_requests_are_not_batches_of_events()
    {
        var plan = DefaultPlan.Value;
        var invalid = plan.Requests.Where(r => r.Kind == PlannedRequestKind.InvalidRequest).ToList();
        Assert.True(invalid.Count >= 4);
        Assert.Contains(invalid, r => r.Gzip);
        foreach (var request in invalid)
        {
            Assert.Equal(400, request.ExpectedStatus);
            Assert.Empty(request.Events);
            var json = request.RenderJson(End);
            if (request.Gzip)
            {
                using var gzip = new GZipStream(new MemoryStream(request.RenderBody(End)), CompressionMode.Decompress);
                using var inflated = new MemoryStream();
                gzip.CopyTo(inflated);
                Assert.Equal(json, inflated.ToArray());
            }
            bool IsValidBatch()
            {
                try
                {
                    using var doc = JsonDocument.Parse(json);
                    return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("events", out var events) &&
                           events.ValueKind == JsonValueKind.Array && events.GetArrayLength() is >= 1 and <= 1000;
                }
                catch (JsonException)
                {
                    return false;
                }
            }
            Assert.False(IsValidBatch(), request.Description);
        }
    }

    [Fact]
    public void Options_out_of_range_are_refused()
    {
        Assert.Throws<ArgumentException>(() => TrafficGenerator.Generate(new SimulationOptions { Days = 30 }));
        Assert.Throws<ArgumentException>(() => TrafficGenerator.Generate(new SimulationOptions { Users = 0 }));
        Assert.Throws<ArgumentException>(() => TrafficGenerator.Generate(new SimulationOptions { BatchSize = 1001 }));
        Assert.Throws<ArgumentException>(() => TrafficGenerator.Generate(new SimulationOptions { RetryRate = 1.5 }));
        Assert.Throws<ArgumentException>(() => TrafficGenerator.Generate(new SimulationOptions { AllowedMiniProgramIds = ["*"] }));
    }

    [Fact]
    public void The_end_time_defaults_to_the_time_providers_now()
    {
        var now = new DateTimeOffset(2026, 5, 4, 3, 2, 1, TimeSpan.Zero);
        var plan = TrafficGenerator.Generate(new SimulationOptions { Users = 10, Days = 1, TimeProvider = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(now) });
        Assert.Equal(now, plan.End);
        Assert.Equal(now - TimeSpan.FromDays(1), plan.Start);
    }
}
