using System.Text;
using System.Text.Json.Nodes;
using Pipeline.Core.Events;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>Valid events of every type, and helpers to parse them, for the ingest tests.</summary>
internal static class IngestTestData
{
    public static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 16, 0, TimeSpan.Zero);
    public const string PseudonymisationKey = "test-pseudonymisation-key-0123456789abcdef";
    public const string RawUserId = "RAW-user-o6_bmjrPTlm6_2sgVt7hMZOPfL2M";
    public const string Timestamp = "2026-11-23T10:15:01.000Z";

    public static readonly SourceRegistration AllPrograms = new("payments", true, [], Now.AddDays(-100));
    public static readonly SourceRegistration OnlyWx123 = new("wx-sdk", false, ["wx123"], Now.AddDays(-100));

    public static readonly string[] Types =
    [
        "session_start", "session_end", "page_view", "share", "order_paid", "order_refunded", "ad_impression",
        "ad_click", "error", "complaint", "permission_denied", "mini_program_published", "custom.level_up",
    ];

    /// <summary>Every (type, required prop) pair of the contract.</summary>
    public static readonly (string Type, string Prop)[] RequiredProps =
    [
        ("session_start", "scene"), ("session_end", "durationMs"), ("page_view", "page"), ("share", "target"),
        ("order_paid", "orderId"), ("order_paid", "amount"), ("order_paid", "currency"), ("order_paid", "merchantId"),
        ("order_refunded", "orderId"), ("order_refunded", "amount"), ("order_refunded", "currency"), ("order_refunded", "merchantId"),
        ("ad_impression", "adUnitId"), ("ad_click", "adUnitId"), ("error", "kind"), ("complaint", "reason"),
        ("permission_denied", "scope"), ("mini_program_published", "developerId"), ("mini_program_published", "version"),
    ];

    public static JsonObject PropsFor(string type) => type switch
    {
        "session_start" => new() { ["scene"] = 1011, ["loadMs"] = 840 },
        "session_end" => new() { ["durationMs"] = 60000 },
        "page_view" => new() { ["page"] = "pages/index/index", ["durationMs"] = 1200 },
        "share" => new() { ["target"] = "group", ["page"] = "pages/item/item" },
        "order_paid" or "order_refunded" => new() { ["orderId"] = "o-1", ["amount"] = 1990, ["currency"] = "CNY", ["merchantId"] = "m-1" },
        "ad_impression" => new() { ["adUnitId"] = "adunit-1", ["revenue"] = 12, ["currency"] = "CNY" },
        "ad_click" => new() { ["adUnitId"] = "adunit-1" },
        "error" => new() { ["kind"] = "js_error", ["message"] = "TypeError: x is undefined" },
        "complaint" => new() { ["reason"] = "fraud" },
        "permission_denied" => new() { ["scope"] = "scope.userLocation" },
        "mini_program_published" => new() { ["developerId"] = "dev-1", ["version"] = "1.2.3", ["category"] = "tools" },
        _ => new() { ["level"] = 3 },
    };

    public static JsonObject Event(string type = "session_start", string eventId = "e-1")
    {
        var e = new JsonObject
        {
            ["eventId"] = eventId,
            ["type"] = type,
            ["timestamp"] = Timestamp,
            ["userId"] = RawUserId,
            ["miniProgramId"] = "wx123",
            ["sessionId"] = "s-98f2",
            ["platform"] = "ios",
            ["props"] = PropsFor(type),
        };
        return e;
    }

    public static JsonObject Props(this JsonObject e) => (JsonObject)e["props"]!;

    public static string Body(params JsonNode[] events) => BodyRaw(events.Select(e => e.ToJsonString()).ToArray());

    public static string BodyRaw(params string[] events) => "{\"events\":[" + string.Join(",", events) + "]}";

    public static string BodyWithSentAt(string sentAtJson, params JsonNode[] events) =>
        "{\"sentAt\":" + sentAtJson + ",\"events\":[" + string.Join(",", events.Select(e => e.ToJsonString())) + "]}";

    public static BatchParser Parser() => new(new UserPseudonymizer(PseudonymisationKey));

    public static BatchParseResult Parse(string body, SourceRegistration? source = null, DateTimeOffset? receivedAt = null) =>
        Parser().Parse(Encoding.UTF8.GetBytes(body), source ?? AllPrograms, receivedAt ?? Now);

    public static PipelineEvent Accept(JsonNode e, SourceRegistration? source = null)
    {
        var result = Parse(Body(e), source);
        Assert.Null(result.ErrorCode);
        Assert.True(result.Rejections.Count == 0, result.Rejections.Count == 0 ? "" : result.Rejections[0].Code + ": " + result.Rejections[0].Message);
        return Assert.Single(result.Accepted);
    }

    public static Rejection Reject(JsonNode e, SourceRegistration? source = null) => RejectRaw(e.ToJsonString(), source);

    public static Rejection RejectRaw(string eventJson, SourceRegistration? source = null)
    {
        var result = Parse(BodyRaw(eventJson), source);
        Assert.Null(result.ErrorCode);
        Assert.Empty(result.Accepted);
        return Assert.Single(result.Rejections);
    }

    /// <summary>Adds string props until the event's compact JSON is exactly <paramref name="bytes"/> long (ASCII only).</summary>
    public static JsonObject PadTo(JsonObject e, int bytes)
    {
        var props = e.Props();
        var i = 0;
        while (true)
        {
            var length = Encoding.UTF8.GetByteCount(e.ToJsonString());
            var missing = bytes - length;
            if (missing == 0) return e;
            Assert.True(missing > 0, "already too long");
            // A new prop costs name ("padNN":"") + comma; fill its value with at most 1000 characters.
            var name = $"pad{i++:D2}";
            var overhead = name.Length + 6;
            if (missing <= overhead)
            {
                // Too little room for a new prop: lengthen the previous one instead.
                var prev = $"pad{i - 2:D2}";
                props[prev] = props[prev]!.GetValue<string>() + new string('x', missing);
                continue;
            }
            props[name] = new string('x', Math.Min(1000, missing - overhead));
        }
    }
}
