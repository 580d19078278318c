using System.Globalization;
using System.Text.Json.Nodes;
using Pipeline.Core.Time;

namespace Pipeline.Local.Simulation;

/// <summary>
/// Turns the valid traffic into send stages and injects the faults, each with its expected effect:
/// <list type="bullet">
/// <item><b>Stages.</b> One stage per reporting day (its events in time order, cut into batches of about
/// <see cref="SimulationOptions.BatchSize"/>), then a tail stage. Stages are sent one after the other.</item>
/// <item><b>Exact duplicates</b> (<see cref="SimulationOptions.DuplicateBatchRate"/>): a batch re-sent byte
/// for byte in the next stage. Accepted again at ingest; counted once.</item>
/// <item><b>Client retries</b> (<see cref="SimulationOptions.RetryRate"/>): an event re-sent in a batch of the
/// next stage with the same eventId, its timestamp shifted by 1 to 20 ms, under a new <c>sentAt</c>. The
/// event a few ms after each local midnight is always retried 10 to 20 ms earlier, in a batch of its own
/// whose <c>sentAt</c> is 250 ms fast, so the retry's corrected time falls on the day before: dedup must
/// work across days. Counted once, on the original's day.</item>
/// <item><b>Late events</b> (<see cref="SimulationOptions.LateRate"/>): held back from their day's stage and
/// sent two or three stages later (after at least one later day), within the 30-day window. Counted on their own day.</item>
/// <item><b>Invalid events</b> (<see cref="SimulationOptions.InvalidEventRate"/>): one defect each, every kind at
/// least once, mixed into valid batches. Each rejected with its code; the batch still gets 202.</item>
/// <item><b>Invalid requests</b>: malformed JSON (plain and gzip), not JSON, no <c>events</c>, empty <c>events</c>,
/// <c>events</c> not an array, in a stage of their own after the first day. Each refused with 400.</item>
/// </list>
/// </summary>
internal sealed class SendPlanBuilder
{
    private readonly SimulationOptions _options;
    private readonly ReportingCalendar _calendar;
    private readonly EcosystemModel _model;
    private readonly IReadOnlyList<DateOnly> _days;
    private readonly DateTimeOffset _start;
    private readonly DateTimeOffset _end;
    private readonly SimRandom _random;
    private readonly List<InvalidEventKind> _invalidKinds;
    private readonly HashSet<string> _lateIds = new(StringComparer.Ordinal);
    private int _requestId;
    private int _invalidSequence;

    public SendPlanBuilder(SimulationOptions options, ReportingCalendar calendar, EcosystemModel model, IReadOnlyList<DateOnly> days, DateTimeOffset start, DateTimeOffset end)
    {
        _options = options;
        _calendar = calendar;
        _model = model;
        _days = days;
        _start = start;
        _end = end;
        _random = new SimRandom(options.Seed, stream: 3);
        _invalidKinds = Enum.GetValues<InvalidEventKind>().Where(k => k != InvalidEventKind.ForbiddenMiniProgram || options.RestrictsMiniPrograms).ToList();
    }

