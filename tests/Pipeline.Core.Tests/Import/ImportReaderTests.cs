using System.Text;
using Pipeline.Core.Events;
using Pipeline.Core.Import;
using Pipeline.Core.Ingest;
using static Pipeline.Core.Tests.Import.ImportTestData;

namespace Pipeline.Core.Tests.Import;

public class LineReaderTests
{
    private static List<(long Number, string? Text, long TooLong)> Lines(Stream stream, int max)
    {
        var reader = new LineReader(stream, max);
        var lines = new List<(long, string?, long)>();
        while (reader.TryReadLine(out var number, out var line, out var tooLong))
            lines.Add((number, tooLong > 0 ? null : Encoding.UTF8.GetString(line.Span), tooLong));
        return lines;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public void Splits_on_newlines_drops_cr_keeps_empty_lines_and_a_last_line_without_newline(int perRead)
    {
        var text = "a\r\nbb\n\n  \ncc";
        Assert.Equal(
            [(1L, "a", 0L), (2, "bb", 0), (3, "", 0), (4, "  ", 0), (5, "cc", 0)],
            Lines(new TrickleStream(Encoding.UTF8.GetBytes(text), perRead), 16));
    }

    [Fact]
    public void Skips_a_byte_order_mark_at_the_start_only()
    {
        var bytes = "\uFEFFa\n\uFEFFb"u8.ToArray();
        var lines = Lines(new MemoryStream(bytes), 16);
        Assert.Equal("a", lines[0].Text);
        Assert.Equal("\uFEFFb", lines[1].Text);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100_000)]
    public void A_line_over_the_limit_is_measured_and_skipped_and_the_next_line_is_intact(int perRead)
    {
        var max = 10;
        var text = new string('x', 10) + "\n" + new string('y', 11) + "\n" + new string('z', 10) + "\r\n" + new string('w', 5000) + "\nend";
        var lines = Lines(new TrickleStream(Encoding.UTF8.GetBytes(text), perRead), max);

        Assert.Equal(
            [(1L, new string('x', 10), 0L), (2, null, 11), (3, new string('z', 10), 0), (4, null, 5000), (5, "end", 0)],
            lines);
    }

    [Fact]
    public void A_last_line_over_the_limit_without_newline_is_measured()
    {
        Assert.Equal([(1L, "ok", 0L), (2, null, 25)], Lines(Utf8("ok\n" + new string('q', 25)), 10));
    }

    [Fact]
    public void Memory_stays_bounded_whatever_the_line_length()
    {
        // 3 MB on one line through a reader with a 64 KiB limit: counted, never held.
        var huge = new byte[3_000_002];
        huge.AsSpan().Fill((byte)'a');
        huge[^2] = (byte)'\n';
        huge[^1] = (byte)'b';
        var file = new MemoryStream(huge);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var lines = Lines(file, ImportLimits.MaxItemBytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal([(1L, null, 3_000_000L), (2, "b", 0)], lines);
        Assert.True(allocated < 1_000_000, $"allocated {allocated} bytes");
    }
}

public class NdjsonReaderTests
{
    [Fact]
    public void Hands_out_each_object_line_and_rejects_what_is_not_one_json_object_with_its_line()
    {
        var text = string.Join("\n",
            """{"eventId":"a","type":"page_view"}""",
            "not json",
            "",
            "[1,2]",
            """{"eventId":"b"} {"eventId":"c"}""",
            """  {"eventId":"d"}  """,
            """{"eventId":"e",""",
            "42");
        var items = ReadAll(new NdjsonReader(Utf8(text)));

        Assert.Equal(
            [
                (1L, -1, (string?)null, (string?)"""{"eventId":"a","type":"page_view"}"""),
                (2, -1, ImportCodes.InvalidJson, null),
                (4, -1, RejectionCodes.InvalidField, null),
                (5, -1, ImportCodes.InvalidJson, null),
                (6, -1, null, """  {"eventId":"d"}  """),
                (7, -1, ImportCodes.InvalidJson, null),
                (8, -1, RejectionCodes.InvalidField, null),
            ],
            items);
    }

