using System.Reflection;
using Pipeline.Core.Events;

namespace Pipeline.Core.Tests.Events;

/// <summary>
/// The event block format (version 1) byte for byte: <see cref="GoldenBlock"/> was written by the codec
/// before its fields came from the prop table, so encoding the same events must give the same bytes, and
/// those bytes (a block already in the event store) must decode to the same events, by both readers.
/// </summary>
public sealed class EventBlockFormatTests
{
    private const string Source = "payments";
    private const long ReceivedMs = 1_795_000_100_000;

    /// <summary>Every kind of field: all of them set, none set, the usual types, extreme numbers, long inline text, own source and receipt time.</summary>
    internal static List<PipelineEvent> GoldenEvents() =>
    [
        new()
        {
            EventId = "evt-1", Type = EventType.Custom, CustomName = "coupon_used", TimeMs = 1_795_000_000_123, UserKey = "u_AbC-123",
            MiniProgramId = "wx_shop", SessionId = "s-1", Platform = Platform.Harmony, Scene = 1089, LoadMs = 830, ReferrerMiniProgramId = "wx_ref",
            DurationMs = 12_345, Page = "/pages/index?x=1", ShareTarget = ShareTarget.Moments, OrderId = "o-9", Amount = -4_200, Currency = "CNY",
            MerchantId = "m-7", AdUnitId = "adu-3", Revenue = 17, ErrorKind = ErrorKind.Crash, Message = "boom: 例外 \u0001", Reason = "spam",
            Scope = "scope.userLocation", DeveloperId = "dev-1", Version = "1.2.3", Category = "shopping", ExtraProps = """{"k":"v","n":[1,2]}""",
            Source = "ads", ReceivedMs = 1_795_000_000_500,
        },
        new() { EventId = "", Type = EventType.MiniProgramPublished, TimeMs = -5, MiniProgramId = "" },
        new()
        {
            EventId = "e-2", Type = EventType.SessionStart, TimeMs = 1_795_000_000_000, UserKey = "u_AbC-123", MiniProgramId = "wx_shop",
            SessionId = "s-2", Platform = Platform.Ios, Scene = int.MinValue, LoadMs = long.MaxValue, ReferrerMiniProgramId = "wx_shop",
        },
        new()
        {
            EventId = "e-3", Type = EventType.PageView, TimeMs = 1_795_000_000_001, UserKey = "u_AbC-123", MiniProgramId = "wx_shop",
            SessionId = "s-2", Page = "/pages/index?x=1", DurationMs = 0,
        },
        new()
        {
            EventId = "e-4", Type = EventType.Share, TimeMs = 1_794_999_999_000, UserKey = "u2", MiniProgramId = "wx_b", SessionId = "s-3",
            ShareTarget = ShareTarget.Group, Page = "/页面/详情", ReceivedMs = 1_795_000_000_000,
        },
        new()
        {
            EventId = "e-5", Type = EventType.OrderPaid, TimeMs = 1_795_000_050_000, UserKey = "u2", MiniProgramId = "wx_b",
            OrderId = "order-" + new string('x', 200), Amount = long.MinValue, Currency = "USD", MerchantId = "m-7",
        },
        new()
        {
            EventId = "e-6", Type = EventType.Error, TimeMs = 1_795_000_050_001, UserKey = "u2", MiniProgramId = "wx_b", SessionId = "s-3",
            ErrorKind = ErrorKind.JsError, Message = new string('m', 150) + "😀", ExtraProps = """{"stack":"at x"}""",
        },
        new()
        {
            EventId = "e-7", Type = EventType.AdImpression, TimeMs = 1_795_000_050_002, UserKey = "u3", MiniProgramId = "wx_b", SessionId = "s-4",
            AdUnitId = "adu-3", Revenue = 0, Currency = "CNY", Source = "ads",
        },
    ];

    /// <summary><c>Encode(GoldenEvents(), "payments", 1_795_000_100_000)</c> as written by the format's first codec.</summary>
    private const string GoldenBlock =
        "4556420108190777785F73686F700B636F75706F6E5F7573656409755F4162432D31323303732D310677785F726566102F70616765732F696E6465783F783D31" +
        "03434E59036D2D37056164752D33047370616D1273636F70652E757365724C6F636174696F6E056465762D3105312E322E330873686F7070696E670361647300" +
        "087061796D656E747303732D320477785F6202753203732D330E2FE9A1B5E99DA22FE8AFA6E683850355534402753303732D340D030302FFFFFF03056576742D" +
        "31F6F9B2E5BD68000102038211FC0C04F2C00105036F2D39CF41060708220E626F6F6D3A20E4BE8BE5A4962001090A0B0C0D137B226B223A2276222C226E223A" +
        "5B312C325D7D0EE8FFB2E5BD680C0000008080800300FFF9B2E5BD680F10D8920C01010000BE80800303652D328AF8B2E5BD68000211FFFFFFFF0FFEFFFFFFFF" +
        "FFFFFFFF0100100003000000C681800303652D330200021100051000040002008681800303652D34D10F1213141510BF9A0C05000000829E800303652D35F09C" +
        "061213CE016F726465722D7878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878" +
        "78787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878" +
        "78787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878" +
        "78787878787878787878787878787878787878FFFFFFFFFFFFFFFFFF01160710C09A0C090000018680C10303652D36021213149A016D6D6D6D6D6D6D6D6D6D6D" +
        "6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D" +
        "6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D6D" +
        "6D6D6D6D6D6D6D6D6D6D6DF09F9880107B22737461636B223A2261742078227D10000700000086E8800303652D37021217180608000E003A9CEBBF0A8B0D72";

