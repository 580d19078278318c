using System.Text;
using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;
using Pipeline.Core.Tests.Differential;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// The streaming roll's less common paths against the event roll: a scene table with more channels than a
/// user's channel bits hold (distinct users per channel from the 33rd channel on), session id strings
/// shared by several sessions (other users, other mini-programs) met in every order, with orders looking
/// their session up, more page views than one batch of visitor lookups, users switching between
/// mini-programs (each user's last (user, mini-program) pair is its hint) and currencies named like
/// mini-programs.
/// </summary>
public sealed class BlockRollWideTests
{
    private static readonly DateOnly D = new(2026, 11, 23);

    /// <summary>40 channels c00 … c39, scene 2000 + i in channel ci.</summary>
    private static SceneTable WideScenes()
    {
        var channels = string.Join(", ", Enumerable.Range(0, 40).Select(i => $"\"c{i:00}\": [{2000 + i}]"));
        var json = $$"""{"defaultChannel": "other", "defaultSource": 10, "channels": { {{channels}} }, "sources": [{"source": 1, "scenes": [2000]}]}""";
        return SceneTable.Parse(new MemoryStream(Encoding.UTF8.GetBytes(json)));
    }

    private static void AssertSameAsEventRoll(SceneTable scenes, List<PipelineEvent> events, WindowState previous, int seed)
    {
        var engine = new RollupEngine(scenes, 0.006);
        var fromEvents = engine.RollShard(D, events, previous);
        var fromBlocks = engine.RollShard(D, BlockRollDifferentialTests.Blocks(events, new Random(seed)), previous);
        Assert.Equal(ShardPartialCodec.Encode(fromEvents.Partial), ShardPartialCodec.Encode(fromBlocks.Partial));
        Assert.Equal(WindowStateCodec.Encode(fromEvents.State), WindowStateCodec.Encode(fromBlocks.State));
    }

    [Fact]
    public void Users_per_channel_count_each_user_once_in_every_one_of_forty_channels()
    {
        // Each user starts sessions in many channels (some twice), so channel indexes go past 31.
        var random = new Random(11);
        var events = new List<PipelineEvent>();
        for (var u = 0; u < 12; u++)
            for (var k = 0; k < 60; k++)
            {
                var scene = 2000 + random.Next(40);
                events.Add(Start($"u{u}", $"mp{k % 3}", $"u{u}-s{k}", At(D, 8) + random.Next(1_000_000), scene, (Platform)random.Next(8)));
            }
        var ordered = events.OrderBy(_ => random.Next()).ToList();
        AssertSameAsEventRoll(WideScenes(), ordered, WindowState.Empty(), 1);

        var engine = new RollupEngine(WideScenes(), 0.006);
        var dau = engine.RollShard(D, BlockRollDifferentialTests.Blocks(ordered, new Random(2)), WindowState.Empty()).Partial.Aggregate;
        foreach (var c in Enumerable.Range(0, 40).Select(i => $"c{i:00}"))
        {
            var users = events.Where(e => WideScenes().ChannelOf(e.Scene ?? 0) == c).Select(e => e.UserKey).Distinct().Count();
            Assert.Equal(users, dau.Get("users.dau", "channel", c));
        }
    }

