using System.Text;
using System.Text.Json.Nodes;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;
using static Pipeline.Core.Tests.Ingest.HostileIngest;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>
/// A corpus of hostile requests, each sent through the real ingest handler, with the exact answer the
/// contract (docs/ingest-contract.md) gives it: status, request-level code, and the code of every
/// rejected event. A case with a valid companion event shows that the hostile one is rejected alone.
/// </summary>
public class HostileInputTests
{
    /// <summary>One hostile request and its exact answer. <see cref="EventCodes"/>: the rejected events' codes, in order.</summary>
    public sealed record Case(Func<byte[]> Body, int Status, string? Code, string[] EventCodes, bool Gzip = false, bool PlatformKey = false, int Accepted = 0);

    private static Case Batch(string code, Func<byte[]> body, bool gzip = false) => new(body, 400, code, [], gzip);
    private static Case Event(JsonNode hostile, string eventCode, bool platformKey = false) =>
        new(() => Utf8(Body(hostile, Valid("companion"))), 202, null, [eventCode], PlatformKey: platformKey, Accepted: 1);
    private static Case EventOk(JsonNode e) => new(() => Utf8(Body(e)), 202, null, [], Accepted: 1);
    private static Case RawEvent(string hostileJson, string eventCode) =>
        new(() => Utf8(BodyRaw(hostileJson, Valid("companion").ToJsonString())), 202, null, [eventCode], Accepted: 1);

    private static JsonObject Valid(string id = "e-1", string type = "session_start") => IngestTestData.Event(type, id);

    private static JsonObject With(Action<JsonObject> change, string type = "session_start")
    {
        var e = Valid("hostile", type);
        change(e);
        return e;
    }

    /// <summary>A props value nested <paramref name="depth"/> deep counting props itself as 1 (see <see cref="IngestLimits.MaxPropsDepth"/>).</summary>
    private static JsonObject NestedProps(int depth)
    {
        var e = Valid("hostile", "custom.nested");
        JsonNode inner = 1;
        for (var d = depth; d > 1; d--) inner = new JsonObject { ["n"] = inner };
        e["props"] = new JsonObject { ["n"] = inner };
        return e;
    }

    private static JsonObject Props(int count)
    {
        var e = Valid("hostile", "custom.wide");
        var props = new JsonObject();
        for (var i = 0; i < count; i++) props["p" + i] = i;
        e["props"] = props;
        return e;
    }

    /// <summary>A body of exactly <paramref name="bytes"/> bytes: one valid event and an ignored padding property.</summary>
    private static byte[] BodyOfSize(int bytes)
    {
        var head = "{\"events\":[" + Valid().ToJsonString() + "],\"padding\":\"";
        const string tail = "\"}";
        return Utf8(head + new string('x', bytes - head.Length - tail.Length) + tail);
    }

    private static byte[] ManyEvents(int count) =>
        Utf8(BodyRaw(Enumerable.Range(0, count).Select(i => Valid("e" + i).ToJsonString()).ToArray()));

    private static byte[] InvalidUtf8InString()
    {
        // 0xFF can never appear in UTF-8; here it is inside the value of "page".
        var text = Body(Valid("hostile", "page_view"), Valid("companion"));
        var bytes = Utf8(text);
        var at = text.IndexOf("pages/index", StringComparison.Ordinal);
        bytes[at] = 0xFF;
        return bytes;
    }

