using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Ingest;

public class IngestHandlerTests
{
    private readonly FakeTimeProvider _time = new(Now);
    private readonly FakeKeyStore _keys = new();
    private readonly FakeLandingStore _landing = new();
    private readonly FakeQueue _queue = new();
    private readonly FakeRejectedStore _rejected = new();
    private readonly FakeReceipts _receipts = new();
    private readonly IngestHandler _handler;
    private readonly string _apiKey;
    private readonly IngestKeyRecord _record;

    public IngestHandlerTests()
    {
        (_apiKey, _record) = IngestKeys.Create(OnlyWx123.Name, Now.AddDays(-1));
        _keys.Keys[_record.KeyId] = _record;
        _keys.Sources[OnlyWx123.Name] = OnlyWx123;
        _keys.Sources[AllPrograms.Name] = AllPrograms;
        _handler = new IngestHandler(new IngestKeyCache(_keys, _time), _landing, _queue, _rejected, _receipts,
            new PipelineOptions { PseudonymisationKey = PseudonymisationKey }, _time);
    }

    private Task<IngestOutcome> Post(string body, string? apiKey = null, string? contentType = "application/json", string? encoding = null) =>
        Post(Encoding.UTF8.GetBytes(body), apiKey ?? _apiKey, contentType, encoding);

    private Task<IngestOutcome> Post(byte[] body, string? apiKey, string? contentType = "application/json", string? encoding = null) =>
        _handler.HandleAsync(new IngestRequest(apiKey, contentType, encoding, new MemoryStream(body)), CancellationToken.None);

    private static JsonObject Json(IngestOutcome outcome) => JsonNode.Parse(outcome.Body)!.AsObject();