    private static readonly PropertyInfo[] Properties = typeof(PipelineEvent).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    [Fact]
    public void Encoding_gives_the_recorded_bytes()
    {
        Assert.Equal(GoldenBlock, Convert.ToHexString(EventBlockCodec.Encode(GoldenEvents(), Source, ReceivedMs)));
    }

    [Fact]
    public void The_recorded_bytes_decode_to_the_events()
    {
        var decoded = EventBlockCodec.Decode(Convert.FromHexString(GoldenBlock));
        var expected = GoldenEvents();
        Assert.Equal(expected.Count, decoded.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            foreach (var p in Properties)
            {
                var want = p.Name switch
                {
                    nameof(PipelineEvent.Source) => expected[i].Source ?? Source,
                    nameof(PipelineEvent.ReceivedMs) => expected[i].ReceivedMs ?? ReceivedMs,
                    _ => p.GetValue(expected[i]),
                };
                Assert.True(Equals(want, p.GetValue(decoded[i])), $"event {i} {p.Name}: expected {want ?? "null"}, got {p.GetValue(decoded[i]) ?? "null"}");
            }
        }
    }

    [Fact]
    public void The_streaming_reader_reads_the_recorded_bytes()
    {
        var block = Convert.FromHexString(GoldenBlock);
        var reader = EventBlockCodec.Open(block);
        var strings = new string[reader.StringCount];
        for (var i = 0; i < strings.Length; i++)
        {
            var offset = reader.NextString(out var length);
            strings[i] = System.Text.Encoding.UTF8.GetString(reader.Payload.Slice(offset, length));
        }
        var e = new BlockEvent();
        var read = new List<string>();
        while (reader.TryReadEvent(ref e))
        {
            string S(int index) => index < 0 ? "-" : strings[index];
            string T(ReadOnlySpan<byte> utf8) => System.Text.Encoding.UTF8.GetString(utf8);
            read.Add(string.Join('|', T(e.EventIdUtf8), e.Type, e.TimeMs, S(e.MiniProgramId), S(e.UserKey), S(e.SessionId), e.Platform, e.ShareTarget,
                e.ErrorKind, e.HasScene ? e.Scene : "-", e.HasLoadMs ? e.LoadMs : "-", S(e.ReferrerMiniProgramId), e.HasDurationMs ? e.DurationMs : "-",
                S(e.Page), e.HasOrderId ? T(e.OrderIdUtf8).Length : "-", e.HasAmount ? e.Amount : "-", S(e.Currency), S(e.MerchantId), S(e.AdUnitId),
                e.HasRevenue ? e.Revenue : "-", e.HasMessage ? T(e.MessageUtf8).Length : "-", S(e.Reason), S(e.Scope), S(e.DeveloperId), S(e.Version),
                S(e.Category), e.HasExtraProps ? T(e.ExtraPropsUtf8) : "-", S(e.CustomName), S(e.Source), e.ReceivedMs));
        }
        string[] expected =
        [
            "evt-1|Custom|1795000000123|wx_shop|u_AbC-123|s-1|Harmony|Moments|Crash|1089|830|wx_ref|12345|/pages/index?x=1|3|-4200|CNY|m-7|adu-3|17|10|spam|scope.userLocation|dev-1|1.2.3|shopping|{\"k\":\"v\",\"n\":[1,2]}|coupon_used|ads|1795000000500",
            "|MiniProgramPublished|-5||-|-|Unknown|None|None|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|payments|1795000100000",
            "e-2|SessionStart|1795000000000|wx_shop|u_AbC-123|s-2|Ios|None|None|-2147483648|9223372036854775807|wx_shop|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|payments|1795000100000",
            "e-3|PageView|1795000000001|wx_shop|u_AbC-123|s-2|Unknown|None|None|-|-|-|0|/pages/index?x=1|-|-|-|-|-|-|-|-|-|-|-|-|-|-|payments|1795000100000",
            "e-4|Share|1794999999000|wx_b|u2|s-3|Unknown|Group|None|-|-|-|-|/页面/详情|-|-|-|-|-|-|-|-|-|-|-|-|-|-|payments|1795000000000",
            "e-5|OrderPaid|1795000050000|wx_b|u2|-|Unknown|None|None|-|-|-|-|-|206|-9223372036854775808|USD|m-7|-|-|-|-|-|-|-|-|-|-|payments|1795000100000",
            "e-6|Error|1795000050001|wx_b|u2|s-3|Unknown|None|JsError|-|-|-|-|-|-|-|-|-|-|-|152|-|-|-|-|-|{\"stack\":\"at x\"}|-|payments|1795000100000",
            "e-7|AdImpression|1795000050002|wx_b|u3|s-4|Unknown|None|None|-|-|-|-|-|-|-|CNY|-|adu-3|0|-|-|-|-|-|-|-|-|ads|1795000100000",
        ];
        Assert.Equal(expected.Length, read.Count);
        for (var i = 0; i < expected.Length; i++) Assert.True(expected[i] == read[i], $"event {i}:\nexpected {expected[i]}\nactual   {read[i]}");
    }
}
