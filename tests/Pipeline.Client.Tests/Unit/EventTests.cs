using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pipeline.Client.Tests.Unit;

public sealed class EventTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 23, 10, 15, 1, TimeSpan.Zero);
    private static readonly PipelineClientOptions Options = ClientTestKit.Options(o => o.Platform = ClientPlatform.Ios);

    /// <summary>One event of every type of the contract, with the props the contract names.</summary>
    internal static IReadOnlyList<PipelineEvent> OneOfEach(string user = "u1", string session = "s1", DateTimeOffset? at = null) =>
    [
        new SessionStart { UserId = user, SessionId = session, Timestamp = at ?? At, Scene = 1011, LoadMs = 840, ReferrerMiniProgramId = "wxother" },
        new PageView { UserId = user, SessionId = session, Timestamp = at ?? At, Page = "pages/index/index", DurationMs = 3000 },
        new Share { UserId = user, SessionId = session, Timestamp = at ?? At, Target = ShareTarget.Moments, Page = "pages/index/index" },
        new OrderPaid { UserId = user, SessionId = session, Timestamp = at ?? At, OrderId = "o-" + session, Amount = 1000, Currency = "CNY", MerchantId = "m1" },
        new OrderRefunded { UserId = user, Timestamp = at ?? At, OrderId = "o-" + session, Amount = 500, Currency = "CNY", MerchantId = "m1" },
        new AdImpression { UserId = user, SessionId = session, Timestamp = at ?? At, AdUnitId = "ad-1", Revenue = 3, Currency = "CNY" },
        new AdClick { UserId = user, SessionId = session, Timestamp = at ?? At, AdUnitId = "ad-1" },
        new ErrorEvent { UserId = user, SessionId = session, Timestamp = at ?? At, Kind = ErrorKind.JsError, Message = new string('x', 2000) },
        new Complaint { UserId = user, Timestamp = at ?? At, Reason = "spam" },
        new PermissionDenied { UserId = user, Timestamp = at ?? At, Scope = "scope.userLocation" },
        new MiniProgramPublished { Timestamp = at ?? At, DeveloperId = "dev-1", Version = "1.2.0", Category = "food" },
        new CustomEvent { UserId = user, Timestamp = at ?? At, Name = "coupon_claimed", ExtraProps = new Dictionary<string, JsonNode?> { ["couponId"] = "c1", ["value"] = 5 } },
        new SessionEnd { UserId = user, SessionId = session, Timestamp = at ?? At, DurationMs = 61000 },
    ];

    private static JsonElement Json(PipelineEvent e) => JsonDocument.Parse(Encoding.UTF8.GetString(Wire.Serialize(e, Options))).RootElement;

    [Fact]
    public void Every_type_of_the_contract_has_its_wire_name()
    {
        var types = OneOfEach().Select(e => e.Type).ToList();
        Assert.Equal(
            ["session_start", "page_view", "share", "order_paid", "order_refunded", "ad_impression", "ad_click", "error", "complaint",
             "permission_denied", "mini_program_published", "custom.coupon_claimed", "session_end"],
            types);
        foreach (var e in OneOfEach()) Assert.Empty(Wire.Validate(e, Options));
    }

    [Fact]
    public void A_session_start_is_written_as_the_contract_shows()
    {
        var e = (SessionStart)OneOfEach()[0];
        Assert.Equal(
            $$$"""{"eventId":"{{{e.EventId}}}","type":"session_start","timestamp":"2026-11-23T10:15:01.000Z","userId":"u1","miniProgramId":"wxtest0001","sessionId":"s1","platform":"ios","props":{"scene":1011,"loadMs":840,"referrerMiniProgramId":"wxother"}}""",
            Encoding.UTF8.GetString(Wire.Serialize(e, Options)));
    }

    [Fact]
    public void Props_use_the_contract_spellings()
    {
        var all = OneOfEach().Select(Json).ToList();
        Assert.Equal("moments", all[2].GetProperty("props").GetProperty("target").GetString());
        Assert.Equal(1000, all[3].GetProperty("props").GetProperty("amount").GetInt64());
        Assert.Equal("CNY", all[3].GetProperty("props").GetProperty("currency").GetString());
        Assert.Equal("js_error", all[7].GetProperty("props").GetProperty("kind").GetString());
        Assert.Equal(1024, all[7].GetProperty("props").GetProperty("message").GetString()!.Length);
        Assert.False(all[10].TryGetProperty("userId", out _));
        Assert.Equal("c1", all[11].GetProperty("props").GetProperty("couponId").GetString());
        Assert.Equal(61000, all[12].GetProperty("props").GetProperty("durationMs").GetInt64());
    }

    [Fact]
    public void The_event_id_is_made_once_per_event_and_fits_the_contract()
    {
        var e = new PageView { UserId = "u", SessionId = "s", Page = "p" };
        Assert.Equal(e.EventId, e.EventId);
        Assert.True(Wire.IsEventId(e.EventId));
        Assert.NotEqual(e.EventId, new PageView { UserId = "u", SessionId = "s", Page = "p" }.EventId);
        Assert.Equal(Json(e).GetProperty("eventId").GetString(), Json(e).GetProperty("eventId").GetString());
    }

    [Fact]
    public async Task Events_that_break_the_contract_are_refused_at_track_time_with_the_reason()
    {
        await using var client = ClientTestKit.Client(new StubHandler());
        var noUser = Assert.Throws<ArgumentException>(() => client.Track(new PageView { SessionId = "s", Page = "p" }));
        Assert.Contains("userId is required", noUser.Message);
        var noSession = Assert.Throws<ArgumentException>(() => client.Track(new Share { UserId = "u", Target = ShareTarget.Chat }));
        Assert.Contains("sessionId is required", noSession.Message);
        Assert.Contains("props.amount", Assert.Throws<ArgumentException>(() => client.Track(new OrderPaid { UserId = "u", OrderId = "o", Amount = 0, Currency = "CNY", MerchantId = "m" })).Message);
        Assert.Contains("props.currency", Assert.Throws<ArgumentException>(() => client.Track(new OrderPaid { UserId = "u", OrderId = "o", Amount = 1, Currency = "yuan", MerchantId = "m" })).Message);
        Assert.Contains("currency is required with revenue", Assert.Throws<ArgumentException>(() => client.Track(new AdImpression { UserId = "u", SessionId = "s", AdUnitId = "a", Revenue = 1 })).Message);
        Assert.Contains("eventId", Assert.Throws<ArgumentException>(() => client.Track(new Complaint { UserId = "u", Reason = "r", EventId = "has space" })).Message);
        Assert.Contains("name must be", Assert.Throws<ArgumentException>(() => client.Track(new CustomEvent { UserId = "u", Name = "Bad-Name" })).Message);
        Assert.Contains("repeats", Assert.Throws<ArgumentException>(() => client.Track(new PageView { UserId = "u", SessionId = "s", Page = "p", ExtraProps = new Dictionary<string, JsonNode?> { ["page"] = "x" } })).Message);
        Assert.Contains("32768", Assert.Throws<ArgumentException>(() => client.Track(new CustomEvent { UserId = "u", Name = "big", ExtraProps = Enumerable.Range(0, 40).ToDictionary(i => $"k{i}", _ => (JsonNode?)new string('x', 1000)) })).Message);
        Assert.Equal(0, client.Statistics.Tracked);
    }

    [Fact]
    public void A_mini_program_id_is_needed_on_the_event_or_in_the_options()
    {
        var options = ClientTestKit.Options(o => o.MiniProgramId = null);
        Assert.Contains(Wire.Validate(new Complaint { UserId = "u", Reason = "r" }, options), m => m.StartsWith("miniProgramId", StringComparison.Ordinal));
        Assert.Empty(Wire.Validate(new Complaint { UserId = "u", Reason = "r", MiniProgramId = "wxown" }, options));
    }

    [Fact]
    public void Options_out_of_range_are_named()
    {
        Assert.Contains("Endpoint", Assert.Throws<ArgumentException>(() => ClientTestKit.Options(o => o.Endpoint = null).Validate()).Message);
        Assert.Contains("ApiKey", Assert.Throws<ArgumentException>(() => ClientTestKit.Options(o => o.ApiKey = " ").Validate()).Message);
        Assert.Contains("MaxBatchEvents", Assert.Throws<ArgumentException>(() => ClientTestKit.Options(o => o.MaxBatchEvents = 1001).Validate()).Message);
        Assert.Contains("MaxBatchBytes", Assert.Throws<ArgumentException>(() => ClientTestKit.Options(o => o.MaxBatchBytes = 5 * 1024 * 1024).Validate()).Message);
    }
}
