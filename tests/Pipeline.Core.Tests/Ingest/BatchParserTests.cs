using System.Text;
using System.Text.Json.Nodes;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>Batch-level rules: JSON shape, event count, sentAt, and how outcomes are reported.</summary>
public class BatchParserTests
{
    [Theory]
    [InlineData("", IngestErrorCodes.InvalidJson)]
    [InlineData("not json", IngestErrorCodes.InvalidJson)]
    [InlineData("[]", IngestErrorCodes.InvalidJson)]
    [InlineData("\"events\"", IngestErrorCodes.InvalidJson)]
    [InlineData("{\"events\":[]} trailing", IngestErrorCodes.InvalidJson)]
    [InlineData("{\"events\":[]}{}", IngestErrorCodes.InvalidJson)]
    [InlineData("{\"events\":[],}", IngestErrorCodes.InvalidJson)]
    [InlineData("{\"events\":[] /* c */}", IngestErrorCodes.InvalidJson)]
    [InlineData("{\"events\":[], \"events\":[]}", IngestErrorCodes.InvalidJson)]
    [InlineData("{}", IngestErrorCodes.MissingEvents)]
    [InlineData("{\"sentAt\":\"2026-11-23T10:15:30Z\"}", IngestErrorCodes.MissingEvents)]
    [InlineData("{\"events\":null}", IngestErrorCodes.MissingEvents)]
    [InlineData("{\"events\":{}}", IngestErrorCodes.MissingEvents)]
    [InlineData("{\"events\":\"[]\"}", IngestErrorCodes.MissingEvents)]
    [InlineData("{\"events\":[]}", IngestErrorCodes.EmptyBatch)]
    public void Batch_level_errors(string body, string code)
    {
        var result = Parse(body);
        Assert.True(result.IsBatchError);
        Assert.Equal(code, result.ErrorCode);
        Assert.False(string.IsNullOrEmpty(result.ErrorMessage));
        Assert.Empty(result.Accepted);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    public void One_to_a_thousand_events_are_accepted(int count)
    {
        var events = Enumerable.Range(0, count).Select(i => (JsonNode)Event(eventId: "e-" + i)).ToArray();
        var result = Parse(Body(events));
        Assert.Null(result.ErrorCode);
        Assert.Equal(count, result.ReceivedCount);
        Assert.Equal(count, result.Accepted.Count);
        Assert.Equal("e-" + (count - 1), result.Accepted[^1].EventId);
    }

    [Fact]
    public void More_than_a_thousand_events_is_too_many()
    {
        var result = Parse(BodyRaw(Enumerable.Repeat(Event().ToJsonString(), 1001).ToArray()));
        Assert.Equal(IngestErrorCodes.TooManyEvents, result.ErrorCode);
    }

    [Fact]
    public void Json_nested_past_the_document_limit_is_invalid_json()
    {
        var deep = new string('[', IngestLimits.MaxJsonDepth + 1) + new string(']', IngestLimits.MaxJsonDepth + 1);
        var e = Event().ToJsonString().Replace("\"props\":{", "\"props\":{\"deep\":" + deep + ",");
        Assert.Equal(IngestErrorCodes.InvalidJson, Parse(BodyRaw(e)).ErrorCode);
    }

    [Fact]
    public void Deep_props_within_the_document_limit_reject_only_their_event()
    {
        var deep = new string('[', 100) + new string(']', 100);
        var bad = Event(eventId: "bad").ToJsonString().Replace("\"props\":{", "\"props\":{\"deep\":" + deep + ",");
        var result = Parse(BodyRaw(Event(eventId: "good").ToJsonString(), bad));
        Assert.Equal("good", Assert.Single(result.Accepted).EventId);
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal((1, "bad", RejectionCodes.InvalidField), (rejection.Index, rejection.EventId, rejection.Code));
        Assert.Contains("props.deep", rejection.Message);
    }

    [Fact]
    public void Byte_order_mark_is_skipped()
    {
        var body = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(Body(Event()))).ToArray();
        var result = Parser().Parse(body, AllPrograms, Now);
        Assert.Single(result.Accepted);
    }

    [Fact]
    public void Unknown_body_properties_are_ignored() =>
        Assert.Single(Parse("{\"v\":1,\"events\":[" + Event().ToJsonString() + "],\"extra\":{\"a\":[1]}}").Accepted);

    [Fact]
    public void Same_event_id_twice_in_a_batch_is_accepted_twice()
    {
        var result = Parse(Body(Event(eventId: "dup"), Event(eventId: "dup")));
        Assert.Equal(2, result.Accepted.Count);
        Assert.Empty(result.Rejections);
    }

