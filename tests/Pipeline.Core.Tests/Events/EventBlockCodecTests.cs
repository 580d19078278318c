using System.Reflection;
using Pipeline.Core.Events;

namespace Pipeline.Core.Tests.Events;

public sealed class EventBlockCodecTests
{
    private static readonly PropertyInfo[] Properties = typeof(PipelineEvent).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    [Fact]
    public void The_segment_source_is_stored_for_events_without_their_own_and_an_events_own_wins()
    {
        var plain = new PipelineEvent { EventId = "e1", Type = EventType.PageView, TimeMs = 1, UserKey = "u", MiniProgramId = "wx" };
        var own = new PipelineEvent { EventId = "e2", Type = EventType.PageView, TimeMs = 2, UserKey = "u", MiniProgramId = "wx", Source = "ads" };

        Assert.Equal(["payments", "ads"], EventBlockCodec.Decode(EventBlockCodec.Encode([plain, own], "payments")).Select(e => e.Source));
        Assert.Equal([null, "ads"], EventBlockCodec.Decode(EventBlockCodec.Encode([plain, own])).Select(e => e.Source));
    }

    [Fact]
    public void Round_trips_every_field_of_a_fully_populated_event()
    {
        var full = new PipelineEvent
        {
            EventId = "evt-1",
            Type = EventType.Custom,
            CustomName = "coupon_used",
            TimeMs = 1_795_000_000_123,
            UserKey = "u_AbC-123",
            MiniProgramId = "wx_shop",
            SessionId = "s-1",
            Platform = Platform.Harmony,
            Scene = 1089,
            LoadMs = 830,
            ReferrerMiniProgramId = "wx_ref",
            DurationMs = 12_345,
            Page = "/pages/index?x=1",
            ShareTarget = ShareTarget.Moments,
            OrderId = "o-9",
            Amount = -4_200,
            Currency = "CNY",
            MerchantId = "m-7",
            AdUnitId = "adu-3",
            Revenue = 17,
            ErrorKind = ErrorKind.Crash,
            Message = "boom: 例外 \u0001",
            Reason = "spam",
            Scope = "scope.userLocation",
            DeveloperId = "dev-1",
            Version = "1.2.3",
            Category = "shopping",
            ExtraProps = """{"k":"v","n":[1,2]}""",
            Source = "payments",
            ReceivedMs = 1_795_000_100_000,
        };

        // Every property is set to a non-default value, so a field the codec forgets fails the test.
        foreach (var p in Properties)
        {
            var value = p.GetValue(full);
            Assert.False(value is null || Equals(value, DefaultOf(p.PropertyType)), $"Test event leaves {p.Name} at its default.");
        }

        var decoded = Assert.Single(EventBlockCodec.Decode(EventBlockCodec.Encode([full])));
        AssertSame(full, decoded);
    }

    [Fact]
    public void Round_trips_a_minimal_event_with_every_nullable_field_null()
    {
        var minimal = new PipelineEvent { EventId = "", Type = EventType.MiniProgramPublished, TimeMs = -5, MiniProgramId = "" };
        var decoded = Assert.Single(EventBlockCodec.Decode(EventBlockCodec.Encode([minimal])));
        AssertSame(minimal, decoded);
    }

