using Pipeline.Core.Events;

namespace Pipeline.Integration.Tests.Infrastructure;

internal static class TestEvents
{
    public static PipelineEvent PageView(string eventId, string userKey = "u1", string miniProgramId = "wx_a", long timeMs = 4_102_444_800_000) => new()
    {
        EventId = eventId,
        Type = EventType.PageView,
        TimeMs = timeMs,
        UserKey = userKey,
        MiniProgramId = miniProgramId,
        SessionId = "s-" + userKey,
        Platform = Platform.Ios,
        Page = "/pages/index",
        DurationMs = 1200,
    };

    public static PipelineEvent OrderPaid(string eventId) => new()
    {
        EventId = eventId,
        Type = EventType.OrderPaid,
        TimeMs = 4_102_444_900_000,
        UserKey = "buyer",
        MiniProgramId = "wx_shop",
        OrderId = "o-" + eventId,
        Amount = 9_900,
        Currency = "CNY",
        MerchantId = "m-1",
        Platform = Platform.Android,
        ExtraProps = """{"coupon":"X1"}""",
    };
}