    [Fact]
    public void Outcomes_keep_batch_order_and_indexes()
    {
        var bad = Event(eventId: "bad-1");
        bad.Remove("timestamp");
        var result = Parse(Body(Event(eventId: "a"), bad, Event(eventId: "b"), JsonValue.Create(5)!));
        Assert.Equal(["a", "b"], result.Accepted.Select(e => e.EventId));
        Assert.Equal([1, 3], result.Rejections.Select(r => r.Index));
        Assert.Equal(["bad-1", null], result.Rejections.Select(r => r.EventId));
        Assert.Equal(2, result.RejectedEvents.Count);
        Assert.NotNull(result.RejectedEvents[0]);
        Assert.Null(result.RejectedEvents[1]); // not an object: nothing to keep
        Assert.Equal(4, result.ReceivedCount);
    }

    [Fact]
    public void Each_event_carries_the_pseudonym_of_its_own_user_when_users_repeat_in_a_batch()
    {
        // Pseudonyms are computed once per distinct userId of a batch; every event must still get its own user's.
        var users = new[] { "o6_alice", "o6_bob", "o6_alice", "o6_carol", "o6_bob", "o6_alice", "o6_dave" };
        var events = users.Select((u, i) =>
        {
            var e = Event(eventId: "e-" + i);
            e["userId"] = u;
            return (JsonNode)e;
        }).ToArray();
        var bad = Event(eventId: "bad");
        bad["userId"] = "o6_bob";
        bad.Props().Remove("scene");

        var result = Parse(Body([.. events, bad]));

        var pseudonymizer = new UserPseudonymizer(PseudonymisationKey);
        Assert.Equal(users.Select(pseudonymizer.Pseudonymize), result.Accepted.Select(e => e.UserKey));
        Assert.Equal(pseudonymizer.Pseudonymize("o6_bob"), JsonNode.Parse(Assert.Single(result.RejectedEvents)!)!["userId"]!.GetValue<string>());
    }

    [Fact]
    public void Rejected_event_json_has_the_pseudonym_never_the_raw_user_id()
    {
        var bad = Event(eventId: "bad");
        bad.Props().Remove("scene");
        var result = Parse(Body(bad));
        var json = Assert.Single(result.RejectedEvents)!;
        Assert.DoesNotContain(RawUserId, json);
        var stored = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(new UserPseudonymizer(PseudonymisationKey).Pseudonymize(RawUserId), stored["userId"]!.GetValue<string>());
        Assert.Equal("bad", stored["eventId"]!.GetValue<string>());
        Assert.Equal(840, stored["props"]!["loadMs"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("12345")]
    [InlineData("{\"id\":\"RAW-user-o6_bmjrPTlm6_2sgVt7hMZOPfL2M\"}")]
    public void Rejected_event_json_hides_a_user_id_of_any_json_type(string userIdJson)
    {
        var e = Event().ToJsonString().Replace("\"" + RawUserId + "\"", userIdJson);
        var result = Parse(BodyRaw(e));
        Assert.Equal(RejectionCodes.InvalidField, Assert.Single(result.Rejections).Code);
        var json = Assert.Single(result.RejectedEvents)!;
        Assert.DoesNotContain(RawUserId, json);
        Assert.DoesNotContain(userIdJson, json);
        Assert.Equal(43, JsonNode.Parse(json)!["userId"]!.GetValue<string>().Length); // 32 bytes of HMAC in base64url
    }

    [Fact]
    public void Valid_sent_at_is_reported()
    {
        var result = Parse(BodyWithSentAt("\"2026-11-23T10:15:30.123Z\"", Event()));
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 10, 15, 30, 123, TimeSpan.Zero), result.SentAt);
    }

    [Theory]
    [InlineData("\"yesterday\"")]
    [InlineData("\"2026-11-23T10:15:30\"")]
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("{}")]
    public void Invalid_sent_at_is_ignored_and_timestamps_used_as_sent(string sentAt)
    {
        var result = Parse(BodyWithSentAt(sentAt, Event()));
        Assert.Null(result.ErrorCode);
        Assert.Null(result.SentAt);
        Assert.Equal(DateTimeOffset.Parse(Timestamp).ToUnixTimeMilliseconds(), Assert.Single(result.Accepted).TimeMs);
    }

    [Fact]
    public void Invalid_utf8_rejects_only_its_event()
    {
        var good = Encoding.UTF8.GetBytes(Event(eventId: "good").ToJsonString());
        // The sessionId gets two bytes that are not UTF-8 (the JSON reader does not check string contents).
        var badText = Event(eventId: "bad").ToJsonString().Replace("s-98f2", "s-XX");
        var bad = Encoding.UTF8.GetBytes(badText);
        var at = badText.IndexOf("s-XX", StringComparison.Ordinal) + 2;
        bad[at] = 0xFF;
        bad[at + 1] = 0xFE;
        var body = "{\"events\":["u8.ToArray().Concat(good).Concat(","u8.ToArray()).Concat(bad).Concat("]}"u8.ToArray()).ToArray();
        var result = Parser().Parse(body, AllPrograms, Now);
        Assert.True(result.ErrorCode is null, result.ErrorMessage);
        Assert.Single(result.Accepted);
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal((RejectionCodes.InvalidField, "bad"), (rejection.Code, rejection.EventId));
        Assert.Contains("UTF-8", rejection.Message);
    }
}