    private static void AssertError(IngestOutcome outcome, int status, string code)
    {
        Assert.Equal(status, outcome.Status);
        Assert.Equal(code, outcome.ErrorCode);
        var error = Json(outcome)["error"]!;
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(error["message"]!.GetValue<string>()));
    }

    private void AssertNothingStored()
    {
        Assert.Empty(_landing.Written);
        Assert.Empty(_queue.Messages);
    }

    [Fact]
    public async Task Accepted_batch_is_landed_then_enqueued_then_answered_202()
    {
        var bad = Event(eventId: "bad");
        bad["miniProgramId"] = "wx999";
        var outcome = await Post(Body(Event(eventId: "a"), bad, Event("order_paid", "b")));

        Assert.Equal(202, outcome.Status);
        var body = Json(outcome);
        var batchId = body["batchId"]!.GetValue<string>();
        Assert.Matches("^[0-9a-f]{32}$", batchId);
        Assert.Equal(2, body["accepted"]!.GetValue<int>());
        var rejected = Assert.Single(body["rejected"]!.AsArray())!;
        Assert.Equal(1, rejected["index"]!.GetValue<int>());
        Assert.Equal("bad", rejected["eventId"]!.GetValue<string>());
        Assert.Equal(RejectionCodes.ForbiddenMiniProgram, rejected["code"]!.GetValue<string>());
        Assert.Equal(["batchId", "accepted", "rejected"], body.Select(p => p.Key));
        Assert.Equal(["index", "eventId", "code", "message"], rejected.AsObject().Select(p => p.Key));

        var landed = Assert.Single(_landing.Written);
        Assert.Equal((batchId, OnlyWx123.Name, _record.KeyId, Now, 3, 1), (landed.BatchId, landed.Source, landed.KeyId, landed.ReceivedAt, landed.ReceivedCount, landed.RejectedCount));
        Assert.Equal(["a", "b"], landed.Events.Select(e => e.EventId));
        Assert.Equal(new ProcessingMessage(batchId, "landing/" + batchId + ".json"), Assert.Single(_queue.Messages));
        var record = Assert.Single(_rejected.Written);
        Assert.Equal((batchId, 202, 3), (record.BatchId, record.Status, record.ReceivedCount));
        Assert.Equal("bad", Assert.Single(record.Rejections).EventId);

        Assert.Equal((batchId, OnlyWx123.Name, 2, 1, (string?)null), (outcome.BatchId, outcome.Source, outcome.Accepted, outcome.Rejected, outcome.ErrorCode));
        Assert.Null(outcome.RetryAfter);
    }

    [Fact]
    public async Task Every_counted_request_records_its_receipt_under_the_reporting_day_of_receipt()
    {
        var bad = Event(eventId: "bad");
        bad["miniProgramId"] = "wx999";
        var accepted = await Post(Body(Event(eventId: "a"), bad));
        var allBad = await Post(Body(bad));
        await Post("{\"events\":[]}");

        // Now is 2026-11-23T10:00Z: the 23rd in Asia/Shanghai as well.
        Assert.Equal(202, accepted.Status);
        Assert.Equal(400, allBad.Status);
        Assert.Equal(
            [(accepted.BatchId!, 2, 1, new DateOnly(2026, 11, 23)), (allBad.BatchId!, 1, 1, new DateOnly(2026, 11, 23))],
            _receipts.Recorded.Select(r => (r.Receipt.BatchId, r.Receipt.Received, r.Receipt.Rejected, r.Day)));
    }

    [Fact]
    public async Task A_receipt_that_cannot_be_recorded_is_a_503()
    {
        _receipts.Throw = new StorageUnavailableException("down");
        var outcome = await Post(Body(Event()));
        AssertError(outcome, 503, IngestErrorCodes.StorageUnavailable);
    }

    [Fact]
    public async Task Fully_accepted_batch_writes_no_rejected_record_and_an_empty_rejected_list()
    {
        var outcome = await Post(Body(Event()));
        Assert.Equal(202, outcome.Status);
        Assert.Empty(Json(outcome)["rejected"]!.AsArray());
        Assert.Empty(_rejected.Written);
    }

    [Fact]
    public async Task Raw_user_id_never_reaches_storage_or_the_response()
    {
        var bad = Event(eventId: "bad");
        bad.Props().Remove("scene");
        var outcome = await Post(Body(Event(), bad));
        Assert.Equal(202, outcome.Status);
        Assert.DoesNotContain(RawUserId, Encoding.UTF8.GetString(outcome.Body));
        Assert.DoesNotContain(RawUserId, JsonSerializer.Serialize(_landing.Written));
        Assert.DoesNotContain(RawUserId, JsonSerializer.Serialize(_rejected.Written));
        Assert.Contains(new UserPseudonymizer(PseudonymisationKey).Pseudonymize(RawUserId), JsonSerializer.Serialize(_rejected.Written));

        var allBad = await Post(Body(bad));
        Assert.DoesNotContain(RawUserId, Encoding.UTF8.GetString(allBad.Body));
        Assert.DoesNotContain(RawUserId, JsonSerializer.Serialize(_rejected.Written));
    }

    [Fact]
    public async Task Every_event_rejected_is_400_all_rejected_with_the_list_and_nothing_landed()
    {
        var bad = Event(eventId: "x");
        bad.Remove("timestamp");
        var outcome = await Post(Body(bad, JsonValue.Create(1)!));
        AssertError(outcome, 400, IngestErrorCodes.AllRejected);
        var rejected = Json(outcome)["rejected"]!.AsArray();
        Assert.Equal(2, rejected.Count);
        Assert.Equal(RejectionCodes.MissingField, rejected[0]!["code"]!.GetValue<string>());
        Assert.Null(rejected[1]!["eventId"]);
        Assert.True(rejected[1]!.AsObject().ContainsKey("eventId"));
        AssertNothingStored();
        var record = Assert.Single(_rejected.Written);
        Assert.Equal((400, IngestErrorCodes.AllRejected, 2), (record.Status, record.ErrorCode, record.Rejections.Count));
        Assert.Equal(2, outcome.Rejected);
    }

    [Theory]
    [InlineData("nope", IngestErrorCodes.InvalidJson)]
    [InlineData("{}", IngestErrorCodes.MissingEvents)]
    [InlineData("{\"events\":[]}", IngestErrorCodes.EmptyBatch)]
    public async Task Batch_level_400s_are_recorded_for_operators(string body, string code)
    {
        var outcome = await Post(body);
        AssertError(outcome, 400, code);
        Assert.False(Json(outcome).ContainsKey("rejected"));
        AssertNothingStored();
        var record = Assert.Single(_rejected.Written);
        Assert.Equal((400, code, 0), (record.Status, record.ErrorCode, record.ReceivedCount));
    }

    [Fact]
    public async Task Too_many_events_is_400()
    {
        var outcome = await Post(BodyRaw(Enumerable.Repeat(Event().ToJsonString(), 1001).ToArray()));
        AssertError(outcome, 400, IngestErrorCodes.TooManyEvents);
        AssertNothingStored();
    }

    // ---- 401 ----

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("secret")]
    [InlineData("mpk_0123456789ab")]
    public async Task Missing_or_malformed_key_is_401(string? apiKey)
    {
        var outcome = await _handler.HandleAsync(new IngestRequest(apiKey, "application/json", null, new MemoryStream(Encoding.UTF8.GetBytes(Body(Event())))), CancellationToken.None);
        AssertError(outcome, 401, IngestErrorCodes.Unauthorized);
        AssertNothingStored();
        Assert.Equal(0, _keys.KeyLookups);
    }

    [Fact]
    public async Task Unknown_key_is_401()
    {
        var (other, _) = IngestKeys.Create("s", Now);
        AssertError(await Post(Body(Event()), other), 401, IngestErrorCodes.Unauthorized);
        AssertNothingStored();
    }

    [Fact]
    public async Task Wrong_secret_for_a_known_key_id_is_401()
    {
        var (other, _) = IngestKeys.Create("s", Now);
        var forged = _apiKey[..17] + other[17..];
        AssertError(await Post(Body(Event()), forged), 401, IngestErrorCodes.Unauthorized);
    }

    [Fact]
    public async Task Revoked_key_is_401_key_revoked()
    {
        _keys.Keys[_record.KeyId] = _record with { RevokedAt = Now };
        AssertError(await Post(Body(Event())), 401, IngestErrorCodes.KeyRevoked);
    }

    [Fact]
    public async Task Key_of_an_unregistered_source_is_401()
    {
        _keys.Sources.Clear();
        AssertError(await Post(Body(Event())), 401, IngestErrorCodes.Unauthorized);
    }

    [Fact]
    public async Task Revocation_takes_effect_within_60_seconds_of_the_cache()
    {
        Assert.Equal(202, (await Post(Body(Event()))).Status);
        _keys.Keys[_record.KeyId] = _record with { RevokedAt = Now };
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(202, (await Post(Body(Event()))).Status); // still cached
        Assert.Equal(1, _keys.KeyLookups);
        _time.Advance(TimeSpan.FromSeconds(2));
        AssertError(await Post(Body(Event())), 401, IngestErrorCodes.KeyRevoked);
        Assert.Equal(2, _keys.KeyLookups);
    }

    [Fact]
    public async Task Unknown_key_ids_are_cached_briefly()
    {
        var (other, otherRecord) = IngestKeys.Create("wx-sdk", Now);
        AssertError(await Post(Body(Event()), other), 401, IngestErrorCodes.Unauthorized);
        _keys.Keys[otherRecord.KeyId] = otherRecord; // created just after the first try
        AssertError(await Post(Body(Event()), other), 401, IngestErrorCodes.Unauthorized);
        _time.Advance(IngestKeyCache.MissLifetime + TimeSpan.FromSeconds(1));
        Assert.Equal(202, (await Post(Body(Event()), other)).Status);
    }

    // ---- 415 ----

    [Theory]
    [InlineData(null)]
    [InlineData("text/plain")]
    [InlineData("application/json; charset=iso-8859-1")]
    public async Task Wrong_content_type_is_415(string? contentType)
    {
        AssertError(await Post(Body(Event()), contentType: contentType), 415, IngestErrorCodes.UnsupportedMediaType);
        AssertNothingStored();
    }

    [Theory]
    [InlineData("br")]
    [InlineData("deflate")]
    public async Task Wrong_encoding_is_415(string encoding)
    {
        AssertError(await Post(Body(Event()), encoding: encoding), 415, IngestErrorCodes.UnsupportedEncoding);
        AssertNothingStored();
    }

    [Fact]
    public async Task Checks_run_in_order_key_content_type_encoding_body()
    {
        AssertError(await Post(Encoding.UTF8.GetBytes("x"), "bad", "text/plain", "br"), 401, IngestErrorCodes.Unauthorized);
        AssertError(await Post("x", contentType: "text/plain", encoding: "br"), 415, IngestErrorCodes.UnsupportedMediaType);
        AssertError(await Post(PaddedBody(IngestLimits.MaxBodyBytes + 1), _apiKey, encoding: "br"), 415, IngestErrorCodes.UnsupportedEncoding);
        AssertError(await Post("x"), 400, IngestErrorCodes.InvalidJson);
    }

    // ---- body ----

    [Fact]
    public async Task Gzip_body_is_accepted()
    {
        var outcome = await Post(BodyReaderTests.Gzip(Encoding.UTF8.GetBytes(Body(Event()))), _apiKey, "application/json; charset=utf-8", "gzip");
        Assert.Equal(202, outcome.Status);
    }

    [Fact]
    public async Task Corrupt_gzip_is_400_invalid_body()
    {
        var gzip = BodyReaderTests.Gzip(Encoding.UTF8.GetBytes(Body(Event())));
        var outcome = await Post(gzip[..^4], _apiKey, encoding: "gzip");
        AssertError(outcome, 400, IngestErrorCodes.InvalidBody);
        AssertNothingStored();
        Assert.Equal(IngestErrorCodes.InvalidBody, Assert.Single(_rejected.Written).ErrorCode);
    }

    private static byte[] PaddedBody(int totalBytes)
    {
        var json = Encoding.UTF8.GetBytes(Body(Event()));
        var body = new byte[totalBytes];
        Array.Fill(body, (byte)' ');
        json.CopyTo(body, 0);
        return body;
    }

    [Fact]
    public async Task Body_of_exactly_4_MiB_is_accepted_one_byte_more_is_413()
    {
        Assert.Equal(202, (await Post(PaddedBody(IngestLimits.MaxBodyBytes), _apiKey)).Status);
        var outcome = await Post(PaddedBody(IngestLimits.MaxBodyBytes + 1), _apiKey);
        AssertError(outcome, 413, IngestErrorCodes.PayloadTooLarge);
        Assert.Single(_landing.Written); // only the first
    }

    [Fact]
    public async Task Gzip_bomb_is_413()
    {
        var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            var zeros = new byte[1024 * 1024];
            for (var i = 0; i < 100; i++) gzip.Write(zeros);
        }
        AssertError(await Post(compressed.ToArray(), _apiKey, encoding: "gzip"), 413, IngestErrorCodes.PayloadTooLarge);
        AssertNothingStored();
    }

    // ---- 503 ----

    [Fact]
    public async Task Landing_failure_is_503_with_retry_after_and_nothing_enqueued()
    {
        _landing.Throw = new StorageUnavailableException("blob down", retryAfter: TimeSpan.FromSeconds(7));
        var outcome = await Post(Body(Event()));
        AssertError(outcome, 503, IngestErrorCodes.StorageUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(7), outcome.RetryAfter);
        Assert.Same(_landing.Throw, outcome.Failure);
        Assert.Empty(_queue.Messages);
    }

    [Fact]
    public async Task A_storage_outage_without_a_hint_is_503_with_the_default_retry_after()
    {
        _landing.Throw = new StorageUnavailableException("socket closed");
        var outcome = await Post(Body(Event()));
        AssertError(outcome, 503, IngestErrorCodes.StorageUnavailable);
        Assert.Equal(TimeSpan.FromSeconds(30), outcome.RetryAfter);
    }

    [Fact]
    public async Task A_bug_is_not_a_storage_outage_it_propagates_and_nothing_is_acknowledged()
    {
        // Storage reports outages as StorageUnavailableException at its boundary; anything else is a bug,
        // which must not be answered 503 (clients would retry it forever) but surface (the endpoint logs it, 500).
        _landing.Throw = new NullReferenceException("a bug");
        await Assert.ThrowsAsync<NullReferenceException>(() => Post(Body(Event())));
        _landing.Throw = null;
        _queue.Throw = new IOException("not wrapped by Storage");
        await Assert.ThrowsAsync<IOException>(() => Post(Body(Event())));
        Assert.Empty(_queue.Messages);
    }

    [Fact]
    public async Task Enqueue_failure_after_landing_is_503()
    {
        _queue.Throw = new StorageUnavailableException("queue down");
        var outcome = await Post(Body(Event()));
        AssertError(outcome, 503, IngestErrorCodes.StorageUnavailable);
        Assert.Single(_landing.Written);
        Assert.NotNull(outcome.RetryAfter);
    }

    [Fact]
    public async Task Rejected_store_failure_is_503()
    {
        _rejected.Throw = new StorageUnavailableException("table down");
        var bad = Event(eventId: "bad");
        bad.Remove("type");
        AssertError(await Post(Body(Event(), bad)), 503, IngestErrorCodes.StorageUnavailable);
        AssertError(await Post(Body(bad)), 503, IngestErrorCodes.StorageUnavailable);
        AssertError(await Post("not json"), 503, IngestErrorCodes.StorageUnavailable);
    }

    [Fact]
    public async Task Key_store_failure_is_503()
    {
        _keys.Throw = new StorageUnavailableException("table down");
        AssertError(await Post(Body(Event())), 503, IngestErrorCodes.StorageUnavailable);
    }

    [Fact]
    public async Task Timeout_inside_a_store_is_503_but_caller_cancellation_propagates()
    {
        // Storage turns an SDK time-out into StorageUnavailableException (StorageFailures.IsUnavailable).
        _landing.Throw = new StorageUnavailableException("HTTP timeout", new TaskCanceledException("HTTP timeout"));
        AssertError(await Post(Body(Event())), 503, IngestErrorCodes.StorageUnavailable);

        using var cts = new CancellationTokenSource();
        _landing.Throw = null;
        _landing.OnWrite = cts.Cancel;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _handler.HandleAsync(new IngestRequest(_apiKey, "application/json", null, new MemoryStream(Encoding.UTF8.GetBytes(Body(Event())))), cts.Token));
        Assert.Empty(_queue.Messages);
    }

    // ---- inbound queue ----

    [Fact]
    public async Task Trusted_batch_is_accepted_for_a_registered_source()
    {
        var outcome = await _handler.HandleTrustedAsync(AllPrograms.Name, Encoding.UTF8.GetBytes(Body(Event())), CancellationToken.None);
        Assert.Equal(202, outcome.Status);
        var landed = Assert.Single(_landing.Written);
        Assert.Equal((AllPrograms.Name, IngestHandler.InboundQueueKeyId), (landed.Source, landed.KeyId));
    }

    [Fact]
    public async Task Trusted_batch_obeys_the_sources_mini_programs()
    {
        var e = Event();
        e["miniProgramId"] = "wx999";
        var outcome = await _handler.HandleTrustedAsync(OnlyWx123.Name, Encoding.UTF8.GetBytes(Body(e)), CancellationToken.None);
        AssertError(outcome, 400, IngestErrorCodes.AllRejected);
    }

    [Theory]
    [InlineData("nobody")]
    [InlineData("")]
    public async Task Trusted_batch_of_an_unknown_source_is_unknown_source(string source)
    {
        var outcome = await _handler.HandleTrustedAsync(source, Encoding.UTF8.GetBytes(Body(Event())), CancellationToken.None);
        AssertError(outcome, 401, IngestErrorCodes.UnknownSource);
        AssertNothingStored();
    }

    [Fact]
    public async Task Trusted_batch_over_4_MiB_is_413()
    {
        var outcome = await _handler.HandleTrustedAsync(AllPrograms.Name, PaddedBody(IngestLimits.MaxBodyBytes + 1), CancellationToken.None);
        AssertError(outcome, 413, IngestErrorCodes.PayloadTooLarge);
    }
}
