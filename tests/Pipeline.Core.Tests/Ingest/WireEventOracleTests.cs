using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Core.Ports;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>
/// The fuzz test's event oracle on its own, against the contract's examples (docs/ingest-contract.md): for each
/// family of rules, events just inside the rule are accepted and events just past it are refused by that rule.
/// Without these, an oracle that accepted everything the product accepts would agree with any product bug.
/// </summary>
public class WireEventOracleTests
{
    private static WireVerdict Judge(JsonNode e, string? sentAtJson = null, SourceRegistration? source = null) =>
        JudgeRaw(Encoding.UTF8.GetBytes(e.ToJsonString()), sentAtJson, source);

    private static WireVerdict JudgeRaw(byte[] eventJson, string? sentAtJson = null, SourceRegistration? source = null)
    {
        using var e = JsonDocument.Parse(eventJson);
        using var sentAt = sentAtJson is null ? null : JsonDocument.Parse(sentAtJson);
        return WireEventOracle.Check(e.RootElement, sentAt?.RootElement, source ?? AllPrograms, Now);
    }

    private static void Accepted(JsonNode e, string? sentAtJson = null, SourceRegistration? source = null)
    {
        var verdict = Judge(e, sentAtJson, source);
        Assert.True(verdict.Accepted, verdict.ToString());
    }

    private static void Refused(WireRule rule, JsonNode e, string? sentAtJson = null, SourceRegistration? source = null) =>
        Assert.Equal(rule, Judge(e, sentAtJson, source).Rule);

    private static JsonObject With(JsonObject e, string field, JsonNode? value)
    {
        e[field] = value;
        return e;
    }

    private static JsonObject WithProp(JsonObject e, string prop, JsonNode? value)
    {
        e.Props()[prop] = value;
        return e;
    }

    private static JsonObject Without(JsonObject e, string field)
    {
        e.Remove(field);
        return e;
    }

    public static TheoryData<string> AllTypes => [.. Types];

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void A_valid_event_of_every_type_is_accepted(string type) => Accepted(Event(type));

    [Fact]
    public void Structure_an_object_without_repeated_names_and_props_an_object()
    {
        Refused(WireRule.Structure, JsonValue.Create(5)!);
        Refused(WireRule.Structure, new JsonArray(Event()));
        Refused(WireRule.Structure, With(Event(), "props", new JsonArray()));
        var json = Event("custom.x").ToJsonString();
        Assert.Equal(WireRule.Structure, JudgeRaw(Encoding.UTF8.GetBytes(json.Insert(1, "\"future\":1,\"future\":2,"))).Rule);
        Assert.Equal(WireRule.Structure, JudgeRaw(Encoding.UTF8.GetBytes(json.Replace("\"props\":{", "\"props\":{\"\\u006cevel\":1,"))).Rule);
        Assert.Equal(WireRule.Structure, JudgeRaw(Encoding.UTF8.GetBytes(json.Replace("\"props\":{", "\"props\":{\"o\":[{\"a\":1,\"a\":2}],"))).Rule);
        // Unknown top-level fields are ignored (forward compatibility), and null is an absent field.
        Assert.True(JudgeRaw(Encoding.UTF8.GetBytes(json.Insert(1, "\"future\":{\"a\":[1,2]},"))).Accepted);
        Accepted(With(Event("custom.x"), "props", null));
    }

    [Fact]
    public void Text_that_is_not_unicode_refuses_the_event()
    {
        var json = Event("custom.x").ToJsonString().Replace("\"level\":3", "\"note\":\"a#b\"");
        var bytes = Encoding.UTF8.GetBytes(json);
        bytes[Array.IndexOf(bytes, (byte)'#')] = 0xFF;
        Assert.Equal(WireRule.Text, JudgeRaw(bytes).Rule);
        Assert.Equal(WireRule.Text, JudgeRaw(Encoding.UTF8.GetBytes(json.Replace("a#b", "\\ud800"))).Rule);
        Accepted(WithProp(Event("custom.x"), "note", "中文 😀"));
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("A-z_0.9:x", true)]
    [InlineData("", false)]
    [InlineData("a b", false)]
    [InlineData("é", false)]
    public void EventId_is_1_to_64_of_its_characters(string id, bool ok)
    {
        if (ok) Accepted(With(Event(), "eventId", id));
        else Refused(WireRule.EventId, With(Event(), "eventId", id));
    }

