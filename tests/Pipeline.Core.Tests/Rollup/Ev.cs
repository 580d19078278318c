using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>Builds accepted events and reads rows for the rollup tests.</summary>
internal static class Ev
{
    private static int _next;

    private static string NextId() => $"ev{Interlocked.Increment(ref _next):D6}";

    /// <summary>Unix ms of a time on a day (UTC; the engine only compares times, the day comes from the caller).</summary>
    public static long At(DateOnly day, int hour, int minute = 0, int second = 0, int ms = 0) =>
        new DateTimeOffset(day.ToDateTime(new TimeOnly(hour, minute, second, ms)), TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static PipelineEvent Start(string user, string mp, string session, long time, int scene, Platform platform = Platform.Ios, long? loadMs = null, string? id = null) => new()
    {
        EventId = id ?? NextId(), Type = EventType.SessionStart, TimeMs = time, UserKey = user, MiniProgramId = mp,
        SessionId = session, Scene = scene, Platform = platform, LoadMs = loadMs,
    };

    public static PipelineEvent End(string user, string mp, string session, long time, long durationMs) => new()
    {
        EventId = NextId(), Type = EventType.SessionEnd, TimeMs = time, UserKey = user, MiniProgramId = mp, SessionId = session, DurationMs = durationMs,
    };

    public static PipelineEvent PageView(string user, string mp, string session, long time, string page, long? durationMs = null, string? id = null) => new()
    {
        EventId = id ?? NextId(), Type = EventType.PageView, TimeMs = time, UserKey = user, MiniProgramId = mp, SessionId = session, Page = page, DurationMs = durationMs,
    };

    public static PipelineEvent Share(string user, string mp, string session, long time, string? page = null) => new()
    {
        EventId = NextId(), Type = EventType.Share, TimeMs = time, UserKey = user, MiniProgramId = mp, SessionId = session, ShareTarget = ShareTarget.Chat, Page = page,
    };

    public static PipelineEvent Paid(string user, string mp, string merchant, string order, long amount, string currency, long time, string? session = null, string? id = null) => new()
    {
        EventId = id ?? NextId(), Type = EventType.OrderPaid, TimeMs = time, UserKey = user, MiniProgramId = mp, SessionId = session,
        MerchantId = merchant, OrderId = order, Amount = amount, Currency = currency,
    };

    public static PipelineEvent Refund(string user, string mp, string merchant, string order, long amount, string currency, long time) => new()
    {
        EventId = NextId(), Type = EventType.OrderRefunded, TimeMs = time, UserKey = user, MiniProgramId = mp, MerchantId = merchant, OrderId = order, Amount = amount, Currency = currency,
    };

    public static PipelineEvent Error(string user, string mp, string session, long time, ErrorKind kind) => new()
    {
        EventId = NextId(), Type = EventType.Error, TimeMs = time, UserKey = user, MiniProgramId = mp, SessionId = session, ErrorKind = kind,
    };

    public static PipelineEvent Simple(EventType type, string user, string mp, long time, string? session = null, long? revenue = null, string? currency = null) => new()
    {
        EventId = NextId(), Type = type, TimeMs = time, UserKey = user, MiniProgramId = mp, SessionId = session, Revenue = revenue, Currency = currency,
        AdUnitId = type is EventType.AdImpression or EventType.AdClick ? "ad1" : null,
    };

    public static PipelineEvent Custom(string user, string mp, string name, long time) => new()
    {
        EventId = NextId(), Type = EventType.Custom, CustomName = name, TimeMs = time, UserKey = user, MiniProgramId = mp,
    };

    public static PipelineEvent Publish(string mp, string developer, long time, string? id = null) => new()
    {
        EventId = id ?? NextId(), Type = EventType.MiniProgramPublished, TimeMs = time, MiniProgramId = mp, DeveloperId = developer, Version = "1.0.0",
    };

    public static RollupEngine Engine(double commission = 0.006) => new(SceneTable.Default, commission);

    /// <summary>Splits events into user shards the way the event store does.</summary>
    public static IReadOnlyList<IReadOnlyList<PipelineEvent>> Sharded(IEnumerable<PipelineEvent> events, int shards)
    {
        var lists = new List<PipelineEvent>[shards];
        for (var i = 0; i < shards; i++) lists[i] = [];
        foreach (var e in events) lists[UserShard.Of(e.UserKey, shards)].Add(e);
        return lists;
    }

    public static DayResult Roll(this RollupEngine engine, DateOnly day, WindowState previous, params PipelineEvent[] events) =>
        engine.RollUp(day, [events], previous);

    public static MetricRow? Find(this DayResult result, string metric, string dimension = "total", string value = "")
    {
        foreach (var r in result.Rows)
            if (r.Metric == metric && r.Dimension == dimension && r.DimensionValue == value) return r;
        return null;
    }

    /// <summary>The value of a row that must exist.</summary>
    public static double V(this DayResult result, string metric, string dimension = "total", string value = "") =>
        (result.Find(metric, dimension, value) ?? throw new Xunit.Sdk.XunitException($"No row {metric}|{dimension}|{value} on {result.Day}.")).Value;

    public static void AssertRatio(this DayResult result, string metric, double numerator, double denominator, string dimension = "total", string value = "")
    {
        var row = result.Find(metric, dimension, value) ?? throw new Xunit.Sdk.XunitException($"No row {metric}|{dimension}|{value} on {result.Day}.");
        Assert.Equal(numerator, row.Numerator);
        Assert.Equal(denominator, row.Denominator);
        Assert.Equal(numerator / denominator, row.Value, 12);
    }

    public static void AssertNoRow(this DayResult result, string metric, string dimension = "total", string value = "") =>
        Assert.Null(result.Find(metric, dimension, value));

    /// <summary>Rolls consecutive days from an empty state, each with its events (days without an entry are empty).</summary>
    public static List<DayResult> RollDays(this RollupEngine engine, DateOnly first, int count, Func<DateOnly, PipelineEvent[]> eventsOf, WindowState? start = null)
    {
        var state = start ?? WindowState.Empty();
        var results = new List<DayResult>();
        for (var i = 0; i < count; i++)
        {
            var day = first.AddDays(i);
            var r = engine.RollUp(day, [eventsOf(day)], state);
            results.Add(r);
            state = r.State;
        }
        return results;
    }
}