    public static readonly Dictionary<string, Case> Cases = new()
    {
        // Not JSON, or not the body's shape: the whole batch, 400.
        ["empty body"] = Batch(IngestErrorCodes.InvalidJson, () => []),
        ["not json"] = Batch(IngestErrorCodes.InvalidJson, () => Utf8("events please")),
        ["unterminated"] = Batch(IngestErrorCodes.InvalidJson, () => Utf8("{\"events\":[")),
        ["trailing comma"] = Batch(IngestErrorCodes.InvalidJson, () => Utf8("{\"events\":[" + Valid().ToJsonString() + ",]}")),
        ["comment"] = Batch(IngestErrorCodes.InvalidJson, () => Utf8("{/* hi */\"events\":[" + Valid().ToJsonString() + "]}")),
        ["content after the object"] = Batch(IngestErrorCodes.InvalidJson, () => Utf8(Body(Valid()) + "{}")),
        ["array body"] = Batch(IngestErrorCodes.InvalidJson, () => Utf8("[" + Valid().ToJsonString() + "]")),
        ["string body"] = Batch(IngestErrorCodes.InvalidJson, () => Utf8("\"events\"")),
        ["invalid utf-8 outside strings"] = Batch(IngestErrorCodes.InvalidJson, () => [.. Utf8("{\"events\":["), 0xC3, 0x28, .. Utf8("]}")]),
        ["duplicate events"] = Batch(IngestErrorCodes.InvalidJson, () => Utf8("{\"events\":[" + Valid().ToJsonString() + "],\"events\":[]}")),
        ["duplicate sentAt"] = Batch(IngestErrorCodes.InvalidJson, () => Utf8("{\"sentAt\":0,\"sentAt\":1,\"events\":[" + Valid().ToJsonString() + "]}")),
        ["body nested past the parser limit"] = Batch(IngestErrorCodes.InvalidJson, () =>
            Utf8("{\"events\":[" + new string('[', IngestLimits.MaxJsonDepth) + new string(']', IngestLimits.MaxJsonDepth) + "]}")),
        ["no events"] = Batch(IngestErrorCodes.MissingEvents, () => Utf8("{\"sentAt\":\"2026-11-23T10:15:30Z\"}")),
        ["events null"] = Batch(IngestErrorCodes.MissingEvents, () => Utf8("{\"events\":null}")),
        ["events an object"] = Batch(IngestErrorCodes.MissingEvents, () => Utf8("{\"events\":{\"0\":" + Valid().ToJsonString() + "}}")),
        ["events a string"] = Batch(IngestErrorCodes.MissingEvents, () => Utf8("{\"events\":\"[]\"}")),
        ["0 events"] = Batch(IngestErrorCodes.EmptyBatch, () => Utf8("{\"events\":[]}")),
        ["1001 events"] = Batch(IngestErrorCodes.TooManyEvents, () => ManyEvents(IngestLimits.MaxEvents + 1)),
        ["1000 events"] = new(() => ManyEvents(IngestLimits.MaxEvents), 202, null, [], Accepted: IngestLimits.MaxEvents),
        ["1 event"] = EventOk(Valid()),

        // Size of the body: at the limit passes, one byte more is 413, decompressed or not.
        ["body of exactly 4 MiB"] = new(() => BodyOfSize(IngestLimits.MaxBodyBytes), 202, null, [], Accepted: 1),
        ["body of 4 MiB + 1"] = new(() => BodyOfSize(IngestLimits.MaxBodyBytes + 1), 413, IngestErrorCodes.PayloadTooLarge, []),
        ["gzip of exactly 4 MiB"] = new(() => Gzip(BodyOfSize(IngestLimits.MaxBodyBytes)), 202, null, [], Gzip: true, Accepted: 1),
        ["gzip of 4 MiB + 1"] = new(() => Gzip(BodyOfSize(IngestLimits.MaxBodyBytes + 1)), 413, IngestErrorCodes.PayloadTooLarge, [], Gzip: true),
        ["gzip bomb: 64 MiB of zeros"] = new(() => Gzip(new byte[64 << 20], System.IO.Compression.CompressionLevel.Optimal), 413, IngestErrorCodes.PayloadTooLarge, [], Gzip: true),

        // Gzip that is not: 400 invalid_body.
        ["gzip declared, plain sent"] = Batch(IngestErrorCodes.InvalidBody, () => Utf8(Body(Valid())), gzip: true),
        ["gzip without its trailer"] = Batch(IngestErrorCodes.InvalidBody, () => Gzip(Utf8(Body(Valid())))[..^8], gzip: true),
        ["gzip cut in half"] = Batch(IngestErrorCodes.InvalidBody, () => { var g = Gzip(Utf8(Body(Valid()))); return g[..(g.Length / 2)]; }, gzip: true),
        ["gzip with a wrong CRC"] = Batch(IngestErrorCodes.InvalidBody, () => { var g = Gzip(Utf8(Body(Valid()))); g[^8] ^= 1; return g; }, gzip: true),
        ["gzip with data after it"] = Batch(IngestErrorCodes.InvalidBody, () => [.. Gzip(Utf8(Body(Valid()))), 0x00], gzip: true),
        ["gzip sent undeclared"] = Batch(IngestErrorCodes.InvalidJson, () => Gzip(Utf8(Body(Valid())))),

        // Size of one event: 32 KiB passes, one byte more is event_too_large.
        ["event of exactly 32 KiB"] = EventOk(PadTo(Valid("hostile", "custom.padded"), IngestLimits.MaxEventBytes)),
        ["event of 32 KiB + 1"] = Event(PadTo(Valid("hostile", "custom.padded"), IngestLimits.MaxEventBytes + 1), RejectionCodes.EventTooLarge),
        // 3 MiB of short strings in one prop: within every other limit, so only the size is wrong.
        ["event of 3 MiB"] = Event(With(e => e.Props()["blob"] = new JsonArray(Enumerable.Range(0, 3 << 10).Select(_ => (JsonNode)new string('x', 1020)).ToArray())), RejectionCodes.EventTooLarge),

        // props: 64 keys, strings of 1024, 4 deep pass; one more of each is invalid_field.
        ["64 props"] = EventOk(Props(IngestLimits.MaxProps)),
        ["65 props"] = Event(Props(IngestLimits.MaxProps + 1), RejectionCodes.InvalidField),
        ["prop string of 1024"] = EventOk(With(e => e.Props()["note"] = new string('x', IngestLimits.MaxPropStringLength))),
        ["prop string of 1025"] = Event(With(e => e.Props()["note"] = new string('x', IngestLimits.MaxPropStringLength + 1)), RejectionCodes.InvalidField),
        ["nested prop string of 1025"] = Event(With(e => e.Props()["n"] = new JsonArray(new string('x', IngestLimits.MaxPropStringLength + 1))), RejectionCodes.InvalidField),
        ["props 4 deep"] = EventOk(NestedProps(IngestLimits.MaxPropsDepth)),
        ["props 5 deep"] = Event(NestedProps(IngestLimits.MaxPropsDepth + 1), RejectionCodes.InvalidField),
        ["props 200 deep"] = Event(NestedProps(200), RejectionCodes.InvalidField),

        // Field lengths at and past their limits.
        ["eventId of 64"] = EventOk(Valid(new string('a', IngestLimits.MaxEventIdLength))),
        ["eventId of 65"] = Event(Valid(new string('a', IngestLimits.MaxEventIdLength + 1)), RejectionCodes.InvalidField),
        ["userId of 128"] = EventOk(With(e => e["userId"] = new string('u', IngestLimits.MaxUserIdLength))),
        ["userId of 129"] = Event(With(e => e["userId"] = new string('u', IngestLimits.MaxUserIdLength + 1)), RejectionCodes.InvalidField),
        ["empty userId"] = Event(With(e => e["userId"] = ""), RejectionCodes.InvalidField),
        ["miniProgramId of 65"] = Event(With(e => e["miniProgramId"] = new string('w', IngestLimits.MaxMiniProgramIdLength + 1)), RejectionCodes.InvalidField, platformKey: true),
        ["page of 256"] = EventOk(With(e => e.Props()["page"] = new string('p', IngestLimits.MaxPageLength), "page_view")),
        ["page of 257"] = Event(With(e => e.Props()["page"] = new string('p', IngestLimits.MaxPageLength + 1), "page_view"), RejectionCodes.InvalidField),
        ["error message of 30,000 is cut, not refused"] = EventOk(With(e => e.Props()["message"] = new string('m', 30_000), "error")),
        ["custom name of 65"] = Event(Valid("hostile", "custom." + new string('n', IngestLimits.MaxCustomNameLength + 1)), RejectionCodes.UnknownType),

        // Invalid UTF-8 inside a string: that event only.
        ["invalid utf-8 in a string"] = new(InvalidUtf8InString, 202, null, [RejectionCodes.InvalidField], Accepted: 1),
        ["lone surrogate escape"] = RawEvent(Valid("hostile").ToJsonString().Replace("\"sessionId\":\"s-98f2\"", "\"sessionId\":\"\\ud800\"", StringComparison.Ordinal), RejectionCodes.InvalidField),

        // Wrong types.
        ["eventId a number"] = RawEvent(With(e => e["eventId"] = 42).ToJsonString(), RejectionCodes.InvalidField),
        ["type a number"] = Event(With(e => e["type"] = 1), RejectionCodes.InvalidField),
        ["timestamp a boolean"] = Event(With(e => e["timestamp"] = true), RejectionCodes.InvalidField),
        ["timestamp a fraction"] = Event(With(e => e["timestamp"] = 1.5), RejectionCodes.InvalidField),
        ["userId an object"] = Event(With(e => e["userId"] = new JsonObject()), RejectionCodes.InvalidField),
        ["props an array"] = Event(With(e => e["props"] = new JsonArray(1, 2)), RejectionCodes.InvalidField),
        ["scene a string"] = Event(With(e => e.Props()["scene"] = "1011"), RejectionCodes.InvalidField),
        ["amount a fraction"] = Event(With(e => e.Props()["amount"] = 19.9, "order_paid"), RejectionCodes.InvalidField),
        ["amount past long"] = RawEvent(Valid("hostile", "order_paid").ToJsonString().Replace("\"amount\":1990", "\"amount\":99999999999999999999999", StringComparison.Ordinal), RejectionCodes.InvalidField),
        ["amount zero"] = Event(With(e => e.Props()["amount"] = 0, "order_paid"), RejectionCodes.InvalidField),
        ["event a string"] = RawEvent("\"session_start\"", RejectionCodes.InvalidField),
        ["event null"] = RawEvent("null", RejectionCodes.InvalidField),
        ["sentAt a boolean is ignored"] = new(() => Utf8(BodyWithSentAt("true", Valid())), 202, null, [], Accepted: 1),

        // Missing and unknown.
        ["no eventId"] = Event(With(e => e.Remove("eventId")), RejectionCodes.MissingField),
        ["no props of session_start"] = Event(With(e => e.Remove("props")), RejectionCodes.MissingField),
        ["unknown type"] = Event(Valid("hostile", "session_begin"), RejectionCodes.UnknownType),
        ["far future"] = Event(With(e => e["timestamp"] = "2026-11-23T10:26:00.001Z"), RejectionCodes.TimestampOutOfRange),

        // Duplicate keys inside an event.
        ["eventId twice"] = RawEvent(Valid("hostile").ToJsonString().Replace("{\"eventId\":\"hostile\"", "{\"eventId\":\"hostile\",\"eventId\":\"other\"", StringComparison.Ordinal), RejectionCodes.InvalidField),
        ["props key twice"] = RawEvent(Valid("hostile").ToJsonString().Replace("\"scene\":1011", "\"scene\":1011,\"scene\":1012", StringComparison.Ordinal), RejectionCodes.InvalidField),
        ["unknown key twice"] = RawEvent(Valid("hostile").ToJsonString().Replace("{\"eventId\"", "{\"x\":1,\"x\":2,\"eventId\"", StringComparison.Ordinal), RejectionCodes.InvalidField),

        // A key of one source writing another's mini-program.
        ["another source's mini-program"] = Event(With(e => e["miniProgramId"] = "wx999"), RejectionCodes.ForbiddenMiniProgram),
        ["only other sources' mini-programs"] = new(() => Utf8(Body(With(e => e["miniProgramId"] = "wx999"), With(e => e["miniProgramId"] = "wx1234"))),
            400, IngestErrorCodes.AllRejected, [RejectionCodes.ForbiddenMiniProgram, RejectionCodes.ForbiddenMiniProgram]),
        ["a platform key may write any mini-program"] = new(() => Utf8(Body(With(e => e["miniProgramId"] = "wx999"))), 202, null, [], PlatformKey: true, Accepted: 1),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Hostile_request_gets_its_exact_answer(string name)
    {
        var c = Cases[name];
        var ingest = new HostileIngest();
        var outcome = await ingest.PostAsync(c.Body(), c.Gzip, c.PlatformKey ? ingest.PlatformKey : null);

        Assert.Equal(c.Status, outcome.Status);
        Assert.Equal(c.Code, outcome.ErrorCode);
        var body = JsonNode.Parse(outcome.Body)!.AsObject();
        if (c.Code is not null) Assert.Equal(c.Code, body["error"]!["code"]!.GetValue<string>());
        var rejected = body["rejected"]?.AsArray() ?? [];
        Assert.Equal(c.EventCodes, rejected.Select(r => r!["code"]!.GetValue<string>()));

        if (c.Status == 202)
        {
            Assert.Equal(c.Accepted, body["accepted"]!.GetValue<int>());
            Assert.Equal(c.Accepted, Assert.Single(ingest.Landing.Written).Events.Count);
            foreach (var e in ingest.Landing.Written[0].Events)
                Assert.Empty(StoredEventContract.Problems(e, c.PlatformKey ? AllPrograms : OnlyWx123, Now));
        }
        else
        {
            Assert.Empty(ingest.Landing.Written);
            Assert.Empty(ingest.Queue.Messages);
        }
        // Whatever was kept for operators never holds the raw user id.
        foreach (var record in ingest.Rejected.Written)
            Assert.DoesNotContain(record.Events, json => json is not null && json.Contains("\"userId\":\"" + RawUserId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_truncation_of_a_valid_body_is_400_invalid_json()
    {
        var full = Utf8(BodyWithSentAt("\"2026-11-23T10:15:30.123Z\"", Valid("a"), Valid("b", "order_paid")));
        var ingest = new HostileIngest();
        Assert.Equal(202, (await ingest.PostAsync(full)).Status);
        for (var length = 0; length < full.Length; length++)
        {
            var outcome = await ingest.PostAsync(full[..length]);
            Assert.True((outcome.Status, outcome.ErrorCode) == (400, IngestErrorCodes.InvalidJson), $"prefix of {length} bytes: {outcome.Status} {outcome.ErrorCode}");
        }
        Assert.Single(ingest.Landing.Written);
    }

    [Fact]
    public async Task Every_truncation_of_a_gzip_body_is_400_invalid_body()
    {
        var full = Gzip(Utf8(Body(Valid("a"), Valid("b", "page_view"))));
        var ingest = new HostileIngest();
        Assert.Equal(202, (await ingest.PostAsync(full, gzip: true)).Status);
        for (var length = 0; length < full.Length; length++)
        {
            var outcome = await ingest.PostAsync(full[..length], gzip: true);
            Assert.True((outcome.Status, outcome.ErrorCode) == (400, IngestErrorCodes.InvalidBody), $"prefix of {length} bytes: {outcome.Status} {outcome.ErrorCode}");
        }
        Assert.Single(ingest.Landing.Written);
    }

    [Fact]
    public async Task A_gzip_bomb_is_refused_after_reading_a_small_part_of_it()
    {
        var bomb = Gzip(new byte[128 << 20], System.IO.Compression.CompressionLevel.Optimal); // 128 MiB of zeros, about 128 KiB compressed
        var ingest = new HostileIngest();
        var stream = new MemoryStream(bomb, writable: false);
        var outcome = await ingest.Handler.HandleAsync(new IngestRequest(ingest.RestrictedKey, "application/json", "gzip", stream), CancellationToken.None);
        Assert.Equal((413, IngestErrorCodes.PayloadTooLarge), (outcome.Status, outcome.ErrorCode));
        // Inflating stopped just past 4 MiB: about 1/32 of the compressed bytes, plus one read buffer, were consumed.
        Assert.True(stream.Position < bomb.Length / 4, $"read {stream.Position} of {bomb.Length} compressed bytes");
    }

    [Theory]
    [InlineData("text/plain", null, 415, IngestErrorCodes.UnsupportedMediaType)]
    [InlineData("application/json; charset=latin1", null, 415, IngestErrorCodes.UnsupportedMediaType)]
    [InlineData(null, null, 415, IngestErrorCodes.UnsupportedMediaType)]
    [InlineData("application/json", "br", 415, IngestErrorCodes.UnsupportedEncoding)]
    [InlineData("application/json", "gzip, gzip", 415, IngestErrorCodes.UnsupportedEncoding)]
    public async Task Wrong_headers_are_415(string? contentType, string? encoding, int status, string code)
    {
        var ingest = new HostileIngest();
        var outcome = await ingest.Handler.HandleAsync(
            new IngestRequest(ingest.RestrictedKey, contentType, encoding, new MemoryStream(Utf8(Body(Valid())))), CancellationToken.None);
        Assert.Equal((status, code), (outcome.Status, outcome.ErrorCode));
        Assert.Empty(ingest.Landing.Written);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("mpk_")]
    [InlineData("mpk_zzzzzzzzzzzz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("mpk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("Bearer mpk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Bad_keys_are_401_unauthorized(string? key)
    {
        var ingest = new HostileIngest();
        var outcome = await ingest.Handler.HandleAsync(new IngestRequest(key, "application/json", null, new MemoryStream(Utf8(Body(Valid())))), CancellationToken.None);
        Assert.Equal((401, IngestErrorCodes.Unauthorized), (outcome.Status, outcome.ErrorCode));
        Assert.Empty(ingest.Landing.Written);
    }
}