    public SimulationPlan Build(IReadOnlyList<SimulatedEvent> traffic)
    {
        var n = _days.Count;
        var byDay = new List<SimulatedEvent>[n];
        for (var i = 0; i < n; i++) byDay[i] = [];
        var dayIndex = _days.Select((d, i) => (d, i)).ToDictionary(p => p.d, p => p.i);
        foreach (var e in traffic) byDay[dayIndex[_calendar.DayOf(e.Time)]].Add(e);

        // Late events: held back from day i, released in stage i + 2 or i + 3 (the tail is stage n).
        var releases = new List<SimulatedEvent>[n + 1];
        for (var i = 0; i <= n; i++) releases[i] = [];
        for (var i = 0; i + 1 < n; i++)
        {
            var kept = new List<SimulatedEvent>(byDay[i].Count);
            foreach (var e in byDay[i])
            {
                var late = !e.NearMidnight && (_random.Chance(_options.LateRate) || (_options.LateRate > 0 && _lateIds.Count == 0 && i == 0 && e.Type == "page_view"));
                if (late)
                {
                    releases[Math.Min(i + 2 + _random.Next(2), n)].Add(e);
                    _lateIds.Add(e.EventId);
                }
                else kept.Add(e);
            }
            byDay[i] = kept;
        }

        var stages = new List<SendStage>();
        var pendingRetries = new List<SimulatedEvent>();
        var pendingMidnightRetries = new List<SimulatedEvent>();
        var pendingDuplicates = new List<PlannedRequest>();
        for (var s = 0; s <= n; s++)
        {
            var items = s < n ? new List<SimulatedEvent>(byDay[s]) : [];
            foreach (var extra in releases[s].Concat(pendingRetries)) items.Insert(_random.Next(items.Count + 1), extra);
            pendingRetries = [];
            var batches = Chunk(items);
            InjectInvalid(batches, items.Count, first: s == 0);

            var requests = batches.Select(b => new PlannedRequest(++_requestId, PlannedRequestKind.Batch, _random.Chance(_options.GzipRate), b, null, null,
                $"batch of {b.Count} events")).ToList();
            if (pendingMidnightRetries.Count > 0)
            {
                // Retries of the events just after a midnight, 10 to 20 ms earlier, from a client whose clock runs
                // MidnightRetrySkew fast: the correction moves them back by that much less the latency, so they land on the
                // day before even on a slow network. Only copies travel in this batch, so no count depends on it.
                requests.Add(new PlannedRequest(++_requestId, PlannedRequestKind.Batch, _random.Chance(_options.GzipRate), pendingMidnightRetries, null, null,
                    $"client retry of {pendingMidnightRetries.Count} events across midnight (sentAt {MidnightRetrySkew.TotalMilliseconds} ms fast)", MidnightRetrySkew));
                pendingMidnightRetries = [];
            }
            var duplicates = pendingDuplicates;
            pendingDuplicates = [];
            if (requests.Count == 0 && duplicates.Count == 0) continue;
            var sendAt = s < n ? Min(_calendar.StartOf(_days[s].AddDays(1)) + SendDelayAfterDay, _end) : _end;
            stages.Add(new SendStage(s < n ? $"day {_days[s]:yyyy-MM-dd}" : "tail (late events, last retries and duplicates)", [.. requests, .. duplicates]) { SendAt = sendAt });
            if (stages.Count == 1 && _options.SendInvalidRequests) stages.Add(InvalidRequests() with { SendAt = sendAt });
            if (s == n) break;

            // Faults that must arrive after this stage has been answered: they go in the next one.
            foreach (var request in requests)
            {
                if (_random.Chance(_options.DuplicateBatchRate) || (_options.DuplicateBatchRate > 0 && s == 0 && request == requests[^1] && pendingDuplicates.Count == 0))
                    pendingDuplicates.Add(new PlannedRequest(++_requestId, PlannedRequestKind.ExactDuplicate, request.Gzip, request.Events, request, null,
                        $"exact duplicate of #{request.Id}"));
                foreach (var e in request.Events)
                {
                    if (!e.IsValid || e.RetryOf is not null) continue;
                    if (e.NearMidnight)
                        pendingMidnightRetries.Add(e.RetryShiftedBy(-TimeSpan.FromMilliseconds(_random.Next(10, 21))));
                    else if (_random.Chance(_options.RetryRate))
                        pendingRetries.Add(e.RetryShiftedBy(TimeSpan.FromMilliseconds(_random.Next(1, 21) * (_random.Chance(0.5) ? 1 : -1))));
                }
            }
            if (s == 0 && _options.RetryRate > 0 && pendingRetries.Count == 0 && requests.Count > 0)
            {
                var e = requests[0].Events.First(x => x.IsValid);
                pendingRetries.Add(e.RetryShiftedBy(TimeSpan.FromMilliseconds(3)));
            }
        }

        var ledger = SimulationLedger.Build(stages, _calendar, _lateIds);
        return new SimulationPlan(_model, stages, ledger, _start, _end);
    }