    [Fact]
    public void EventId_length_type_and_presence()
    {
        Accepted(With(Event(), "eventId", new string('e', 64)));
        Refused(WireRule.EventId, With(Event(), "eventId", new string('e', 65)));
        Refused(WireRule.EventId, With(Event(), "eventId", 7));
        Refused(WireRule.EventId, Without(Event(), "eventId"));
    }

    [Theory]
    [InlineData("custom.level_2_up", true)]
    [InlineData("custom.", false)]
    [InlineData("custom.Level", false)]
    [InlineData("custom.a-b", false)]
    [InlineData("SESSION_START", false)]
    [InlineData("session_begin", false)]
    public void Type_is_a_contract_type_or_a_custom_name(string type, bool ok)
    {
        var e = Event("custom.x");
        if (ok) Accepted(With(e, "type", type));
        else Refused(WireRule.Type, With(e, "type", type));
    }

    [Fact]
    public void Custom_name_length_and_presence_of_type()
    {
        Accepted(With(Event("custom.x"), "type", "custom." + new string('a', 64)));
        Refused(WireRule.Type, With(Event("custom.x"), "type", "custom." + new string('a', 65)));
        Refused(WireRule.Type, Without(Event(), "type"));
    }

    [Theory]
    [InlineData("\"2026-11-23T18:15:01.000+08:00\"", true)]
    [InlineData("\"2026-11-23T10:15:01Z\"", true)]
    [InlineData("1795428901000", true)]
    [InlineData("\"2026-11-23T10:15:01\"", false)]
    [InlineData("\"2026-11-23\"", false)]
    [InlineData("\"1795428901000\"", false)]
    [InlineData("1795428901000.5", false)]
    [InlineData("1.795428901e12", false)]
    [InlineData("true", false)]
    public void Timestamp_has_an_offset_or_is_integer_milliseconds(string json, bool ok)
    {
        var e = With(Event(), "timestamp", JsonNode.Parse(json));
        if (ok) Accepted(e);
        else Refused(WireRule.Timestamp, e);
    }

    [Fact]
    public void UserId_is_1_to_128_characters_and_only_a_published_event_may_omit_it()
    {
        Accepted(With(Event(), "userId", new string('u', 128)));
        Accepted(With(Event(), "userId", "😀用户")); // any characters
        Refused(WireRule.UserId, With(Event(), "userId", new string('u', 129)));
        Refused(WireRule.UserId, With(Event(), "userId", ""));
        Refused(WireRule.UserId, With(Event(), "userId", 42));
        Refused(WireRule.UserId, Without(Event(), "userId"));
        Accepted(Without(Without(Event("mini_program_published"), "userId"), "sessionId"));
        Refused(WireRule.UserId, With(Event("mini_program_published"), "userId", "")); // optional there, but valid when sent
    }

    [Fact]
    public void MiniProgramId_is_1_to_64_of_its_characters_and_on_the_source_list()
    {
        Accepted(With(Event(), "miniProgramId", new string('w', 64)));
        Accepted(With(Event(), "miniProgramId", "wx-1_A"));
        Refused(WireRule.MiniProgramId, With(Event(), "miniProgramId", new string('w', 65)));
        Refused(WireRule.MiniProgramId, With(Event(), "miniProgramId", "wx.1"));
        Refused(WireRule.MiniProgramId, Without(Event(), "miniProgramId"));

        Accepted(Event(), source: OnlyWx123);
        Refused(WireRule.AllowList, With(Event(), "miniProgramId", "wx999"), source: OnlyWx123);
        Accepted(With(Event(), "miniProgramId", "wx999"), source: AllPrograms);
    }

