using System.Text.Json.Nodes;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>Per-event rules of the contract, each at and past its boundary.</summary>
public class EventValidationTests
{
    public static TheoryData<string> AllTypes => [.. Types];

    public static TheoryData<string, string> AllRequiredProps()
    {
        var data = new TheoryData<string, string>();
        foreach (var (type, prop) in RequiredProps) data.Add(type, prop);
        return data;
    }

    private static void AssertRejected(JsonNode e, string code, string? messagePart = null)
    {
        var rejection = Reject(e);
        Assert.Equal(code, rejection.Code);
        if (messagePart is not null) Assert.Contains(messagePart, rejection.Message);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Valid_event_of_every_type_is_accepted(string type)
    {
        var e = Accept(Event(type));
        Assert.Equal("e-1", e.EventId);
        Assert.Equal(DateTimeOffset.Parse(Timestamp).ToUnixTimeMilliseconds(), e.TimeMs);
        Assert.Equal("wx123", e.MiniProgramId);
        Assert.Equal(Platform.Ios, e.Platform);
        Assert.Equal(new UserPseudonymizer(PseudonymisationKey).Pseudonymize(RawUserId), e.UserKey);
    }

    [Theory]
    [MemberData(nameof(AllRequiredProps))]
    public void Missing_required_prop_is_missing_field(string type, string prop)
    {
        var e = Event(type);
        e.Props().Remove(prop);
        AssertRejected(e, RejectionCodes.MissingField, $"props.{prop} is required for {type}");
    }

    [Theory]
    [MemberData(nameof(AllRequiredProps))]
    public void Null_required_prop_is_missing_field(string type, string prop)
    {
        var e = Event(type);
        e.Props()[prop] = null;
        AssertRejected(e, RejectionCodes.MissingField, $"props.{prop}");
    }

    [Theory]
    [MemberData(nameof(AllRequiredProps))]
    public void Required_prop_of_the_wrong_json_type_is_invalid_field(string type, string prop)
    {
        var e = Event(type);
        e.Props()[prop] = new JsonObject();
        AssertRejected(e, RejectionCodes.InvalidField, $"props.{prop} must be");
    }

    [Fact]
    public void Types_without_props_need_none()
    {
        var e = Event("custom.level_up");
        e.Remove("props");
        Assert.Null(Accept(e).ExtraProps);
    }

    [Fact]
    public void Session_start_props_are_typed()
    {
        var e = Event("session_start");
        e.Props()["referrerMiniProgramId"] = "wx999";
        var accepted = Accept(e);
        Assert.Equal((1011, 840L, "wx999"), (accepted.Scene, accepted.LoadMs, accepted.ReferrerMiniProgramId));
        Assert.Null(accepted.ExtraProps);
    }

    [Theory]
    [InlineData("\"1011\"")]
    [InlineData("1011.5")]
    [InlineData("1011.0")]
    [InlineData("1e3")]
    [InlineData("3000000000")]
    [InlineData("true")]
    public void Scene_must_be_an_integer(string scene)
    {
        var e = Event("session_start");
        e.Props()["scene"] = JsonNode.Parse(scene);
        AssertRejected(e, RejectionCodes.InvalidField, "props.scene must be an integer");
    }

    [Theory]
    [InlineData("order_paid", "amount", "-5", "props.amount must be an integer > 0 (minor units); got -5.")]
    [InlineData("order_paid", "amount", "0", "props.amount must be an integer > 0 (minor units); got 0.")]
    [InlineData("order_refunded", "amount", "\"100\"", "props.amount must be an integer > 0 (minor units); got string \"100\".")]
    [InlineData("order_paid", "amount", "19.9", "props.amount must be an integer > 0 (minor units); got 19.9.")]
    [InlineData("ad_impression", "revenue", "-1", "props.revenue must be an integer >= 0 (minor units); got -1.")]
    [InlineData("session_start", "loadMs", "-1", "props.loadMs must be an integer >= 0 (milliseconds); got -1.")]
    [InlineData("session_end", "durationMs", "-1", "props.durationMs must be an integer >= 0 (milliseconds); got -1.")]
    [InlineData("page_view", "durationMs", "\"5s\"", "props.durationMs must be an integer >= 0 (milliseconds); got string \"5s\".")]
    [InlineData("share", "target", "\"email\"", "props.target must be one of chat, group, moments; got string \"email\".")]
    [InlineData("error", "kind", "\"fatal\"", "props.kind must be one of js_error, crash, network, other; got string \"fatal\".")]
    [InlineData("error", "message", "42", "props.message must be a string; got 42.")]
    [InlineData("order_paid", "orderId", "\"\"", "props.orderId must be a string of 1 to 128 characters; got an empty string.")]
    [InlineData("order_paid", "merchantId", "7", "props.merchantId must be a string of 1 to 128 characters; got 7.")]
    public void Invalid_named_props_name_the_field_and_the_value(string type, string prop, string json, string message)
    {
        var e = Event(type);
        e.Props()[prop] = JsonNode.Parse(json);
        var rejection = Reject(e);
        Assert.Equal(RejectionCodes.InvalidField, rejection.Code);
        Assert.Equal(message, rejection.Message);
    }

    [Theory]
    [InlineData("order_paid", "amount", 0L, false)]
    [InlineData("order_paid", "amount", 1L, true)]
    [InlineData("ad_impression", "revenue", 0L, true)]
    [InlineData("ad_impression", "revenue", -1L, false)]
    [InlineData("session_end", "durationMs", 0L, true)]
    [InlineData("session_start", "loadMs", 0L, true)]
    public void Integer_bounds(string type, string prop, long value, bool ok)
    {
        var e = Event(type);
        e.Props()[prop] = value;
        if (ok) Accept(e);
        else AssertRejected(e, RejectionCodes.InvalidField, $"props.{prop}");
    }

    [Theory]
    [InlineData("orderId")]
    [InlineData("merchantId")]
    public void Identifier_props_are_1_to_128_characters(string prop)
    {
        var e = Event("order_paid");
        e.Props()[prop] = new string('o', 128);
        Accept(e);
        e.Props()[prop] = new string('o', 129);
        AssertRejected(e, RejectionCodes.InvalidField, "got a string of 129 characters");
    }

    [Theory]
    [InlineData("complaint", "reason")]
    [InlineData("permission_denied", "scope")]
    [InlineData("mini_program_published", "developerId")]
    [InlineData("mini_program_published", "version")]
    [InlineData("mini_program_published", "category")]
    [InlineData("ad_click", "adUnitId")]
    [InlineData("session_start", "referrerMiniProgramId")]
    public void Other_text_props_are_1_to_128_characters(string type, string prop)
    {
        var e = Event(type);
        e.Props()[prop] = new string('r', 128);
        Accept(e);
        e.Props()[prop] = new string('r', 129);
        AssertRejected(e, RejectionCodes.InvalidField, $"props.{prop}");
        e.Props()[prop] = "";
        AssertRejected(e, RejectionCodes.InvalidField, $"props.{prop}");
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(256, true)]
    [InlineData(257, false)]
    [InlineData(0, false)]
    public void Page_is_1_to_256_characters(int length, bool ok)
    {
        foreach (var type in new[] { "page_view", "share" })
        {
            var e = Event(type);
            e.Props()["page"] = new string('p', length);
            if (ok) Assert.Equal(length, Accept(e).Page!.Length);
            else AssertRejected(e, RejectionCodes.InvalidField, "props.page");
        }
    }

    [Theory]
    [InlineData("CNY", "CNY")]
    [InlineData("usd", "USD")]
    [InlineData("Eur", "EUR")]
    public void Currency_is_three_letters_normalised_to_upper_case(string sent, string stored)
    {
        var e = Event("order_paid");
        e.Props()["currency"] = sent;
        Assert.Equal(stored, Accept(e).Currency);
    }

    [Theory]
    [InlineData("US")]
    [InlineData("USDD")]
    [InlineData("U$D")]
    [InlineData("ÜSD")]
    [InlineData("")]
    public void Other_currencies_are_invalid(string currency)
    {
        var e = Event("order_paid");
        e.Props()["currency"] = currency;
        AssertRejected(e, RejectionCodes.InvalidField, "props.currency must be a 3-letter ISO-4217 code");
    }

    [Fact]
    public void Ad_revenue_needs_its_currency()
    {
        var e = Event("ad_impression");
        e.Props().Remove("currency");
        AssertRejected(e, RejectionCodes.MissingField, "props.currency is required when props.revenue is present");
        e.Props().Remove("revenue");
        var accepted = Accept(e);
        Assert.Null(accepted.Revenue);
        e.Props()["revenue"] = 12;
        e.Props()["currency"] = "CNY";
        Assert.Equal((12L, "CNY"), (Accept(e).Revenue, Accept(e).Currency));
    }

    [Fact]
    public void Typed_props_of_the_other_types()
    {
        var order = Accept(Event("order_paid"));
        Assert.Equal(("o-1", 1990L, "CNY", "m-1"), (order.OrderId, order.Amount, order.Currency, order.MerchantId));
        Assert.Equal(ShareTarget.Group, Accept(Event("share")).ShareTarget);
        var error = Accept(Event("error"));
        Assert.Equal((ErrorKind.JsError, "TypeError: x is undefined"), (error.ErrorKind, error.Message));
        var published = Accept(Event("mini_program_published"));
        Assert.Equal(("dev-1", "1.2.3", "tools"), (published.DeveloperId, published.Version, published.Category));
        Assert.Equal("fraud", Accept(Event("complaint")).Reason);
        Assert.Equal("scope.userLocation", Accept(Event("permission_denied")).Scope);
        Assert.Equal("adunit-1", Accept(Event("ad_click")).AdUnitId);
        Assert.Equal(60000L, Accept(Event("session_end")).DurationMs);
        var custom = Accept(Event("custom.level_up"));
        Assert.Equal((EventType.Custom, "level_up"), (custom.Type, custom.CustomName));
    }

    [Theory]
    [InlineData(1024, 1024)]
    [InlineData(1025, 1024)]
    [InlineData(5000, 1024)]
    public void Error_message_is_truncated_not_rejected(int length, int stored)
    {
        var e = Event("error");
        e.Props()["message"] = new string('m', length);
        Assert.Equal(stored, Accept(e).Message!.Length);
    }

    [Fact]
    public void Error_message_truncation_does_not_split_a_surrogate_pair()
    {
        var e = Event("error");
        e.Props()["message"] = new string('m', 1023) + "😀😀";
        Assert.Equal(new string('m', 1023), Accept(e).Message);
    }

    // ---- common fields ----

    [Theory]
    [InlineData("a", true)]
    [InlineData("4f1c2a7e-3b7d-4e0a-9c55-0b0f1f1e2d3c", true)]
    [InlineData("A-z_0.9:x", true)]
    [InlineData("", false)]
    [InlineData("a b", false)]
    [InlineData("a/b", false)]
    [InlineData("é", false)]
    public void Event_id_charset(string eventId, bool ok)
    {
        var e = Event(eventId: eventId);
        if (ok) Assert.Equal(eventId, Accept(e).EventId);
        else
        {
            var rejection = Reject(e);
            Assert.Equal((RejectionCodes.InvalidField, (string?)null), (rejection.Code, rejection.EventId));
            Assert.StartsWith("eventId must be", rejection.Message);
        }
    }

    [Fact]
    public void Event_id_is_1_to_64_characters()
    {
        Accept(Event(eventId: new string('e', 64)));
        AssertRejected(Event(eventId: new string('e', 65)), RejectionCodes.InvalidField, "eventId");
        var e = Event();
        e["eventId"] = 42;
        AssertRejected(e, RejectionCodes.InvalidField, "eventId must be");
    }

    [Theory]
    [InlineData("eventId")]
    [InlineData("type")]
    [InlineData("timestamp")]
    [InlineData("userId")]
    [InlineData("miniProgramId")]
    public void Missing_common_field_is_missing_field(string field)
    {
        var e = Event();
        e.Remove(field);
        AssertRejected(e, RejectionCodes.MissingField, field + " is required");
        e[field] = null;
        AssertRejected(e, RejectionCodes.MissingField, field + " is required");
    }

    [Theory]
    [InlineData("custom.a", true)]
    [InlineData("custom.level_2_up", true)]
    [InlineData("custom.Level", false)]
    [InlineData("custom.", false)]
    [InlineData("custom.a-b", false)]
    [InlineData("custom", false)]
    [InlineData("Session_start", false)]
    [InlineData("session_begin", false)]
    [InlineData("", false)]
    public void Type_is_known_or_a_valid_custom_name(string type, bool ok)
    {
        var e = Event(type);
        if (ok) Accept(e);
        else AssertRejected(e, RejectionCodes.UnknownType, "type");
    }

    [Fact]
    public void Custom_name_is_1_to_64_characters()
    {
        Assert.Equal(new string('n', 64), Accept(Event("custom." + new string('n', 64))).CustomName);
        AssertRejected(Event("custom." + new string('n', 65)), RejectionCodes.UnknownType);
    }

    [Fact]
    public void Type_that_is_not_a_string_is_invalid_field()
    {
        var e = Event();
        e["type"] = 1;
        AssertRejected(e, RejectionCodes.InvalidField, "type must be a string");
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(128, true)]
    [InlineData(129, false)]
    [InlineData(0, false)]
    public void User_id_is_1_to_128_characters_and_never_echoed(int length, bool ok)
    {
        var e = Event();
        e["userId"] = new string('U', length);
        if (ok)
        {
            Assert.Equal(new UserPseudonymizer(PseudonymisationKey).Pseudonymize(new string('U', length)), Accept(e).UserKey);
            return;
        }
        var rejection = Reject(e);
        Assert.Equal(RejectionCodes.InvalidField, rejection.Code);
        Assert.Equal($"userId must be 1 to 128 characters; got {length}.", rejection.Message);
    }

    [Fact]
    public void User_id_of_another_json_type_is_invalid_and_not_echoed()
    {
        var e = Event();
        e["userId"] = 123456789;
        var rejection = Reject(e);
        Assert.Equal(RejectionCodes.InvalidField, rejection.Code);
        Assert.DoesNotContain("123456789", rejection.Message);
    }

    [Fact]
    public void Published_event_needs_no_user_and_no_session()
    {
        var e = Event("mini_program_published");
        e.Remove("userId");
        e.Remove("sessionId");
        var accepted = Accept(e);
        Assert.Null(accepted.UserKey);
        Assert.Null(accepted.SessionId);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(64, true)]
    [InlineData(65, false)]
    [InlineData(0, false)]
    public void Mini_program_id_is_1_to_64_characters(int length, bool ok)
    {
        var e = Event();
        e["miniProgramId"] = new string('w', length);
        if (ok) Accept(e);
        else AssertRejected(e, RejectionCodes.InvalidField, "miniProgramId must be");
    }

    [Theory]
    [InlineData("wx-1_A", true)]
    [InlineData("wx.1", false)]
    [InlineData("wx 1", false)]
    [InlineData("wx:1", false)]
    public void Mini_program_id_charset(string id, bool ok)
    {
        var e = Event();
        e["miniProgramId"] = id;
        if (ok) Accept(e);
        else AssertRejected(e, RejectionCodes.InvalidField, "miniProgramId must be");
    }

    [Theory]
    [InlineData("session_start", true)]
    [InlineData("session_end", true)]
    [InlineData("page_view", true)]
    [InlineData("share", true)]
    [InlineData("error", true)]
    [InlineData("ad_impression", true)]
    [InlineData("ad_click", true)]
    [InlineData("order_paid", false)]
    [InlineData("order_refunded", false)]
    [InlineData("complaint", false)]
    [InlineData("permission_denied", false)]
    [InlineData("mini_program_published", false)]
    [InlineData("custom.x", false)]
    public void Session_id_is_required_for_session_types_only(string type, bool required)
    {
        var e = Event(type);
        e.Remove("sessionId");
        if (required) AssertRejected(e, RejectionCodes.MissingField, $"sessionId is required for {type}");
        else Assert.Null(Accept(e).SessionId);
    }

    [Fact]
    public void Order_keeps_an_optional_session_id() => Assert.Equal("s-98f2", Accept(Event("order_paid")).SessionId);

    [Theory]
    [InlineData(128, true)]
    [InlineData(129, false)]
    [InlineData(0, false)]
    public void Session_id_is_1_to_128_characters(int length, bool ok)
    {
        var e = Event();
        e["sessionId"] = new string('s', length);
        if (ok) Accept(e);
        else AssertRejected(e, RejectionCodes.InvalidField, "sessionId must be");
    }

    [Theory]
    [InlineData("ios", Platform.Ios)]
    [InlineData("android", Platform.Android)]
    [InlineData("harmony", Platform.Harmony)]
    [InlineData("windows", Platform.Windows)]
    [InlineData("mac", Platform.Mac)]
    [InlineData("devtools", Platform.Devtools)]
    [InlineData("other", Platform.Other)]
    public void Known_platforms(string name, Platform platform)
    {
        var e = Event();
        e["platform"] = name;
        Assert.Equal(platform, Accept(e).Platform);
    }

    [Fact]
    public void Platform_is_optional_but_must_be_known()
    {
        var e = Event();
        e.Remove("platform");
        Assert.Equal(Platform.Unknown, Accept(e).Platform);
        e["platform"] = "linux";
        AssertRejected(e, RejectionCodes.InvalidField, "platform must be one of");
        e["platform"] = "IOS";
        AssertRejected(e, RejectionCodes.InvalidField, "platform must be one of");
        e["platform"] = 1;
        AssertRejected(e, RejectionCodes.InvalidField, "platform must be one of");
    }

    [Theory]
    [InlineData("\"2026-11-23T10:15:01\"")]
    [InlineData("\"2026-11-23\"")]
    [InlineData("\"1795428901000\"")]
    [InlineData("1795428901000.5")]
    [InlineData("{}")]
    public void Timestamp_must_have_an_offset_or_be_integer_milliseconds(string json)
    {
        var e = Event();
        e["timestamp"] = JsonNode.Parse(json);
        AssertRejected(e, RejectionCodes.InvalidField, "timestamp must be ISO-8601 with an offset or Z, or integer Unix milliseconds");
    }

    [Fact]
    public void Timestamp_as_unix_milliseconds_or_with_an_offset()
    {
        var e = Event();
        e["timestamp"] = 1795428901000;
        Assert.Equal(1795428901000, Accept(e).TimeMs);
        e["timestamp"] = "2026-11-23T18:15:01.000+08:00";
        Assert.Equal(1795428901000, Accept(e).TimeMs);
    }

    // ---- time window and skew ----

    private static JsonObject At(DateTimeOffset timestamp)
    {
        var e = Event();
        e["timestamp"] = timestamp.ToUnixTimeMilliseconds();
        return e;
    }

    [Fact]
    public void Window_boundaries_without_sent_at()
    {
        Assert.Equal(Now.AddMinutes(10).ToUnixTimeMilliseconds(), Accept(At(Now.AddMinutes(10))).TimeMs);
        AssertRejected(At(Now.AddMinutes(10).AddMilliseconds(1)), RejectionCodes.TimestampOutOfRange, "more than 10 minutes ahead");
        Assert.Equal(Now.AddDays(-30).ToUnixTimeMilliseconds(), Accept(At(Now.AddDays(-30))).TimeMs);
        AssertRejected(At(Now.AddDays(-30).AddMilliseconds(-1)), RejectionCodes.TimestampOutOfRange, "more than 30 days behind");
    }

    [Fact]
    public void Skew_correction_uses_sent_at()
    {
        // The device clock is 2 hours ahead: it says it sent at Now+2h an event from Now+2h-3min.
        var sentAt = Now.AddHours(2);
        var e = At(sentAt.AddMinutes(-3));
        var result = Parse(BodyWithSentAt($"\"{sentAt:O}\"", e));
        Assert.Equal(Now.AddMinutes(-3).ToUnixTimeMilliseconds(), Assert.Single(result.Accepted).TimeMs);
        Assert.Equal(sentAt, result.SentAt);
    }

    [Theory]
    [InlineData(10 * 60_000L, true)]
    [InlineData(10 * 60_000L + 1, false)]
    [InlineData(-30 * 86_400_000L, true)]
    [InlineData(-30 * 86_400_000L - 1, false)]
    public void Window_boundaries_after_correction(long correctedOffsetMs, bool ok)
    {
        // The device clock is a year behind; only the corrected time decides.
        var sentAt = Now.AddDays(-365);
        var e = At(sentAt.AddMilliseconds(correctedOffsetMs));
        var result = Parse(BodyWithSentAt(sentAt.ToUnixTimeMilliseconds().ToString(), e));
        if (ok) Assert.Equal(Now.AddMilliseconds(correctedOffsetMs).ToUnixTimeMilliseconds(), Assert.Single(result.Accepted).TimeMs);
        else Assert.Equal(RejectionCodes.TimestampOutOfRange, Assert.Single(result.Rejections).Code);
    }

    [Fact]
    public void Invalid_sent_at_leaves_timestamps_uncorrected()
    {
        var e = At(Now.AddDays(-365));
        var result = Parse(BodyWithSentAt("\"not a time\"", e));
        Assert.Equal(RejectionCodes.TimestampOutOfRange, Assert.Single(result.Rejections).Code);
    }

    // ---- props limits ----

    [Fact]
    public void Props_may_have_64_keys_not_65()
    {
        var e = Event("custom.x");
        for (var i = 0; e.Props().Count < 64; i++) e.Props()["k" + i] = i;
        Assert.Equal(64, JsonNode.Parse(Accept(e).ExtraProps!)!.AsObject().Count);
        e.Props()["one_more"] = 1;
        AssertRejected(e, RejectionCodes.InvalidField, "props has more than 64 keys");
    }

    [Fact]
    public void Named_props_count_towards_the_64_keys()
    {
        var e = Event("order_paid"); // 4 named props
        for (var i = 0; i < 60; i++) e.Props()["k" + i] = i;
        Accept(e);
        e.Props()["k60"] = 60;
        AssertRejected(e, RejectionCodes.InvalidField, "props has more than 64 keys");
    }

    [Theory]
    [InlineData(1024, true)]
    [InlineData(1025, false)]
    public void Prop_string_values_are_at_most_1024_characters(int length, bool ok)
    {
        var top = Event("custom.x");
        top.Props()["note"] = new string('n', length);
        var nested = Event("custom.x");
        nested.Props()["list"] = new JsonArray(new JsonObject { ["note"] = new string('n', length) });
        if (ok)
        {
            Accept(top);
            Accept(nested);
        }
        else
        {
            AssertRejected(top, RejectionCodes.InvalidField, "props.note is 1025 characters");
            AssertRejected(nested, RejectionCodes.InvalidField, "props.list contains a string of 1025 characters");
        }
    }

    [Fact]
    public void String_length_counts_utf16_units_of_the_unescaped_text()
    {
        var e = Event("custom.x");
        e.Props()["zh"] = new string('中', 1024);
        Accept(e);
        e.Props()["zh"] = new string('中', 1025);
        AssertRejected(e, RejectionCodes.InvalidField, "props.zh");
        // \n escapes count as one character each.
        var escaped = Event("custom.x").ToJsonString().Replace("\"level\":3", "\"text\":\"" + string.Concat(Enumerable.Repeat("\\n", 1024)) + "\"");
        Assert.Empty(Parse(BodyRaw(escaped)).Rejections);
    }

    private static JsonNode Nest(int containers, bool arrays)
    {
        JsonNode node = JsonValue.Create(1)!;
        for (var i = 0; i < containers; i++) node = arrays ? new JsonArray(node) : new JsonObject { ["x"] = node };
        return node;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Props_nest_at_most_4_levels(bool arrays)
    {
        // props is level 1, so 3 containers inside it reach level 4.
        var e = Event("custom.x");
        e.Props()["deep"] = Nest(3, arrays);
        Assert.Contains("\"deep\"", Accept(e).ExtraProps);
        e.Props()["deep"] = Nest(4, arrays);
        AssertRejected(e, RejectionCodes.InvalidField, "props.deep nests deeper than 4 levels");
    }

    // ---- structure ----

    [Theory]
    [InlineData("5", "a number")]
    [InlineData("\"e\"", "a string")]
    [InlineData("[]", "an array")]
    [InlineData("null", "null")]
    public void Event_must_be_an_object(string json, string kind)
    {
        var rejection = RejectRaw(json);
        Assert.Equal((RejectionCodes.InvalidField, (string?)null), (rejection.Code, rejection.EventId));
        Assert.Equal($"events[0] must be a JSON object; got {kind}.", rejection.Message);
    }

    [Fact]
    public void Props_must_be_an_object()
    {
        var e = Event();
        e["props"] = new JsonArray();
        AssertRejected(e, RejectionCodes.InvalidField, "props must be a JSON object");
    }

    [Theory]
    [InlineData("\"eventId\":\"e-1\",", "eventId", null)]
    [InlineData("\"type\":\"session_end\",", "type", "e-1")]
    [InlineData("\"extra\":1,\"extra\":2,", "extra", "e-1")]
    public void Repeated_event_property_is_invalid_field(string insert, string name, string? eventId)
    {
        var json = Event().ToJsonString().Insert(1, insert);
        var rejection = RejectRaw(json);
        Assert.Equal((RejectionCodes.InvalidField, eventId), (rejection.Code, rejection.EventId));
        Assert.Contains($"\"{name}\" more than once", rejection.Message);
    }

    [Theory]
    [InlineData("\"scene\":1,")]
    [InlineData("\"loadMs\":1,\"loadMs\":2,")]
    [InlineData("\"x\":1,\"x\":1,")]
    [InlineData("\"\\u0073cene\":1,")] // the same name, escaped
    public void Repeated_prop_is_invalid_field(string insert)
    {
        var json = Event().ToJsonString().Replace("\"props\":{", "\"props\":{" + insert);
        var rejection = RejectRaw(json);
        Assert.Equal(RejectionCodes.InvalidField, rejection.Code);
        Assert.Contains("more than once", rejection.Message);
        Assert.StartsWith("props has the property", rejection.Message);
    }

    [Fact]
    public void Repeated_name_in_a_nested_prop_object_is_invalid_field()
    {
        var json = Event("custom.x").ToJsonString().Replace("\"props\":{", "\"props\":{\"o\":{\"a\":1,\"a\":2},");
        var rejection = RejectRaw(json);
        Assert.Equal(RejectionCodes.InvalidField, rejection.Code);
        Assert.Contains("props.o has an object with the property \"a\" more than once", rejection.Message);
    }

    [Fact]
    public void Unknown_top_level_fields_are_ignored() =>
        Accept(JsonNode.Parse(Event().ToJsonString().Insert(1, "\"future\":{\"a\":[1,2]},"))!);

    // ---- extra props ----

    [Fact]
    public void Unknown_props_pass_through_in_extra_props()
    {
        var e = Event("session_start");
        e.Props()["abTest"] = "B";
        e.Props()["nested"] = new JsonObject { ["x"] = new JsonArray(1, 2), ["中文"] = "值" };
        e.Props()["nothing"] = null;
        var accepted = Accept(e);
        Assert.Equal(1011, accepted.Scene);
        Assert.Equal("{\"abTest\":\"B\",\"nested\":{\"x\":[1,2],\"中文\":\"值\"},\"nothing\":null}", accepted.ExtraProps);
    }

    [Fact]
    public void Props_named_for_another_type_are_extra()
    {
        var e = Event("page_view");
        e.Props()["amount"] = "not checked here";
        Assert.Equal("{\"amount\":\"not checked here\"}", Accept(e).ExtraProps);
    }

    [Fact]
    public void Custom_event_keeps_all_props_as_extra()
    {
        var e = Event("custom.level_up");
        e.Props()["scene"] = "anything";
        Assert.Equal("{\"level\":3,\"scene\":\"anything\"}", Accept(e).ExtraProps);
    }

    [Fact]
    public void Extra_props_do_not_leak_between_events()
    {
        var withExtra = Event(eventId: "a");
        withExtra.Props()["x"] = 1;
        var result = Parse(Body(withExtra, Event(eventId: "b")));
        Assert.Equal("{\"x\":1}", result.Accepted[0].ExtraProps);
        Assert.Null(result.Accepted[1].ExtraProps);
    }

    // ---- size ----

    [Fact]
    public void Event_of_exactly_32_KiB_is_accepted_one_byte_more_is_too_large()
    {
        var e = PadTo(Event("custom.x"), IngestLimits.MaxEventBytes);
        Accept(e);
        var bigger = PadTo(Event("custom.x"), IngestLimits.MaxEventBytes + 1);
        var rejection = Reject(bigger);
        Assert.Equal((RejectionCodes.EventTooLarge, "e-1"), (rejection.Code, rejection.EventId));
        Assert.Equal("The event is 32769 bytes of JSON; at most 32768 are allowed.", rejection.Message);
    }

    // ---- authorisation ----

    [Fact]
    public void Source_may_write_only_its_mini_programs()
    {
        Accept(Event(), OnlyWx123);
        var e = Event();
        e["miniProgramId"] = "wx999";
        var rejection = Reject(e, OnlyWx123);
        Assert.Equal((RejectionCodes.ForbiddenMiniProgram, "e-1"), (rejection.Code, rejection.EventId));
        Assert.Contains("wx999", rejection.Message);
        Accept(e, AllPrograms);
    }

    // ---- order of checks ----

    [Fact]
    public void First_problem_is_reported_in_the_documented_order()
    {
        // structure before fields
        var e = Event(eventId: "bad id");
        e["type"] = "nope";
        e["props"] = 5;
        Assert.StartsWith("props must be", Reject(e).Message);
        // eventId before type
        e["props"] = new JsonObject();
        Assert.StartsWith("eventId", Reject(e).Message);
        // type before the other fields
        e["eventId"] = "ok";
        e.Remove("timestamp");
        Assert.Equal(RejectionCodes.UnknownType, Reject(e).Code);
        // fields before size
        var big = PadTo(Event("custom.x"), 40_000);
        big["platform"] = "linux";
        Assert.Equal(RejectionCodes.InvalidField, Reject(big).Code);
        // size before time window
        big["platform"] = "ios";
        big["timestamp"] = Now.AddDays(-60).ToUnixTimeMilliseconds();
        Assert.Equal(RejectionCodes.EventTooLarge, Reject(big).Code);
        // time window before authorisation
        var late = At(Now.AddDays(-60));
        late["miniProgramId"] = "wx999";
        Assert.Equal(RejectionCodes.TimestampOutOfRange, Reject(late, OnlyWx123).Code);
    }
}
