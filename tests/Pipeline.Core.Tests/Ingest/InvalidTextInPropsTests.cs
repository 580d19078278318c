using System.Text;
using Pipeline.Core.Events;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>
/// Text that is not valid UTF-8 inside an event rejects that event alone (<c>invalid_field</c>,
/// docs/security.md "Invalid UTF-8"), wherever it is in <c>props</c>: a named prop, an unknown prop's value
/// or name, or a string nested in one. Found by the independent fuzz oracle: unknown props with raw invalid
/// bytes used to be accepted and stored with the bytes replaced by U+FFFD, so the stored text was not what
/// was sent.
/// </summary>
public class InvalidTextInPropsTests
{
    /// <summary>An event whose JSON text has <paramref name="placeholder"/> (ASCII) replaced by the byte 0xFF, which UTF-8 never uses.</summary>
    private static byte[] WithInvalidByte(string eventJson, string placeholder)
    {
        var bytes = Encoding.UTF8.GetBytes(BodyRaw(eventJson));
        var at = bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(placeholder));
        Assert.True(at >= 0, "placeholder not found");
        bytes[at] = 0xFF;
        return bytes;
    }

    public static TheoryData<string, string> Places => new()
    {
        { "{\"note\":\"a#b\"}", "unknown prop's value" },
        { "{\"list\":[{\"note\":\"a#b\"}]}", "string nested in an unknown prop" },
        { "{\"n#te\":\"ab\"}", "unknown prop's name" },
        { "{\"obj\":{\"k#y\":1}}", "name nested in an unknown prop" },
    };

    [Theory]
    [MemberData(nameof(Places))]
    public void Invalid_utf8_anywhere_in_props_rejects_the_event(string props, string where)
    {
        var json = Event("custom.level_up").ToJsonString().Replace("{\"level\":3}", props, StringComparison.Ordinal);
        var result = Parser().Parse(WithInvalidByte(json, "#"), AllPrograms, Now);

        Assert.Null(result.ErrorCode);
        Assert.True(result.Accepted.Count == 0, $"{where}: accepted with props {result.Accepted.FirstOrDefault()?.ExtraProps}");
        var rejection = Assert.Single(result.Rejections);
        Assert.Equal(RejectionCodes.InvalidField, rejection.Code);
        Assert.Contains("UTF-8", rejection.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_in_a_prop_of_one_event_keeps_the_rest_of_the_batch()
    {
        var bad = Event("custom.level_up", "bad").ToJsonString().Replace("{\"level\":3}", "{\"note\":\"a#b\"}", StringComparison.Ordinal);
        var good = Event("custom.level_up", "good").ToJsonString();
        var bytes = Encoding.UTF8.GetBytes(BodyRaw(bad, good));
        bytes[bytes.AsSpan().IndexOf("#"u8)] = 0xFF;

        var result = Parser().Parse(bytes, AllPrograms, Now);

        Assert.Equal(["good"], result.Accepted.Select(e => e.EventId));
        Assert.Equal((0, "bad"), (Assert.Single(result.Rejections).Index, Assert.Single(result.Rejections).EventId));
    }

    [Fact]
    public void Valid_non_ascii_text_in_props_is_kept_as_sent()
    {
        // The control: the check refuses only what is not UTF-8, not text outside ASCII.
        var e = Event("custom.level_up");
        e.Props()["note"] = "中文 😀";
        e.Props()["键"] = new System.Text.Json.Nodes.JsonObject { ["名"] = "值" };
        var kept = System.Text.Json.Nodes.JsonNode.Parse(Accept(e).ExtraProps!)!;
        Assert.Equal(("中文 😀", "值"), (kept["note"]!.GetValue<string>(), kept["键"]!["名"]!.GetValue<string>()));
    }
}