    [Fact]
    public void Round_trips_an_empty_block()
    {
        Assert.Empty(EventBlockCodec.Decode(EventBlockCodec.Encode([])));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Round_trips_random_events(int seed)
    {
        var random = new Random(seed);
        var events = Enumerable.Range(0, 2_000).Select(i => RandomEvent(random, i)).ToList();

        var block = EventBlockCodec.Encode(events);
        var decoded = EventBlockCodec.Decode(block);

        Assert.Equal(events.Count, decoded.Count);
        for (var i = 0; i < events.Count; i++) AssertSame(events[i], decoded[i]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void The_streaming_reader_reads_what_Decode_reads(int seed)
    {
        var random = new Random(seed);
        var block = EventBlockCodec.Encode(Enumerable.Range(0, 500).Select(i => RandomEvent(random, i)).ToList());
        var decoded = EventBlockCodec.Decode(block);

        var reader = EventBlockCodec.Open(block);
        Assert.Equal(decoded.Count, reader.EventCount);
        var strings = new string[reader.StringCount];
        for (var i = 0; i < strings.Length; i++)
        {
            var offset = reader.NextString(out var length);
            strings[i] = System.Text.Encoding.UTF8.GetString(reader.Payload.Slice(offset, length));
        }
        string? S(int index) => index < 0 ? null : strings[index];
        string Inline(ReadOnlySpan<byte> utf8) => System.Text.Encoding.UTF8.GetString(utf8);
        var e = new BlockEvent();
        var n = 0;
        while (reader.TryReadEvent(ref e))
        {
            var d = decoded[n++];
            var read = new PipelineEvent
            {
                EventId = Inline(e.EventIdUtf8), Type = e.Type, TimeMs = e.TimeMs, MiniProgramId = S(e.MiniProgramId)!, Platform = e.Platform,
                ShareTarget = e.ShareTarget, ErrorKind = e.ErrorKind, CustomName = S(e.CustomName), UserKey = S(e.UserKey), SessionId = S(e.SessionId),
                Scene = e.HasScene ? e.Scene : null, LoadMs = e.HasLoadMs ? e.LoadMs : null, ReferrerMiniProgramId = S(e.ReferrerMiniProgramId),
                DurationMs = e.HasDurationMs ? e.DurationMs : null, Page = S(e.Page), OrderId = e.HasOrderId ? Inline(e.OrderIdUtf8) : null,
                Amount = e.HasAmount ? e.Amount : null, Currency = S(e.Currency), MerchantId = S(e.MerchantId), AdUnitId = S(e.AdUnitId),
                Revenue = e.HasRevenue ? e.Revenue : null, Message = e.HasMessage ? Inline(e.MessageUtf8) : null, Reason = S(e.Reason), Scope = S(e.Scope),
                DeveloperId = S(e.DeveloperId), Version = S(e.Version), Category = S(e.Category), ExtraProps = e.HasExtraProps ? Inline(e.ExtraPropsUtf8) : null,
            };
            AssertSame(d, read);
        }
        Assert.Equal(decoded.Count, n);
    }

    [Fact]
    public void The_streaming_reader_rejects_what_Decode_rejects()
    {
        var random = new Random(5);
        var block = EventBlockCodec.Encode(Enumerable.Range(0, 20).Select(i => RandomEvent(random, i)).ToList());
        for (var length = 0; length < block.Length; length += 7)
            Assert.Throws<InvalidDataException>(() => ReadAll(block.AsSpan(0, length)));
        var copy = block.ToArray();
        copy[copy.Length / 2] ^= 0x40;
        Assert.Throws<InvalidDataException>(() => ReadAll(copy));
        Assert.Equal(20, ReadAll(block));

        static int ReadAll(ReadOnlySpan<byte> data)
        {
            var reader = EventBlockCodec.Open(data);
            var e = new BlockEvent();
            var n = 0;
            while (reader.TryReadEvent(ref e)) n++;
            return n;
        }
    }

    [Fact]
    public void Repeated_strings_are_stored_once()
    {
        var events = Enumerable.Range(0, 1_000).Select(i => new PipelineEvent
        {
            EventId = i.ToString(),
            Type = EventType.PageView,
            TimeMs = 1_795_000_000_000 + i,
            MiniProgramId = "wx_a_rather_long_mini_program_identifier",
            UserKey = "a-fairly-long-pseudonymous-user-key-0123456789",
            Page = "/pages/some/long/path/index",
        }).ToList();

        var block = EventBlockCodec.Encode(events);

        // Per event: 4 enum bytes, presence, id, time delta, 3 one-byte indexes ≈ 12 bytes; the long strings once.
        Assert.True(block.Length < 16 * events.Count, $"Block is {block.Length} bytes.");
    }

    [Fact]
    public void Every_truncation_is_rejected()
    {
        var random = new Random(7);
        var block = EventBlockCodec.Encode(Enumerable.Range(0, 20).Select(i => RandomEvent(random, i)).ToList());

        for (var length = 0; length < block.Length; length++)
        {
            var ex = Assert.Throws<InvalidDataException>(() => EventBlockCodec.Decode(block.AsSpan(0, length)));
            Assert.Contains("Event block", ex.Message);
        }
    }

    [Fact]
    public void Corrupt_bytes_are_rejected()
    {
        var random = new Random(11);
        var block = EventBlockCodec.Encode(Enumerable.Range(0, 20).Select(i => RandomEvent(random, i)).ToList());

        for (var i = 0; i < block.Length; i++)
        {
            var copy = (byte[])block.Clone();
            copy[i] ^= 0x5A;
            Assert.Throws<InvalidDataException>(() => EventBlockCodec.Decode(copy));
        }
    }

    [Fact]
    public void Other_data_and_future_versions_are_rejected_with_clear_messages()
    {
        var notABlock = Assert.Throws<InvalidDataException>(() => EventBlockCodec.Decode("""{"events":[]}"""u8));
        Assert.Contains("magic", notABlock.Message);

        var block = EventBlockCodec.Encode([]);
        block[3] = 99;
        var future = Assert.Throws<InvalidDataException>(() => EventBlockCodec.Decode(block));
        Assert.Contains("version 99", future.Message);
    }

    private static PipelineEvent RandomEvent(Random r, int i)
    {
        string? Maybe(string[] pool) => r.Next(3) == 0 ? null : pool[r.Next(pool.Length)];
        long? MaybeLong() => r.Next(3) == 0 ? null : r.Next(4) switch
        {
            0 => 0,
            1 => long.MinValue,
            2 => long.MaxValue,
            _ => r.NextInt64(long.MinValue, long.MaxValue),
        };
        string? MaybeUnique() => r.Next(3) == 0 ? null : RandomText(r);

        string[] users = ["u1", "u2", "u3", "üser-ß", ""];
        string[] programs = ["wx_a", "wx_b", "wx_c"];
        string[] pages = ["/p/index", "/p/cart", "/页面/详情"];
        var type = (EventType)r.Next(1, 14);
        return new PipelineEvent
        {
            EventId = $"evt-{i}-{RandomText(r)}",
            Type = type,
            CustomName = type == EventType.Custom ? Maybe(["a", "b.c"]) : null,
            TimeMs = r.Next(5) == 0 ? r.NextInt64(long.MinValue / 2, long.MaxValue / 2) : 1_795_000_000_000 + r.Next(86_400_000),
            UserKey = Maybe(users),
            MiniProgramId = programs[r.Next(programs.Length)],
            SessionId = Maybe(["s1", "s2"]),
            Platform = (Platform)r.Next(0, 8),
            Scene = r.Next(3) == 0 ? null : r.Next(2) == 0 ? int.MinValue + r.Next(3) : r.Next(),
            LoadMs = MaybeLong(),
            ReferrerMiniProgramId = Maybe(programs),
            DurationMs = MaybeLong(),
            Page = Maybe(pages),
            ShareTarget = (ShareTarget)r.Next(0, 4),
            OrderId = MaybeUnique(),
            Amount = MaybeLong(),
            Currency = Maybe(["CNY", "USD"]),
            MerchantId = Maybe(["m1", "m2"]),
            AdUnitId = Maybe(["ad1"]),
            Revenue = MaybeLong(),
            ErrorKind = (ErrorKind)r.Next(0, 5),
            Message = MaybeUnique(),
            Reason = Maybe(["r1"]),
            Scope = Maybe(["scope.a"]),
            DeveloperId = Maybe(["d1"]),
            Version = Maybe(["1.0.0"]),
            Category = Maybe(["c"]),
            ExtraProps = r.Next(2) == 0 ? null : $$"""{"x":{{r.Next()}},"t":"{{RandomText(r)}}"}""",
        };
    }

    // Valid UTF-16 of mixed widths (ASCII, 2- and 3-byte UTF-8, surrogate pairs), and lengths either side of 127 bytes.
    private static string RandomText(Random r)
    {
        var length = r.Next(4) == 0 ? r.Next(100, 400) : r.Next(0, 12);
        var sb = new System.Text.StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            switch (r.Next(6))
            {
                case 0: sb.Append((char)r.Next(0x80, 0x800)); break;
                case 1: sb.Append((char)r.Next(0x4E00, 0x9FFF)); break;
                case 2: sb.Append(char.ConvertFromUtf32(r.Next(0x1F600, 0x1F64F))); break;
                default: sb.Append((char)r.Next(0x20, 0x7F)); break;
            }
        }
        return sb.ToString();
    }

    private static void AssertSame(PipelineEvent expected, PipelineEvent actual)
    {
        foreach (var p in Properties)
            Assert.True(Equals(p.GetValue(expected), p.GetValue(actual)), $"{p.Name}: expected {p.GetValue(expected) ?? "null"}, got {p.GetValue(actual) ?? "null"}");
    }

    private static object? DefaultOf(Type t) => t.IsValueType && Nullable.GetUnderlyingType(t) is null ? Activator.CreateInstance(t) : null;
}