    [Fact]
    public void Page_visitors_are_distinct_across_several_batches_of_visits_and_rolls()
    {
        // 5,000 page views (several batches of visitor lookups), users revisiting pages in later batches.
        var random = new Random(9);
        var events = Enumerable.Range(0, 5_000).Select(i =>
            PageView($"u{random.Next(300)}", $"mp{random.Next(2)}", $"s{random.Next(900)}", At(D, 10) + i, $"p{random.Next(40)}", id: $"e{i:0000}")).ToList();
        AssertSameAsEventRoll(SceneTable.Default, events, WindowState.Empty(), 4);
        // A second shard-day on the same thread reuses the roller: nothing of the first one's visits may remain.
        AssertSameAsEventRoll(SceneTable.Default, events.Take(1_500).ToList(), WindowState.Empty(), 5);

        var visitors = new RollupEngine(SceneTable.Default, 0.006).RollShard(D, BlockRollDifferentialTests.Blocks(events, new Random(6)), WindowState.Empty()).Partial.Aggregate;
        foreach (var page in events.GroupBy(e => e.MiniProgramId + e.Page))
            Assert.Equal(page.Select(e => e.UserKey).Distinct().Count(), visitors.Get("pages.visitors", "miniProgram.page", page.Key));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Session_ids_shared_by_several_sessions_are_each_their_own_session(int seed)
    {
        // Few session id strings for many (user, mini-program) pairs: the second, third … session of an id is
        // met after the first in some blocks and before it in others; orders name sessions of today and unknown ones.
        var random = new Random(seed);
        var events = new List<PipelineEvent>();
        for (var i = 0; i < 400; i++)
        {
            var user = $"u{random.Next(15)}";
            var mp = $"mp{random.Next(3)}";
            var session = $"s{random.Next(6)}";
            var time = At(D, 9) + random.Next(3_600_000);
            events.Add(random.Next(5) switch
            {
                0 => Start(user, mp, session, time, 1001 + random.Next(3) * 6, id: $"e{i:000}"),
                1 => PageView(user, mp, session, time, $"p{random.Next(4)}", id: $"e{i:000}"),
                2 => Error(user, mp, session, time, ErrorKind.Crash),
                3 => Paid(user, mp, "m1", $"o{i}", 100, "CNY", time, session: random.Next(4) == 0 ? "s-none" : session, id: $"e{i:000}"),
                _ => End(user, mp, session, time, random.Next(200_000)),
            });
        }
        // A state that already knows some of the keys (a session of an earlier day: not new today).
        var previous = WindowState.Empty();
        previous.AsOfDay = D.DayNumber - 1;
        previous.Sessions[new SessionKey("u1", "mp1", "s2")] = new SessionInfo(D.DayNumber - 1, 1011, "qr", "ios", 0, "e-old");
        AssertSameAsEventRoll(SceneTable.Default, events, previous, seed);
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 4)]
    [InlineData(3, 12)] // more mini-programs per user than a chain of pairs is walked: those users' pairs are also in the table
    public void Users_switching_between_mini_programs_count_per_pair(int seed, int programs)
    {
        // Each user's session_end and share events alternate between mini-programs in random order, so the
        // user's last pair is sometimes the one asked for and sometimes not; durations add up per pair
        // (engaged per mini-program), shares mark the pair's sharer. Revenue currencies include a string that
        // is also a mini-program id, and orders read the pair's engagement (of pairs made and not made that day).
        var random = new Random(seed);
        var events = new List<PipelineEvent>();
        for (var i = 0; i < 1_500; i++)
        {
            var user = $"u{random.Next(40)}";
            var mp = $"mp{random.Next(programs)}";
            var time = At(D, 9) + random.Next(3_600_000);
            events.Add(random.Next(6) switch
            {
                0 => Start(user, mp, $"{user}-{mp}-s{random.Next(3)}", time, 1001 + random.Next(3) * 6),
                1 => Share(user, mp, $"{user}-{mp}-s0", time, page: random.Next(2) == 0 ? null : $"p{random.Next(3)}"),
                2 => Simple(EventType.AdImpression, user, mp, time, revenue: random.Next(1, 50), currency: random.Next(3) switch { 0 => "CNY", 1 => "USD", _ => "mp1" }),
                3 => Paid(user, mp, "m1", $"o{i}", 100, random.Next(2) == 0 ? "CNY" : "mp2", time, session: $"{user}-{mp}-s0"),
                4 => Refund(user, mp, "m1", $"o{i}", 10, "USD", time),
                _ => End(user, mp, $"{user}-{mp}-s{random.Next(3)}", time, random.Next(40_000)),
            });
        }
        AssertSameAsEventRoll(SceneTable.Default, events, WindowState.Empty(), seed);

        var agg = new RollupEngine(SceneTable.Default, 0.006).RollShard(D, BlockRollDifferentialTests.Blocks(events, new Random(seed + 10)), WindowState.Empty()).Partial.Aggregate;
        foreach (var program in events.GroupBy(e => e.MiniProgramId))
        {
            var engaged = program.GroupBy(e => e.UserKey).Count(u =>
                u.Any(e => e.Type == EventType.Share) || u.Where(e => e.Type == EventType.SessionEnd).Sum(e => e.DurationMs ?? 0) >= ShardDayRoller.EngagedDurationMs);
            Assert.Equal(engaged, agg.Get("northstar.engaged_users", "miniProgram", program.Key));
        }
        foreach (var currency in new[] { "CNY", "USD", "mp1" })
            Assert.Equal(events.Where(e => e.Type == EventType.AdImpression && e.Currency == currency).Sum(e => e.Revenue ?? 0), agg.Get("platform.ad_revenue", "currency", currency));
    }