    [Theory]
    [InlineData("page_view", true)]
    [InlineData("ad_click", true)]
    [InlineData("order_paid", false)]
    [InlineData("custom.x", false)]
    public void SessionId_is_required_by_the_session_types_only(string type, bool required)
    {
        if (required) Refused(WireRule.SessionId, Without(Event(type), "sessionId"));
        else Accepted(Without(Event(type), "sessionId"));
        Accepted(With(Event(type), "sessionId", new string('s', 128)));
        Refused(WireRule.SessionId, With(Event(type), "sessionId", new string('s', 129)));
    }

    [Fact]
    public void Platform_is_optional_but_one_of_the_contracts()
    {
        Accepted(Without(Event(), "platform"));
        Accepted(With(Event(), "platform", "harmony"));
        Refused(WireRule.Platform, With(Event(), "platform", "linux"));
        Refused(WireRule.Platform, With(Event(), "platform", "IOS"));
    }

    [Fact]
    public void Props_hold_at_most_64_keys()
    {
        var e = Event("order_paid"); // its 4 named props count too
        for (var i = 0; e.Props().Count < 64; i++) e.Props()["k" + i] = i;
        Accepted(e);
        Refused(WireRule.PropCount, WithProp(e, "one_more", 1));
    }

    [Fact]
    public void Prop_strings_are_at_most_1024_characters_except_the_cut_error_message()
    {
        Accepted(WithProp(Event("custom.x"), "note", new string('n', 1024)));
        Refused(WireRule.PropStringLength, WithProp(Event("custom.x"), "note", new string('n', 1025)));
        Refused(WireRule.PropStringLength, WithProp(Event("custom.x"), "list", new JsonArray(new JsonObject { ["note"] = new string('n', 1025) })));
        Accepted(WithProp(Event("error"), "message", new string('m', 5000)));
        Refused(WireRule.PropStringLength, WithProp(Event("custom.x"), "message", new string('m', 1025))); // not the error's message there
    }

    [Fact]
    public void Props_nest_at_most_4_levels()
    {
        // props is level 1: three containers inside it reach level 4.
        Accepted(WithProp(Event("custom.x"), "deep", new JsonArray(new JsonArray(new JsonArray(1)))));
        Refused(WireRule.PropDepth, WithProp(Event("custom.x"), "deep", new JsonArray(new JsonArray(new JsonArray(new JsonArray(1))))));
        Refused(WireRule.PropDepth, WithProp(Event("custom.x"), "deep", new JsonObject { ["a"] = new JsonObject { ["b"] = new JsonObject { ["c"] = new JsonObject() } } }));
    }

    [Theory]
    [InlineData("session_start", "scene", "1011.0")]
    [InlineData("session_start", "scene", "3000000000")]
    [InlineData("session_start", "scene", "\"1011\"")]
    [InlineData("session_start", "loadMs", "-1")]
    [InlineData("session_end", "durationMs", "1e3")]
    [InlineData("page_view", "page", "\"\"")]
    [InlineData("share", "target", "\"email\"")]
    [InlineData("order_paid", "amount", "0")]
    [InlineData("order_refunded", "currency", "\"US\"")]
    [InlineData("order_paid", "currency", "\"ÜSD\"")]
    [InlineData("order_paid", "orderId", "7")]
    [InlineData("ad_impression", "revenue", "-1")]
    [InlineData("error", "kind", "\"fatal\"")]
    [InlineData("error", "message", "42")]
    [InlineData("mini_program_published", "category", "\"\"")]
    public void Named_props_follow_their_rules(string type, string prop, string json) =>
        Refused(WireRule.PropValue, WithProp(Event(type), prop, JsonNode.Parse(json)));

