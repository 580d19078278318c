using Pipeline.Core.Ports;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>The time rules of ingest: the contract's window for requests, and a bulk import's acceptance of history.</summary>
public class EventTimeRulesTests
{
    private const long Minute = 60_000, Day = 86_400_000;
    private static readonly long Received = Now.ToUnixTimeMilliseconds();

    private static JsonObject At(DateTimeOffset time, string eventId = "e-1")
    {
        var e = Event(eventId: eventId);
        e["timestamp"] = time.ToUnixTimeMilliseconds();
        return e;
    }

    private static BatchParseResult Parse(string body, EventTimeRules rules) =>
        Parser().Parse(Encoding.UTF8.GetBytes(body), AllPrograms, Now, rules);

    [Theory]
    [InlineData(10 * Minute, true)]
    [InlineData(10 * Minute + 1, false)]
    [InlineData(-30 * Day, true)]
    [InlineData(-30 * Day - 1, false)]
    [InlineData(0, true)]
    public void The_contract_rules_are_the_clock_skew_window(long offset, bool accepted)
    {
        Assert.Equal(accepted, EventTimeRules.Contract.Accepts(Received + offset, Received));
        Assert.Equal(accepted, EventTimeRules.Import(null).Accepts(Received + offset, Received));
    }

    [Theory]
    [InlineData(-30 * Day - 1, true)]
    [InlineData(-400 * Day, true)] // exactly the history's start: inclusive
    [InlineData(-400 * Day - 1, false)]
    [InlineData(10 * Minute, true)]
    [InlineData(10 * Minute + 1, false)] // the future stays closed
    public void History_extends_the_window_back_to_its_start_and_no_further(long offset, bool accepted) =>
        Assert.Equal(accepted, EventTimeRules.Import(Now.AddDays(-400)).Accepts(Received + offset, Received));

    [Fact]
    public void History_never_narrows_the_contracts_window()
    {
        var recent = EventTimeRules.Import(Now.AddDays(-2));
        Assert.True(recent.Accepts(Received - 30 * Day, Received));
        Assert.Equal(Received - 30 * Day, recent.OldestAcceptedMs(Received));
    }

    [Fact]
    public void An_event_older_than_30_days_is_rejected_by_the_contract_and_accepted_as_history()
    {
        var body = Body(At(Now.AddDays(-45)));

        var contract = Assert.Single(Parse(body, EventTimeRules.Contract).Rejections);
        Assert.Equal(RejectionCodes.TimestampOutOfRange, contract.Code);
        Assert.Contains("30 days behind", contract.Message);

        var history = Parse(body, EventTimeRules.Import(Now.AddDays(-60)));
        Assert.Empty(history.Rejections);
        Assert.Equal(Now.AddDays(-45).ToUnixTimeMilliseconds(), Assert.Single(history.Accepted).TimeMs);
    }

    [Fact]
    public void An_event_before_the_history_is_rejected_naming_the_oldest_time_accepted()
    {
        var rejection = Assert.Single(Parse(Body(At(Now.AddDays(-90))), EventTimeRules.Import(Now.AddDays(-60))).Rejections);
        Assert.Equal(RejectionCodes.TimestampOutOfRange, rejection.Code);
        Assert.Contains("before " + Now.AddDays(-60).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"), rejection.Message);
        Assert.Contains("oldest time accepted as history", rejection.Message);
    }

    [Fact]
    public void Every_other_rule_still_applies_to_history()
    {
        var old = Now.AddDays(-100);
        var noUser = At(old, "a");
        noUser.Remove("userId");
        var badProgram = At(old, "b");
        badProgram["miniProgramId"] = "wx999";
        var rules = EventTimeRules.Import(Now.AddDays(-365));

        var result = Parser().Parse(Encoding.UTF8.GetBytes(Body(noUser, badProgram, At(old, "c"))), OnlyWx123, Now, rules);

        Assert.Equal([RejectionCodes.MissingField, RejectionCodes.ForbiddenMiniProgram], result.Rejections.Select(r => r.Code));
        var accepted = Assert.Single(result.Accepted);
        Assert.Equal("c", accepted.EventId);
        Assert.NotEqual(RawUserId, accepted.UserKey); // pseudonymised
        Assert.Equal(new UserPseudonymizer(PseudonymisationKey).Pseudonymize(RawUserId), accepted.UserKey);
    }

    [Fact]
    public void The_import_takes_timestamps_as_sent_whatever_the_batchs_sentAt()
    {
        // A file written a week ago: correcting by its sentAt would move every event a week later.
        var sentAt = Now.AddDays(-7);
        var body = BodyWithSentAt($"\"{sentAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\"", At(sentAt.AddMinutes(-5)));

        var contract = Assert.Single(Parse(body, EventTimeRules.Contract).Accepted);
        Assert.Equal(Now.AddMinutes(-5).ToUnixTimeMilliseconds(), contract.TimeMs);

        var import = Parse(body, EventTimeRules.Import(null));
        Assert.Equal(sentAt.AddMinutes(-5).ToUnixTimeMilliseconds(), Assert.Single(import.Accepted).TimeMs);
        Assert.Equal(sentAt, import.SentAt); // still reported as sent
    }
}

/// <summary><see cref="IngestHandler.HandleImportAsync"/>: a request's path, as the import's source, with the import's time rules.</summary>
public class IngestHandlerImportTests
{
    private readonly FakeTimeProvider _time = new(Now);
    private readonly FakeKeyStore _keys = new();
    private readonly FakeLandingStore _landing = new();
    private readonly FakeQueue _queue = new();
    private readonly FakeRejectedStore _rejected = new();
    private readonly FakeReceipts _receipts = new();
    private readonly IngestHandler _handler;