    /// <summary>Cuts events into batches of about <see cref="SimulationOptions.BatchSize"/>, leaving room for the invalid events.</summary>
    private List<List<SimulatedEvent>> Chunk(List<SimulatedEvent> items)
    {
        var batches = new List<List<SimulatedEvent>>();
        var at = 0;
        while (at < items.Count)
        {
            var size = Math.Clamp((int)Math.Round(_options.BatchSize * (0.5 + _random.NextDouble())), 1, MaxValidPerBatch);
            size = Math.Min(size, items.Count - at);
            batches.Add(items.GetRange(at, size));
            at += size;
        }
        return batches;
    }

    /// <summary>How long after its reporting day ends a day's traffic is sent when the history is replayed.</summary>
    private static readonly TimeSpan SendDelayAfterDay = TimeSpan.FromMinutes(10);

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>How fast the clock of the client that retries across midnight runs.</summary>
    internal static readonly TimeSpan MidnightRetrySkew = TimeSpan.FromMilliseconds(250);

    /// <summary>Valid events per batch at most, so that invalid ones still fit under the contract's 1000.</summary>
    private const int MaxValidPerBatch = 990;

    private void InjectInvalid(List<List<SimulatedEvent>> batches, int validCount, bool first)
    {
        if (batches.Count == 0 || _options.InvalidEventRate <= 0) return;
        var count = (int)Math.Round(validCount * _options.InvalidEventRate);
        if (first) count = Math.Max(count, _invalidKinds.Count); // every kind at least once per run
        for (var k = 0; k < count; k++)
        {
            var kind = _invalidSequence < _invalidKinds.Count ? _invalidKinds[_invalidSequence] : _random.Pick(_invalidKinds);
            var batch = batches[_random.Next(batches.Count)];
            if (batch.Count >= 1000) continue;
            var template = batch[_random.Next(batch.Count)];
            for (var tries = 0; !template.IsValid && tries < 20; tries++) template = batch[_random.Next(batch.Count)];
            if (!template.IsValid) continue; // a defect is only ever added to a valid event, so each invalid one has exactly one
            batch.Insert(_random.Next(batch.Count + 1), Invalid(kind, template));
        }
    }

