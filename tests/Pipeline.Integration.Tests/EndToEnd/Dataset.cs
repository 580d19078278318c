using System.Globalization;
using System.Text.Json.Nodes;
using Pipeline.Core.Time;

namespace Pipeline.Integration.Tests.EndToEnd;

/// <summary>
/// A small hand-checked dataset around reporting day <see cref="Day"/> (two days ago in
/// Asia/Shanghai), with the numbers a rollup must give written out by hand.
/// </summary>
internal sealed class Dataset
{
    public Dataset(TimeProvider time, string miniProgram = "wxe2e0000000000001")
    {
        var calendar = new ReportingCalendar("Asia/Shanghai");
        Day = calendar.DayOf(time.GetUtcNow()).AddDays(-2);
        DayStart = calendar.StartOf(Day);
        MiniProgram = miniProgram;
    }

    public DateOnly Day { get; }
    public DateTimeOffset DayStart { get; }
    public string MiniProgram { get; }

    // u3 starts on the day before (new then), and comes back on Day: retention_d1 on Day = 1/1.
    // On Day: u1 (qr, ios, 800 ms, 61 s of session, pays 10.00 CNY), u2 (share, android, 1200 ms, shares), u3 (recent, 500 ms).
    public const int ExpectedDau = 3;
    public const int ExpectedNewUsers = 2;
    public const int ExpectedEngagedUsers = 2;
    public const int ExpectedLoadP95 = 1200;
    public const long ExpectedGmvCny = 1000;
    public const int EventsOnDay = 9;
    public const int EventsOnDayBefore = 1;

    public JsonArray Events(string prefix = "e") => new(
        Event($"{prefix}0", "session_start", DayStart.AddHours(-3), "u3", "s0", new JsonObject { ["scene"] = 1001, ["loadMs"] = 700 }, "ios"),
        Event($"{prefix}1", "session_start", DayStart.AddHours(1), "u1", "s1", new JsonObject { ["scene"] = 1011, ["loadMs"] = 800 }, "ios"),
        Event($"{prefix}2", "page_view", DayStart.AddHours(1).AddSeconds(5), "u1", "s1", new JsonObject { ["page"] = "/pages/index", ["durationMs"] = 3000 }),
        Event($"{prefix}3", "order_paid", DayStart.AddHours(1).AddSeconds(30), "u1", "s1", new JsonObject { ["orderId"] = "o1", ["amount"] = 1000, ["currency"] = "CNY", ["merchantId"] = "m1" }),
        Event($"{prefix}4", "session_end", DayStart.AddHours(1).AddSeconds(61), "u1", "s1", new JsonObject { ["durationMs"] = 61000 }),
        Event($"{prefix}5", "session_start", DayStart.AddHours(2), "u2", "s2", new JsonObject { ["scene"] = 1007, ["loadMs"] = 1200 }, "android"),
        Event($"{prefix}6", "share", DayStart.AddHours(2).AddSeconds(10), "u2", "s2", new JsonObject { ["target"] = "chat" }),
        Event($"{prefix}7", "session_end", DayStart.AddHours(2).AddSeconds(20), "u2", "s2", new JsonObject { ["durationMs"] = 20000 }),
        Event($"{prefix}8", "session_start", DayStart.AddHours(3), "u3", "s3", new JsonObject { ["scene"] = 1001, ["loadMs"] = 500 }, "ios"),
        Event($"{prefix}9", "mini_program_published", DayStart.AddHours(4), null, null, new JsonObject { ["developerId"] = "dev-1", ["version"] = "1.0.0" }));

    public string Body(string prefix = "e") => new JsonObject
    {
        ["events"] = Events(prefix),
    }.ToJsonString();

    private JsonObject Event(string id, string type, DateTimeOffset at, string? user, string? session, JsonObject props, string? platform = null)
    {
        var e = new JsonObject
        {
            ["eventId"] = id,
            ["type"] = type,
            ["timestamp"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["miniProgramId"] = MiniProgram,
            ["props"] = props,
        };
        if (user is not null) e["userId"] = user;
        if (session is not null) e["sessionId"] = session;
        if (platform is not null) e["platform"] = platform;
        return e;
    }
}
