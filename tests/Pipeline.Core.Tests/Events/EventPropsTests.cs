using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Core.Events;
using Pipeline.Core.Tests.Ingest;

namespace Pipeline.Core.Tests.Events;

/// <summary>
/// The prop table (<see cref="EventProps"/>) against the contract and the stored form, and the generic
/// paths that read it: whatever a new entry says is validated, stored, encoded and read back without
/// another edit, which these tests check for every entry.
/// </summary>
public sealed class EventPropsTests
{
    private static readonly string[] OwnProperties =
    [
        "EventId", "Type", "CustomName", "TimeMs", "UserKey", "MiniProgramId", "SessionId", "Platform", "Source", "ReceivedMs", "ExtraProps",
    ];

    public static TheoryData<string> Props => [.. EventProps.All.Select(p => p.Name)];

    private static EventProp Prop(string name) => EventProps.All.FirstOrDefault(p => p.Name == name) ?? throw new ArgumentException(name);

    [Fact]
    public void Every_named_prop_property_of_the_stored_form_is_one_entry()
    {
        var named = typeof(PipelineEvent).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).Except(OwnProperties);
        Assert.Equal(named.Order(StringComparer.Ordinal), EventProps.All.Select(p => p.Stored.Property).Order(StringComparer.Ordinal));
        Assert.Equal(Enumerable.Range(0, EventProps.All.Count), EventProps.All.Select(p => p.Ordinal));
    }

    [Fact]
    public void The_table_is_the_contract()
    {
        // The contract as listed by hand for the golden transcript, and its required props.
        foreach (var (typeName, props) in NamedPropsTranscript.Contract)
        {
            var type = typeName.StartsWith("custom.", StringComparison.Ordinal) ? EventType.Custom : Parse(typeName);
            var uses = EventProps.Of(type);
            Assert.Equal(props.Order(StringComparer.Ordinal), uses.Select(u => u.Prop.Name).Order(StringComparer.Ordinal));
            Assert.Equal(IngestTestData.RequiredProps.Where(r => r.Type == typeName).Select(r => r.Prop),
                uses.Where(u => u.Required).Select(u => u.Prop.Name));
        }
        var currency = Assert.Single(EventProps.Of(EventType.AdImpression), u => u.Prop == EventProps.Currency);
        Assert.Same(EventProps.Revenue, currency.RequiredWith);

        static EventType Parse(string name) => WireNames.TryParseType(name, out var t) ? t : throw new ArgumentException(name);
    }

    [Fact]
    public void Codec_fields_are_the_format_s_bits_each_used_once()
    {
        // The event's own fields and the props share the presence mask: together bits 0 to 22, no gap, none twice.
        var own = Enum.GetValues<EventBlockCodec.Field>().Select(f => (int)f);
        var props = EventProps.All.Where(p => p.Codec.Kind != PropCodecKind.HeaderByte).Select(p => p.Codec.Id);
        var all = own.Concat(props).Order().ToList();
        Assert.Equal(Enumerable.Range(0, all.Count), all);
        Assert.Equal(23, EventBlockCodec.NextFreeFieldId);
        Assert.Equal((1UL << 23) - 1, EventBlockCodec.KnownFields);
        Assert.Equal(0UL, EventBlockCodec.DictionaryFields & EventBlockCodec.InlineFields);
        Assert.Equal(0UL, (EventBlockCodec.DictionaryFields | EventBlockCodec.InlineFields) & EventBlockCodec.NumberFields);
        Assert.Equal(EventBlockCodec.KnownFields, EventBlockCodec.DictionaryFields | EventBlockCodec.InlineFields | EventBlockCodec.NumberFields | EventBlockCodec.DeltaFields);
        Assert.Equal([(EventProps.Target, 2), (EventProps.Kind, 3)],
            EventProps.All.Where(p => p.Codec.Kind == PropCodecKind.HeaderByte).Select(p => (p, p.Codec.Id)));
    }

    [Theory]
    [MemberData(nameof(Props))]
    public void A_valid_value_is_accepted_stored_and_read_back_by_every_path(string name)
    {
        var prop = Prop(name);
        var (json, stored) = ValidValue(prop);
        foreach (var carrier in prop.Carriers)
        {
            var typeName = WireNames.TypeName(carrier.Type);
            var e = IngestTestData.Event(typeName);
            e.Props()[name] = json.DeepClone();
            var accepted = IngestTestData.Accept(e);
            Assert.Equal(stored, Value(prop, accepted));

            // The codec: Decode and the streaming reader's generic accessors.
            var block = EventBlockCodec.Encode([accepted]);
            Assert.Equal(stored, Value(prop, Assert.Single(EventBlockCodec.Decode(block))));
            var reader = EventBlockCodec.Open(block);
            var strings = new List<string>();
            for (var i = 0; i < reader.StringCount; i++)
            {
                var offset = reader.NextString(out var length);
                strings.Add(System.Text.Encoding.UTF8.GetString(reader.Payload.Slice(offset, length)));
            }
            var be = new BlockEvent();
            Assert.True(reader.TryReadEvent(ref be));
            Assert.True(be.Has(prop));
            object? read = prop.Codec.Kind switch
            {
                PropCodecKind.Dictionary => strings[be.Index(prop)],
                PropCodecKind.Inline => System.Text.Encoding.UTF8.GetString(be.Utf8(prop)),
                _ => be.Number(prop),
            };
            Assert.Equal(stored, read);
        }
    }

    [Theory]
    [MemberData(nameof(Props))]
    public void A_value_of_the_wrong_json_type_is_refused_in_the_rule_s_words(string name)
    {
        var prop = Prop(name);
        foreach (var carrier in prop.Carriers)
        {
            var e = IngestTestData.Event(WireNames.TypeName(carrier.Type));
            e.Props()[name] = new JsonArray();
            var rejection = IngestTestData.Reject(e);
            Assert.Equal(RejectionCodes.InvalidField, rejection.Code);
            Assert.Equal($"props.{name} must be {prop.Rule.Expected}; got an array.", rejection.Message);
        }
    }

    [Theory]
    [MemberData(nameof(Props))]
    public void On_a_type_that_does_not_name_it_a_prop_is_passed_through(string name)
    {
        var prop = Prop(name);
        var other = Enum.GetValues<EventType>().First(t => t != EventType.Custom && prop.Carriers.All(c => c.Type != t));
        var e = IngestTestData.Event(WireNames.TypeName(other));
        e.Props()[name] = 1; // no rule applies to a prop the type does not name
        var accepted = IngestTestData.Accept(e);
        Assert.Contains($"\"{name}\":1", accepted.ExtraProps);
    }

    [Theory]
    [MemberData(nameof(Props))]
    public void Every_block_event_accessor_agrees_with_Decode(string name)
    {
        var prop = Prop(name);
        var random = new Random(prop.Ordinal);
        var events = Enumerable.Range(0, 200).Select(i => RandomEvent(random, i)).ToList();
        var block = EventBlockCodec.Encode(events);
        var decoded = EventBlockCodec.Decode(block);
        var reader = EventBlockCodec.Open(block);
        var strings = new List<string>();
        for (var i = 0; i < reader.StringCount; i++)
        {
            var offset = reader.NextString(out var length);
            strings.Add(System.Text.Encoding.UTF8.GetString(reader.Payload.Slice(offset, length)));
        }
        var e = new BlockEvent();
        var n = 0;
        while (reader.TryReadEvent(ref e))
        {
            var expected = Value(prop, decoded[n++]);
            Assert.Equal(expected is not null, e.Has(prop));
            object? read = !e.Has(prop) ? null : prop.Codec.Kind switch
            {
                PropCodecKind.Dictionary => strings[e.Index(prop)],
                PropCodecKind.Inline => System.Text.Encoding.UTF8.GetString(e.Utf8(prop)),
                _ => e.Number(prop),
            };
            Assert.Equal(expected, read);
        }
        Assert.Equal(events.Count, n);
    }

    [Fact]
    public void Block_event_accessors_refuse_a_prop_of_another_kind()
    {
        var block = EventBlockCodec.Encode([new PipelineEvent { EventId = "e", Type = EventType.PageView, TimeMs = 1, MiniProgramId = "wx", Page = "/p" }]);
        var reader = EventBlockCodec.Open(block);
        var e = new BlockEvent();
        Assert.True(reader.TryReadEvent(ref e));
        Assert.Equal(1, e.Index(EventProps.Page)); // after the mini-program id
        Assert.Equal(-1, e.Index(EventProps.Currency));
        Assert.Equal(0, e.Number(EventProps.DurationMs));
        Assert.True(e.Utf8(EventProps.OrderId).IsEmpty);
        var ex = CatchArgument(block, static (ref BlockEvent b) => b.Index(EventProps.DurationMs));
        Assert.Contains("props.durationMs", ex.Message);
        CatchArgument(block, static (ref BlockEvent b) => (int)b.Number(EventProps.Page));
        CatchArgument(block, static (ref BlockEvent b) => b.Utf8(EventProps.Page).Length);
    }

    [Fact]
    public void The_docs_name_every_prop_and_its_parquet_column()
    {
        var contract = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "ingest-contract.md"));
        var architecture = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "architecture.md"));
        foreach (var prop in EventProps.All)
        {
            Assert.Contains($"`{prop.Name}`", contract);
            Assert.Contains($"`{JsonNamingPolicy.SnakeCaseLower.ConvertName(prop.Stored.Property)}`", architecture);
        }
    }

    private delegate int BlockRead(ref BlockEvent e);

    private static ArgumentException CatchArgument(byte[] block, BlockRead read)
    {
        var reader = EventBlockCodec.Open(block);
        var e = new BlockEvent();
        reader.TryReadEvent(ref e);
        try
        {
            read(ref e);
        }
        catch (ArgumentException ex)
        {
            return ex;
        }
        throw new Xunit.Sdk.XunitException("No ArgumentException.");
    }

    /// <summary>A JSON value the prop's rule accepts, and what is then stored (as <see cref="Value"/> gives it).</summary>
    private static (JsonNode Json, object Stored) ValidValue(EventProp prop) => prop.Rule.Kind switch
    {
        PropRuleKind.Integer => (JsonValue.Create(Math.Max(prop.Rule.Min, 7))!, Math.Max(prop.Rule.Min, 7)),
        PropRuleKind.Text => (JsonValue.Create("v-" + prop.Name)!, "v-" + prop.Name),
        PropRuleKind.Letters => (JsonValue.Create(new string('q', prop.Rule.Length))!, new string('Q', prop.Rule.Length)),
        PropRuleKind.OneOf => (JsonValue.Create(prop.Rule.Names[^1])!, (long)LastValue(prop)),
        PropRuleKind.Truncated => (JsonValue.Create(new string('t', prop.Rule.Length + 5))!, new string('t', prop.Rule.Length)),
        _ => throw new ArgumentException(prop.Name),
    };

    private static byte LastValue(EventProp prop) => prop.Rule.TryParse(prop.Rule.Names[^1], out var v) ? v : throw new ArgumentException(prop.Name);

    /// <summary>The prop's value on an event, through the table (a string, a long, or null when absent).</summary>
    private static object? Value(EventProp prop, PipelineEvent e) =>
        prop.ValueType == PropValueType.Text ? prop.Stored.GetText(e) : prop.Stored.GetNumber(e);

    private static PipelineEvent RandomEvent(Random r, int i)
    {
        var e = new PipelineEvent
        {
            EventId = $"e{i}",
            Type = (EventType)r.Next(1, 14),
            TimeMs = 1_795_000_000_000 + r.Next(),
            MiniProgramId = "wx" + r.Next(3),
            UserKey = r.Next(4) == 0 ? null : "u" + r.Next(5),
            Source = r.Next(2) == 0 ? null : "s",
            ReceivedMs = r.Next(2) == 0 ? null : 1_795_000_000_000 + r.Next(),
            ExtraProps = r.Next(3) == 0 ? "{}" : null,
        };
        foreach (var prop in EventProps.All)
        {
            if (r.Next(3) == 0) continue;
            switch (prop.ValueType)
            {
                case PropValueType.Text: prop.Stored.SetText(e, prop.Name + r.Next(4)); break;
                case PropValueType.Int32: prop.Stored.SetNumber(e, r.Next(int.MinValue, int.MaxValue)); break;
                case PropValueType.Int64: prop.Stored.SetNumber(e, r.NextInt64(long.MinValue, long.MaxValue)); break;
                default: prop.Stored.SetNumber(e, r.Next(1, 1 + prop.Rule.Names.Count)); break;
            }
        }
        return e;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("Pipeline.sln not found above the test binaries.");
    }
}
