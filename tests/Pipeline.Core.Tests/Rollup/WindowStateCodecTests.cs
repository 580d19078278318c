using Pipeline.Core.Rollup;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

public sealed class WindowStateCodecTests
{
    private static readonly DateOnly D = new(2026, 11, 23);

    [Fact]
    public void Round_trips_every_section()
    {
        var s = new WindowState { AsOfDay = D.DayNumber };
        s.Users["u1"] = new UserWindow(D.DayNumber - 400, "share", D.DayNumber, ulong.MaxValue); // active on each of the last 64 days
        s.Users["ü2|x"] = new UserWindow(D.DayNumber - 3, "unknown", D.DayNumber - 1);
        s.UserPrograms[new UserProgramKey("u1", "mp1")] = new UserWindow(D.DayNumber - 10, "qr", D.DayNumber - 2, 0b1001_0001);
        s.Sessions[new SessionKey("u1", "mp1", "s1")] = new SessionInfo(D.DayNumber - 30, 1011, "qr", "ios", 1_790_000_000_123, "ev-1");
        s.Orders[new OrderKey("m1", "o1")] = D.DayNumber - 89;
        s.Buyers["u1"] = [D.DayNumber - 5, D.DayNumber - 5, D.DayNumber];
        s.Programs["mp1"] = new ProgramRegistration(D.DayNumber - 100, 1_790_000_000_000, "pub-9", "dev1");

        var bytes = WindowStateCodec.Encode(s);
        var back = WindowStateCodec.Decode(bytes);

        Assert.Equal(s.AsOfDay, back.AsOfDay);
        Assert.Equal(s.Users, back.Users);
        Assert.Equal(s.UserPrograms, back.UserPrograms);
        Assert.Equal(s.Sessions, back.Sessions);
        Assert.Equal(s.Orders, back.Orders);
        Assert.Equal(s.Buyers["u1"], back.Buyers["u1"]);
        Assert.Equal(s.Programs, back.Programs);
        Assert.Equal(bytes, WindowStateCodec.Encode(back));
        Assert.Equal("PRWS"u8.ToArray(), bytes[..4]);
        Assert.Equal(WindowStateCodec.Version, bytes[4]);
    }

    [Fact]
    public void A_version_1_state_is_read_with_only_the_last_active_day_in_the_bitmap()
    {
        // Version 1 (before the activity bitmap): magic, version, flag, day; one user "u" first seen 5 days
        // back through "qr", last active 2 days back; the other five sections empty.
        var v1 = new List<byte>("PRWS"u8.ToArray()) { 1, 1 };
        v1.AddRange(BitConverter.GetBytes(D.DayNumber)); // little-endian, as the codec writes it
        v1.AddRange([1, 0, 1, (byte)'u', 10, 0, 2, (byte)'q', (byte)'r', 4]); // count, str, day 5 back (zig-zag 10), str, day 2 back (4)
        v1.AddRange([0, 0, 0, 0, 0]);

        var state = WindowStateCodec.Decode(v1.ToArray());

        Assert.Equal(new UserWindow(D.DayNumber - 5, "qr", D.DayNumber - 2, 1UL), state.Users["u"]);
        Assert.Equal(WindowStateCodec.Version, WindowStateCodec.Encode(state)[4]); // written back in the current version
    }

    [Fact]
    public void Empty_state_round_trips_as_empty()
    {
        var back = WindowStateCodec.Decode(WindowStateCodec.Encode(WindowState.Empty()));
        Assert.Null(back.AsOfDay);
        Assert.Empty(back.Users);
    }

    [Fact]
    public void Engine_state_round_trips_and_rolls_on_identically()
    {
        var e = Engine();
        var day1 = e.RollUp(D, [RollupEngineRerollTests.MixedDay(D)], WindowState.Empty());
        var decoded = WindowStateCodec.Decode(WindowStateCodec.Encode(day1.State));
        var next = D.AddDays(1);
        var a = e.RollUp(next, [RollupEngineRerollTests.MixedDay(next)], day1.State);
        var b = e.RollUp(next, [RollupEngineRerollTests.MixedDay(next)], decoded);
        Assert.Equal(a.Rows, b.Rows);
    }

    [Fact]
    public void Rejects_unknown_versions_other_magics_and_truncation()
    {
        var bytes = WindowStateCodec.Encode(new WindowState { AsOfDay = D.DayNumber });
        var wrongVersion = (byte[])bytes.Clone();
        wrongVersion[4] = 99;
        Assert.Throws<InvalidDataException>(() => WindowStateCodec.Decode(wrongVersion));
        Assert.Throws<InvalidDataException>(() => WindowStateCodec.Decode("JUNKJUNKJUNK"u8));
        var full = new WindowState { AsOfDay = D.DayNumber };
        full.Users["someone"] = new UserWindow(D.DayNumber, "qr", D.DayNumber);
        var fullBytes = WindowStateCodec.Encode(full);
        Assert.Throws<InvalidDataException>(() => WindowStateCodec.Decode(fullBytes.AsSpan(0, fullBytes.Length - 3)));
    }

    [Fact]
    public void Sessions_and_orders_are_pruned_after_their_retention()
    {
        var e = Engine();
        var days = e.RollDays(D, 91, day => day == D
            ? [Start("u1", "mp1", "s1", At(day, 9), 1001), Paid("u1", "mp1", "m", "o", 5, "CNY", At(day, 9))]
            : []);
        Assert.True(days[30].State.Sessions.ContainsKey(new SessionKey("u1", "mp1", "s1"))); // 31 days: D .. D+30
        Assert.False(days[31].State.Sessions.ContainsKey(new SessionKey("u1", "mp1", "s1")));
        Assert.True(days[89].State.Orders.ContainsKey(new OrderKey("m", "o")));
        Assert.False(days[90].State.Orders.ContainsKey(new OrderKey("m", "o")));
        Assert.True(days[29].State.Buyers.ContainsKey("u1"));
        Assert.False(days[30].State.Buyers.ContainsKey("u1"));
        Assert.True(days[90].State.Users.ContainsKey("u1")); // users are kept forever
    }
}