    [Fact]
    public void Counts_blank_lines_and_rejects_long_lines_as_line_too_long()
    {
        var reader = new NdjsonReader(Utf8("\n \t\n" + new string(' ', 20) + "{}\n{}"), maxLineBytes: 16);
        var items = ReadAll(reader);
        Assert.Equal([(3L, -1, (string?)ImportCodes.LineTooLong, (string?)null), (4, -1, null, "{}")], items);
        Assert.Equal(2, reader.BlankLines);
    }

    [Fact]
    public void A_line_nested_as_deep_as_a_body_allows_passes_and_one_level_deeper_is_invalid_json()
    {
        // In a body an event sits two levels down (root object, events array).
        static string Nested(int depth) => """{"eventId":"x","props":""" + new string('[', depth - 1) + new string(']', depth - 1) + "}";
        var ok = Nested(IngestLimits.MaxJsonDepth - 2);
        var deep = Nested(IngestLimits.MaxJsonDepth - 1);

        var items = ReadAll(new NdjsonReader(Utf8(ok + "\n" + deep)));

        Assert.Null(items[0].Code);
        Assert.Equal(ImportCodes.InvalidJson, items[1].Code);
        // And the accepted line parses inside a body (it is rejected there on its own, never as the whole batch).
        var parsed = new BatchParser(new UserPseudonymizer(new string('k', 32))).Parse(Encoding.UTF8.GetBytes("{\"events\":[" + ok + "]}"),
            new Pipeline.Core.Ports.SourceRegistration("s", true, [], DateTimeOffset.UnixEpoch), DateTimeOffset.UnixEpoch);
        Assert.False(parsed.IsBatchError);
    }