    [Fact]
    public void Rolling_into_the_new_state_sets_what_applying_the_delta_would()
    {
        // RollShard has the roll set the day's users, pairs and sessions in the new state as it makes them; the
        // delta (the other way, for callers without a state to fill) must give the same state once applied.
        var random = new Random(21);
        var events = new List<PipelineEvent>();
        for (var i = 0; i < 600; i++)
        {
            var user = $"u{random.Next(50)}";
            var mp = $"mp{random.Next(3)}";
            var session = $"{user}-s{random.Next(4)}";
            var time = At(D, 9) + random.Next(3_600_000);
            events.Add(random.Next(3) switch
            {
                0 => Start(user, mp, session, time, 1001 + random.Next(3) * 6, id: $"e{i:000}"),
                1 => PageView(user, mp, session, time, $"p{random.Next(4)}", id: $"e{i:000}"),
                _ => End(user, mp, session, time, random.Next(100_000)),
            });
        }
        var previous = WindowState.Empty();
        previous.AsOfDay = D.DayNumber - 1;
        previous.Users["u1"] = UserWindow.New(D.DayNumber - 5, "qr");
        previous.UserPrograms[new UserProgramKey("u2", "mp0")] = UserWindow.New(D.DayNumber - 3, "share");
        previous.Sessions[new SessionKey("u3", "mp1", "u3-s0")] = new SessionInfo(D.DayNumber - 1, 1011, "qr", "ios", 0, "e-old");
        var blocks = BlockRollDifferentialTests.Blocks(events, new Random(22));

        var into = previous.Clone();
        var (_, empty) = BlockShardRoller.Roll(blocks, previous, SceneTable.Default, D.DayNumber, into: into);
        Assert.Empty(empty.Sessions);
        Assert.Empty(empty.Users);
        Assert.Empty(empty.UserPrograms);
        Assert.True(into.Sessions.Count > previous.Sessions.Count);

        var (_, delta) = BlockShardRoller.Roll(blocks, previous, SceneTable.Default, D.DayNumber);
        var applied = previous.Clone();
        foreach (var kv in delta.Users) applied.Users[kv.Key] = kv.Value;
        foreach (var kv in delta.UserPrograms) applied.UserPrograms[kv.Key] = kv.Value;
        foreach (var kv in delta.Sessions) applied.Sessions[kv.Key] = kv.Value;
        Assert.Equal(WindowStateCodec.Encode(applied), WindowStateCodec.Encode(into));
        Assert.Single(previous.Sessions); // the previous state is only read

        Assert.Throws<ArgumentException>(() => BlockShardRoller.Roll(blocks, previous, SceneTable.Default, D.DayNumber, into: previous));
    }
}