    [Theory]
    [InlineData("session_start", "scene", "-5")]
    [InlineData("session_end", "durationMs", "0")]
    [InlineData("order_paid", "amount", "1")]
    [InlineData("order_paid", "currency", "\"usd\"")]
    [InlineData("ad_impression", "revenue", "0")]
    [InlineData("page_view", "amount", "\"named only for orders\"")]
    [InlineData("custom.x", "scene", "\"anything\"")]
    public void Named_props_within_their_rules_and_props_named_for_another_type_pass(string type, string prop, string json) =>
        Accepted(WithProp(Event(type), prop, JsonNode.Parse(json)));

    [Fact]
    public void Page_is_1_to_256_characters()
    {
        Accepted(WithProp(Event("page_view"), "page", new string('p', 256)));
        Refused(WireRule.PropValue, WithProp(Event("page_view"), "page", new string('p', 257)));
        Refused(WireRule.PropValue, WithProp(Event("share"), "page", new string('p', 257)));
    }

    public static TheoryData<string, string> AllRequiredProps()
    {
        var data = new TheoryData<string, string>();
        foreach (var (type, prop) in RequiredProps) data.Add(type, prop);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllRequiredProps))]
    public void Every_required_prop_is_required_and_null_is_absent(string type, string prop)
    {
        var e = Event(type);
        e.Props().Remove(prop);
        Refused(WireRule.RequiredProp, e);
        Refused(WireRule.RequiredProp, WithProp(Event(type), prop, null));
    }

    [Fact]
    public void Revenue_needs_its_currency_and_optional_props_may_be_left_out()
    {
        var e = Event("ad_impression");
        e.Props().Remove("currency");
        Refused(WireRule.RequiredProp, e);
        e.Props().Remove("revenue");
        Accepted(e);
        var start = Event("session_start");
        start.Props().Remove("loadMs");
        Accepted(start);
    }

    [Fact]
    public void An_event_is_at_most_32_KiB_of_json()
    {
        Accepted(PadTo(Event("custom.x"), 32 * 1024));
        Refused(WireRule.EventSize, PadTo(Event("custom.x"), 32 * 1024 + 1));
    }

    private static JsonObject At(DateTimeOffset time) => With(Event(), "timestamp", time.ToUnixTimeMilliseconds());

    [Fact]
    public void Time_window_is_10_minutes_ahead_to_30_days_behind_both_inclusive()
    {
        Accepted(At(Now.AddMinutes(10)));
        Refused(WireRule.TimeWindow, At(Now.AddMinutes(10).AddMilliseconds(1)));
        Accepted(At(Now.AddDays(-30)));
        Refused(WireRule.TimeWindow, At(Now.AddDays(-30).AddMilliseconds(-1)));
    }

    [Fact]
    public void A_valid_sent_at_corrects_the_clock_and_an_invalid_one_is_ignored()
    {
        // The device clock is a year behind: only the corrected time, receivedAt - (sentAt - timestamp), decides.
        var sentAt = Now.AddDays(-365);
        var sentAtMs = sentAt.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        Accepted(At(sentAt.AddMinutes(-3)), sentAtMs);
        Accepted(At(sentAt.AddMinutes(10)), $"\"{sentAt:O}\"");
        Refused(WireRule.TimeWindow, At(sentAt.AddMinutes(10).AddMilliseconds(1)), sentAtMs);
        Refused(WireRule.TimeWindow, At(sentAt.AddDays(-30).AddMilliseconds(-1)), sentAtMs);
        // Without a usable sentAt the timestamp is taken as sent: a year old.
        Refused(WireRule.TimeWindow, At(sentAt.AddMinutes(-3)), "true");
        Refused(WireRule.TimeWindow, At(sentAt.AddMinutes(-3)), "\"2026-11-23T10:15:30\"");
    }
}