    [Fact]
    public void Finds_the_event_id_also_when_escaped_and_not_in_nested_objects()
    {
        static ulong Hash(string line)
        {
            Assert.True(new NdjsonReader(Utf8(line)).TryRead(out var item));
            return item.IdHash;
        }

        Assert.NotEqual(0UL, Hash("""{"eventId":"abc"}"""));
        Assert.Equal(Hash("""{"eventId":"abc"}"""), Hash("""{"type":"x","eventId":"\u0061bc"}"""));
        Assert.NotEqual(Hash("""{"eventId":"abc"}"""), Hash("""{"eventId":"abd"}"""));
        Assert.Equal(0UL, Hash("""{"props":{"eventId":"abc"}}"""));
        Assert.Equal(0UL, Hash("""{"eventId":12}"""));
    }
}

public class BatchFileReaderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(1 << 20)]
    public void Hands_out_each_entry_with_the_line_it_starts_on_and_ignores_other_properties(int perRead)
    {
        var text = """
            {
              "sentAt": "2026-11-23T10:00:00Z",
              "events": [
                {"eventId": "a"},
                {"eventId": "b",
                 "props": {"x": [1, 2, {"y": "]}"}]}},
                7,
                {"eventId": "c"}
              ],
              "extra": {"events": "not these"}
            }
            """;
        var items = ReadAll(new BatchFileReader(new TrickleStream(Encoding.UTF8.GetBytes(text), perRead)));

        Assert.Equal(
            [
                (4L, 0, (string?)null, (string?)"""{"eventId": "a"}"""),
                (5, 1, null, "{\"eventId\": \"b\",\n     \"props\": {\"x\": [1, 2, {\"y\": \"]}\"}]}}"),
                (7, 2, RejectionCodes.InvalidField, null),
                (8, 3, null, """{"eventId": "c"}"""),
            ],
            items);
    }

    [Fact]
    public void An_entry_longer_than_the_limit_is_skipped_without_holding_it_and_rejected_as_event_too_large()
    {
        var big = """{"eventId":"big","props":{"a":[""" + string.Join(",", Enumerable.Repeat("\"" + new string('x', 100) + "\"", 3000)) + "]}}";
        var text = "{\"events\":[{\"eventId\":\"a\"},\n" + big + ",\n{\"eventId\":\"b\"}]}";
        var items = ReadAll(new BatchFileReader(new TrickleStream(Encoding.UTF8.GetBytes(text), 4096)));

        Assert.Equal(3, items.Count);
        Assert.Equal((2L, 1, RejectionCodes.EventTooLarge), (items[1].Line, items[1].Entry, items[1].Code));
        Assert.Equal((3L, 2, "{\"eventId\":\"b\"}"), (items[2].Line, items[2].Entry, items[2].Json));
    }

    [Fact]
    public void An_entry_between_32_and_64_KiB_is_handed_to_the_validator()
    {
        var event40k = "{\"eventId\":\"m\",\"props\":{\"a\":\"" + new string('x', 40_000) + "\"}}";
        var items = ReadAll(new BatchFileReader(Utf8("{\"events\":[" + event40k + "]}")));
        Assert.Null(Assert.Single(items).Code);
    }

    [Theory]
    [InlineData("", "empty", 0)]
    [InlineData("[1,2]", "one object", 0)]
    [InlineData("""{"sentAt":"x"}""", "no \"events\"", 0)]
    [InlineData("""{"events":{}}""", "must be an array", 0)]
    [InlineData("""{"events":[{"eventId":"a"}],"events":[]}""", "twice", 1)]
    [InlineData("""{"events":[{"eventId":"a"}]} {}""", "not valid JSON", 1)]
    [InlineData("""{"events":[{"eventId":"a"},""", "not valid JSON", 1)]
    [InlineData("""{"events":[{"eventId":"a"} {"eventId":"b"}]}""", "not valid JSON", 1)]
    public void A_file_that_is_not_one_batch_object_stops_the_reader_after_the_entries_before_the_fault(string text, string expected, int entriesBefore)
    {
        var reader = new BatchFileReader(Utf8(text));
        var read = 0;
        var error = Assert.Throws<ImportFileException>(() =>
        {
            while (reader.TryRead(out _)) read++;
        });
        Assert.Contains(expected, error.Message);
        Assert.Equal(entriesBefore, read);
        Assert.False(reader.TryRead(out _)); // and stays stopped
    }

    [Fact]
    public void A_byte_order_mark_before_the_object_is_skipped_as_the_endpoint_skips_it()
    {
        var items = ReadAll(new BatchFileReader(new TrickleStream([.. "\uFEFF"u8.ToArray(), .. "{\"events\":[{}]}"u8.ToArray()], 1)));
        Assert.Equal([(1L, 0, (string?)null, (string?)"{}")], items);
    }

    [Fact]
    public void A_batch_with_no_entries_is_read_as_nothing()
    {
        Assert.Empty(ReadAll(new BatchFileReader(Utf8("""{"events":[]}"""))));
    }
}

public class ImportFormatTests
{
    [Theory]
    [InlineData("""{"eventId":"a","type":"page_view"}""" + "\n" + """{"eventId":"b"}""", ImportFormat.Ndjson)]
    [InlineData("""{"events":[{"eventId":"a"}]}""", ImportFormat.Batch)]
    [InlineData("""{"sentAt":"2026-11-23T10:00:00Z","events":[""" + "\n", ImportFormat.Batch)]
    [InlineData("{\n  \"sentAt\": 1,\n  \"events\": [\n", ImportFormat.Batch)]
    [InlineData("\uFEFF{\"events\":[]}", ImportFormat.Batch)]
    [InlineData("""{"events":"x"}""", ImportFormat.Ndjson)]
    [InlineData("""{"props":{"events":[]}}""", ImportFormat.Ndjson)]
    [InlineData("not json\n{\"events\":[]}", ImportFormat.Ndjson)]
    [InlineData("", ImportFormat.Ndjson)]
    [InlineData("[{\"eventId\":\"a\"}]", ImportFormat.Ndjson)]
    public void A_batch_file_is_an_object_with_an_events_array_as_its_own_property(string head, ImportFormat expected)
    {
        Assert.Equal(expected, ImportFormats.Detect(Encoding.UTF8.GetBytes(head), wholeFile: false));
    }
}
