using System.Globalization;
using System.Text.Json.Nodes;
using Pipeline.Core.Time;

namespace Pipeline.Integration.Tests.Faults;

/// <summary>
/// A deterministic few days of ecosystem activity, cut into client batches: users with sessions
/// (entry scene, load time, page views, shares) and orders, over <see cref="DayCount"/> reporting
/// days ending two days ago in Asia/Shanghai. Small enough for a quick test, varied enough that a
/// lost or doubled batch moves DAU, sessions, orders or GMV.
/// </summary>
internal sealed class FaultDataset
{
    public const int DayCount = 4;
    private const int Users = 30;
    private const int EventsPerBatch = 12;
    private static readonly int[] Scenes = [1001, 1007, 1011, 1089];

    public FaultDataset(TimeProvider time)
    {
        var calendar = new ReportingCalendar("Asia/Shanghai");
        LastDay = calendar.DayOf(time.GetUtcNow()).AddDays(-2);
        FirstDay = LastDay.AddDays(-(DayCount - 1));
        var random = new Random(20261123);
        var events = new List<JsonObject>();
        var orders = 0;
        for (var day = FirstDay; day <= LastDay; day = day.AddDays(1))
        {
            var start = calendar.StartOf(day);
            for (var u = 0; u < Users; u++)
            {
                if (random.NextDouble() < 0.35) continue; // not active that day
                var user = $"fu{u:D2}";
                var sessions = 1 + random.Next(2);
                for (var s = 0; s < sessions; s++)
                {
                    var at = start.AddMinutes(60 + random.Next(20 * 60));
                    var session = $"{user}-{day:MMdd}-{s}";
                    var platform = u % 3 == 0 ? "android" : "ios";
                    events.Add(Event("session_start", at, user, session, platform, new JsonObject { ["scene"] = Scenes[random.Next(Scenes.Length)], ["loadMs"] = 300 + random.Next(1500) }));
                    var pages = 1 + random.Next(3);
                    for (var p = 0; p < pages; p++)
                        events.Add(Event("page_view", at.AddSeconds(5 + p * 20), user, session, platform, new JsonObject { ["page"] = $"/pages/p{p}", ["durationMs"] = 1000 + random.Next(9000) }));
                    if (random.NextDouble() < 0.2)
                        events.Add(Event("share", at.AddSeconds(70), user, session, platform, new JsonObject { ["target"] = "chat" }));
                    if (random.NextDouble() < 0.3)
                    {
                        orders++;
                        events.Add(Event("order_paid", at.AddSeconds(80), user, session, platform, new JsonObject
                        {
                            ["orderId"] = $"fo{orders}",
                            ["amount"] = 100 * (1 + random.Next(50)),
                            ["currency"] = "CNY",
                            ["merchantId"] = $"m{random.Next(4)}",
                        }));
                    }
                    events.Add(Event("session_end", at.AddSeconds(100 + random.Next(200)), user, session, platform, new JsonObject { ["durationMs"] = 100_000 }));
                }
            }
        }

        EventCount = events.Count;
        for (var i = 0; i < events.Count; i++) events[i]["eventId"] = $"fe{i:D5}";
        // Batches mix users and days, as an SDK's offline queue would.
        var order = events.OrderBy(_ => random.Next()).ToList();
        Batches = order.Chunk(EventsPerBatch)
            .Select(chunk => new JsonObject { ["events"] = new JsonArray(chunk.Select(e => (JsonNode)e.DeepClone()).ToArray()) }.ToJsonString())
            .ToList();
    }

    public DateOnly FirstDay { get; }
    public DateOnly LastDay { get; }

    /// <summary>The days whose metrics are compared: the dataset's days and yesterday (rolled with no events, through the windows).</summary>
    public IReadOnlyList<DateOnly> ComparedDays => Enumerable.Range(0, DayCount + 1).Select(i => FirstDay.AddDays(i)).ToList();

    public int EventCount { get; }

    /// <summary>Request bodies; a client retries a batch with exactly the same body (the same eventIds).</summary>
    public IReadOnlyList<string> Batches { get; }

    private const string MiniProgram = "wxfault000000000001";

    private static JsonObject Event(string type, DateTimeOffset at, string user, string session, string platform, JsonObject props) => new()
    {
        ["type"] = type,
        ["timestamp"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        ["userId"] = user,
        ["sessionId"] = session,
        ["miniProgramId"] = MiniProgram,
        ["platform"] = platform,
        ["props"] = props,
    };
}