    /// <summary>An event with exactly one defect, built on a real user, program and time.</summary>
    private SimulatedEvent Invalid(InvalidEventKind kind, SimulatedEvent template)
    {
        var n = _invalidSequence++;
        var id = string.Create(CultureInfo.InvariantCulture, $"x-{_options.Seed}-{n}");
        var session = "s-x" + _random.Hex(10);
        var user = template.UserId ?? _random.Pick(_model.Users).UserId;
        var program = template.MiniProgramId;

        SimulatedEvent Make(string type, JsonObject props, string code, string? eventId = null, string? userId = "", string? sessionId = "",
            TimeSpan? fromSentAt = null, string? miniProgramId = null) => new()
        {
            EventId = eventId ?? id,
            Type = type,
            Time = template.Time,
            Style = template.Style,
            UserId = userId == "" ? user : userId,
            MiniProgramId = miniProgramId ?? program,
            SessionId = sessionId == "" ? session : sessionId,
            Props = props,
            Invalid = kind,
            ExpectedRejection = code,
            TimestampFromSentAt = fromSentAt,
        };

        switch (kind)
        {
            case InvalidEventKind.UnknownType:
                return Make(_random.Pick(["purchase", "Session_Start", "pageview", "custom.", "custom.Add-To-Cart"]), new JsonObject { ["scene"] = 1001 }, "unknown_type");
            case InvalidEventKind.MissingRequiredProp:
                return _random.Next(8) switch
                {
                    0 => Make("session_start", new JsonObject { ["loadMs"] = 640 }, "missing_field"),
                    1 => Make("order_paid", new JsonObject { ["orderId"] = "ord-x" + n, ["amount"] = 1200, ["merchantId"] = "m-x" }, "missing_field"),
                    2 => Make("share", new JsonObject { ["page"] = "/pages/index/index" }, "missing_field"),
                    3 => Make("page_view", new JsonObject { ["durationMs"] = 1000 }, "missing_field"),
                    4 => Make("error", new JsonObject { ["message"] = "kind forgotten" }, "missing_field"),
                    5 => Make("ad_click", new JsonObject(), "missing_field"),
                    6 => Make("session_end", new JsonObject(), "missing_field"),
                    _ => Make("mini_program_published", new JsonObject { ["developerId"] = "dev-x" }, "missing_field", userId: null, sessionId: null),
                };
            case InvalidEventKind.WrongPropType:
                return _random.Next(6) switch
                {
                    0 => Make("session_start", new JsonObject { ["scene"] = "1011" }, "invalid_field"),
                    1 => Make("session_start", new JsonObject { ["scene"] = 1011, ["loadMs"] = "fast" }, "invalid_field"),
                    2 => Make("order_paid", new JsonObject { ["orderId"] = "ord-x" + n, ["amount"] = "4500", ["currency"] = "CNY", ["merchantId"] = "m-x" }, "invalid_field"),
                    3 => Make("session_end", new JsonObject { ["durationMs"] = "61s" }, "invalid_field"),
                    4 => Make("share", new JsonObject { ["target"] = 2 }, "invalid_field"),
                    _ => Make("page_view", new JsonObject { ["page"] = 404 }, "invalid_field"),
                };
            case InvalidEventKind.BadEventIdCharset:
                var bad = _random.Next(4) switch { 0 => $"evt {n}", 1 => $"e#{n}", 2 => $"事件-{n}", _ => $"e/{n}?" };
                return Make(template.Type, template.Props, "invalid_field", eventId: bad, userId: template.UserId, sessionId: template.SessionId);
            case InvalidEventKind.TimestampInFuture:
                return Make(template.Type, template.Props, "timestamp_out_of_range", userId: template.UserId, sessionId: template.SessionId,
                    fromSentAt: TimeSpan.FromMinutes(_random.Next(15, 180)));
            case InvalidEventKind.TimestampTooOld:
                return Make(template.Type, template.Props, "timestamp_out_of_range", userId: template.UserId, sessionId: template.SessionId,
                    fromSentAt: -TimeSpan.FromDays(_random.Next(31, 90)));
            default:
                var allowed = new HashSet<string>(_options.AllowedMiniProgramIds ?? [], StringComparer.Ordinal);
                string forbidden;
                do forbidden = "wx" + _random.Hex(16); while (allowed.Contains(forbidden));
                return Make(template.Type, template.Props, "forbidden_mini_program", userId: template.UserId, sessionId: template.SessionId, miniProgramId: forbidden);
        }
    }

    private SendStage InvalidRequests()
    {
        const string truncated = """{"sentAt":"{sentAt}","events":[{"eventId":"bad-json-1","type":"session_start","timestamp":""";
        var requests = new List<PlannedRequest>
        {
            Raw(truncated, gzip: false, "malformed JSON (truncated)"),
            Raw(truncated, gzip: true, "malformed JSON (truncated), gzip"),
            Raw("this is not JSON", gzip: false, "not JSON"),
            Raw("""{"sentAt":"{sentAt}"}""", gzip: false, "no events array"),
            Raw("""{"sentAt":"{sentAt}","events":[]}""", gzip: true, "0 events"),
            Raw("""{"sentAt":"{sentAt}","events":{"eventId":"e-1"}}""", gzip: false, "events not an array"),
        };
        return new SendStage("invalid requests", requests);
    }

    private PlannedRequest Raw(string json, bool gzip, string description) =>
        new(++_requestId, PlannedRequestKind.InvalidRequest, gzip, [], null, json, description);
}
