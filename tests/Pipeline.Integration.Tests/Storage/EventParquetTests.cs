using System.Reflection;
using Parquet;
using Parquet.Schema;
using Pipeline.Core.Events;
using Pipeline.Storage.Blobs;

namespace Pipeline.Integration.Tests.Storage;

/// <summary>The analysts' Parquet format of events, without storage: every field survives, nulls stay null.</summary>
public sealed class EventParquetTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Every_field_of_a_fully_populated_event_and_of_a_minimal_one_round_trips()
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
            ReceivedMs = 1_795_000_100_456,
        };
        foreach (var p in typeof(PipelineEvent).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var value = p.GetValue(full);
            Assert.False(value is null || (p.PropertyType.IsValueType && Equals(value, Activator.CreateInstance(p.PropertyType))), $"Test event leaves {p.Name} at its default.");
        }
        var minimal = new PipelineEvent { EventId = "", Type = EventType.MiniProgramPublished, TimeMs = -5, MiniProgramId = "" };

        var (events, metadata) = await RoundTripAsync([full, minimal], new Dictionary<string, string> { ["k"] = "v" });

        EventCompactionTests.AssertSameEvents([full, minimal], events);
        Assert.Equal([full.EventId, minimal.EventId], events.Select(e => e.EventId)); // file order kept
        Assert.Equal("v", metadata["k"]);
        Assert.Equal(EventParquet.SchemaVersion, metadata[EventParquet.SchemaKey]);
    }

    [Fact]
    public async Task Random_events_over_several_row_groups_round_trip_and_an_empty_file_reads_as_no_events()
    {
        var random = new Random(5);
        var events = Enumerable.Range(0, EventParquet.RowGroupSize + 1_000).Select(i => EventCompactionTests.RandomEvent(random, $"e{i}")).ToList();

        using var stream = new MemoryStream();
        await EventParquet.WriteAsync(stream, events, null, None);
        stream.Position = 0;
        await using (var reader = await ParquetReader.CreateAsync(stream, leaveStreamOpen: true))
            Assert.Equal(2, reader.RowGroupCount);
        stream.Position = 0;
        var read = (await EventParquet.ReadAsync(stream, None)).Events;
        Assert.Equal(events.Select(e => e.EventId), read.Select(e => e.EventId));
        EventCompactionTests.AssertSameEvents(events, read);

        Assert.Empty((await RoundTripAsync([], null)).Events);
    }

    [Fact]
    public void The_schema_keeps_its_columns_their_order_and_types()
    {
        // Schema events/2 as analysts' queries know it (docs/architecture.md): the named props' columns come
        // from the prop table now, and must stay exactly these.
        Assert.Equal(
        [
            "event_id:String", "type:String", "custom_name:String?", "time:DateTime", "user_id:String?", "mini_program_id:String",
            "session_id:String?", "platform:String?", "scene:Int32?", "load_ms:Int64?", "referrer_mini_program_id:String?",
            "duration_ms:Int64?", "page:String?", "share_target:String?", "order_id:String?", "amount:Int64?", "currency:String?",
            "merchant_id:String?", "ad_unit_id:String?", "revenue:Int64?", "error_kind:String?", "message:String?", "reason:String?",
            "scope:String?", "developer_id:String?", "version:String?", "category:String?", "extra_props:String?", "source:String?",
            "received_at:DateTime?",
        ], EventParquet.Schema.GetDataFields().Select(f => $"{f.Name}:{(f.ClrType == typeof(ReadOnlyMemory<char>) ? "String" : f.ClrType.Name)}{(f.IsNullable ? "?" : "")}"));
    }

    [Fact]
    public async Task A_Parquet_file_of_another_schema_is_refused_clearly()
    {
        using var stream = new MemoryStream();
        var field = new DataField<int>("x");
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(field), stream))
        using (var group = writer.CreateRowGroup())
            await group.WriteAsync<int>(field, new[] { 1 });
        stream.Position = 0;
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => EventParquet.ReadAsync(stream, None));
        Assert.Contains(EventParquet.SchemaVersion, ex.Message);

        await Assert.ThrowsAsync<InvalidDataException>(() => EventParquet.ReadAsync(new MemoryStream("not parquet at all"u8.ToArray()), None));
    }

    private static async Task<(List<PipelineEvent> Events, IReadOnlyDictionary<string, string> Metadata)> RoundTripAsync(IReadOnlyList<PipelineEvent> events, IReadOnlyDictionary<string, string>? metadata)
    {
        using var stream = new MemoryStream();
        await EventParquet.WriteAsync(stream, events, metadata, None);
        stream.Position = 0;
        return await EventParquet.ReadAsync(stream, None);
    }
}