    public IngestHandlerImportTests()
    {
        _keys.Sources[OnlyWx123.Name] = OnlyWx123;
        // A limiter that admits nothing: the import path must not be rate-limited.
        var limiter = new IngestRateLimiter(new PipelineOptions
        {
            PseudonymisationKey = PseudonymisationKey,
            RateLimit = new RateLimitOptions { EventsPerSecond = 0.001, Burst = 1 },
        }, _time);
        _handler = new IngestHandler(new IngestKeyCache(_keys, _time), _landing, _queue, _rejected, _receipts,
            new PipelineOptions { PseudonymisationKey = PseudonymisationKey }, _time, limiter);
    }

    private static JsonObject Old(string eventId, int daysAgo, string program = "wx123")
    {
        var e = Event(eventId: eventId);
        e["timestamp"] = Now.AddDays(-daysAgo).ToUnixTimeMilliseconds();
        e["miniProgramId"] = program;
        return e;
    }

    [Fact]
    public async Task Lands_enqueues_records_the_receipt_and_the_rejections_as_a_request_does()
    {
        var outcome = await _handler.HandleImportAsync(OnlyWx123.Name, Encoding.UTF8.GetBytes(Body(Old("a", 40), Old("b", 45, "wx999"), Old("c", 3))),
            EventTimeRules.Import(Now.AddDays(-50)), CancellationToken.None);

        Assert.Equal(202, outcome.Status);
        Assert.Equal(2, outcome.Accepted);
        var rejection = Assert.Single(outcome.Rejections);
        Assert.Equal((1, "b", RejectionCodes.ForbiddenMiniProgram), (rejection.Index, rejection.EventId, rejection.Code));
        Assert.Equal(new AcceptedTimeRange(Now.AddDays(-40).ToUnixTimeMilliseconds(), Now.AddDays(-3).ToUnixTimeMilliseconds()), outcome.AcceptedTimes);

        var landed = Assert.Single(_landing.Written);
        Assert.Equal((OnlyWx123.Name, IngestHandler.ImportKeyId, 3, 1), (landed.Source, landed.KeyId, landed.ReceivedCount, landed.RejectedCount));
        Assert.Equal(["a", "c"], landed.Events.Select(e => e.EventId));
        Assert.Equal(landed.BatchId, Assert.Single(_queue.Messages).BatchId);
        Assert.Equal(IngestHandler.ImportKeyId, Assert.Single(_rejected.Written).KeyId);
        var (receipt, day) = Assert.Single(_receipts.Recorded);
        Assert.Equal((3, 1), (receipt.Received, receipt.Rejected));
        Assert.Equal(new DateOnly(2026, 11, 23), day); // receipts count on the day of the import
    }

    [Fact]
    public async Task Without_history_old_events_are_rejected_as_on_the_endpoint()
    {
        var outcome = await _handler.HandleImportAsync(OnlyWx123.Name, Encoding.UTF8.GetBytes(Body(Old("a", 40))), EventTimeRules.Import(null), CancellationToken.None);

        Assert.Equal(400, outcome.Status);
        Assert.Equal(IngestErrorCodes.AllRejected, outcome.ErrorCode);
        Assert.Equal(RejectionCodes.TimestampOutOfRange, Assert.Single(outcome.Rejections).Code);
        Assert.Empty(_landing.Written);
    }

    [Fact]
    public async Task An_unknown_source_is_401_unknown_source_and_nothing_is_stored()
    {
        var outcome = await _handler.HandleImportAsync("nobody", Encoding.UTF8.GetBytes(Body(Old("a", 1))), EventTimeRules.Import(null), CancellationToken.None);

        Assert.Equal((401, IngestErrorCodes.UnknownSource), (outcome.Status, outcome.ErrorCode));
        Assert.Empty(_landing.Written);
        Assert.Empty(_rejected.Written);
    }

    [Fact]
    public async Task Storage_failure_is_503_as_on_the_endpoint()
    {
        _queue.Throw = new StorageUnavailableException("down");
        var outcome = await _handler.HandleImportAsync(OnlyWx123.Name, Encoding.UTF8.GetBytes(Body(Old("a", 1))), EventTimeRules.Import(null), CancellationToken.None);

        Assert.Equal((503, IngestErrorCodes.StorageUnavailable), (outcome.Status, outcome.ErrorCode));
        Assert.NotNull(outcome.RetryAfter);
    }
}
