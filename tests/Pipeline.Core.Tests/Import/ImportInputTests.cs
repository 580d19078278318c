using System.Text;
using System.Text.Json;
using Pipeline.Core.Import;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using static Pipeline.Core.Tests.Import.ImportTestData;

namespace Pipeline.Core.Tests.Import;

public class ImportInputTests
{
    private static string ReadToEnd(ImportInput input)
    {
        using var output = new MemoryStream();
        input.CopyTo(output);
        return Encoding.UTF8.GetString(output.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 0x1f, 0x8b }, true)]
    [InlineData(new byte[] { 0x1f, 0x8b, 8, 0 }, true)]
    [InlineData(new byte[] { 0x1f }, false)]
    [InlineData(new byte[] { 0x8b, 0x1f }, false)]
    [InlineData(new byte[] { (byte)'{', (byte)'"' }, false)]
    [InlineData(new byte[0], false)]
    public void Gzip_is_its_two_magic_bytes(byte[] head, bool gzip) => Assert.Equal(gzip, ImportInput.IsGzipMagic(head));

    [Theory]
    [InlineData(1)]
    [InlineData(64 * 1024)]
    public void A_gzip_stream_is_decompressed_and_a_plain_one_passed_through_whatever_it_is_called(int perRead)
    {
        var text = "{\"eventId\":\"a\"}\n{\"eventId\":\"b\"}\n";
        using var gzip = ImportInput.Open(new TrickleStream(Gzip(text), perRead));
        Assert.True(gzip.IsGzip);
        Assert.Equal(text, ReadToEnd(gzip));
        Assert.Null(gzip.IncompleteReason());

        using var plain = ImportInput.Open(new TrickleStream(Encoding.UTF8.GetBytes(text), perRead));
        Assert.False(plain.IsGzip);
        Assert.Equal(text, ReadToEnd(plain));
        Assert.Null(plain.IncompleteReason());
    }

    [Fact]
    public void Short_and_empty_files_are_plain()
    {
        using var one = ImportInput.Open(new MemoryStream([0x1f]));
        Assert.False(one.IsGzip);
        Assert.Equal("\u001f", ReadToEnd(one));
        using var empty = ImportInput.Open(new MemoryStream());
        Assert.Equal("", ReadToEnd(empty));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(1000)]
    public void A_truncated_gzip_file_is_noticed_at_its_end(int cut)
    {
        var data = new StringBuilder();
        for (var i = 0; i < 20_000; i++) data.Append("{\"eventId\":\"e-").Append(i).Append("\"}\n");
        var gzip = Gzip(data.ToString());

        using var input = ImportInput.Open(new MemoryStream(gzip[..^cut]));
        ReadToEnd(input); // .NET's GZipStream ends silently
        Assert.Contains("truncated", input.IncompleteReason());
    }

    [Fact]
    public void Data_after_the_gzip_stream_is_noticed()
    {
        using var input = ImportInput.Open(new MemoryStream([.. Gzip("{}\n"), .. "garbage!!"u8.ToArray()]));
        ReadToEnd(input);
        Assert.NotNull(input.IncompleteReason());
    }

    [Fact]
    public void Corrupt_gzip_throws_invalid_data()
    {
        var gzip = Gzip(string.Concat(Enumerable.Repeat("{\"eventId\":\"a\"}\n", 1000)));
        for (var i = 12; i < 40; i++) gzip[i] ^= 0x5a;
        using var input = ImportInput.Open(new MemoryStream(gzip));
        Assert.Throws<InvalidDataException>(() => ReadToEnd(input));
    }

    [Fact]
    public void Disposing_the_input_leaves_the_file_open()
    {
        var file = new MemoryStream(Gzip("{}"));
        ImportInput.Open(file).Dispose();
        Assert.True(file.CanRead);
    }
}

public class ImportChunkTests
{
    private static readonly BatchParser Parser = new(new UserPseudonymizer(new string('k', 32)));
    private static readonly SourceRegistration Source = new("s", true, [], DateTimeOffset.UnixEpoch);

    [Fact]
    public void Holds_at_most_the_event_limit_and_its_body_is_a_valid_batch()
    {
        using var chunk = new ImportChunk(0, maxEvents: 3);
        Assert.True(chunk.TryAdd("""{"eventId":"a"}"""u8, 1, -1, 11));
        Assert.True(chunk.TryAdd(""" {"eventId":"b"} """u8, 2, -1, 12));
        Assert.True(chunk.TryAdd("""{"eventId":"c"}"""u8, 5, -1, 13));
        Assert.True(chunk.IsFull);
        Assert.False(chunk.TryAdd("""{"eventId":"d"}"""u8, 6, -1, 14));

        var body = chunk.Body();
        Assert.Equal("""{"events":[{"eventId":"a"}, {"eventId":"b"} ,{"eventId":"c"}]}""", Encoding.UTF8.GetString(body.Span));
        using var json = JsonDocument.Parse(body);
        Assert.Equal(3, json.RootElement.GetProperty("events").GetArrayLength());
        Assert.Equal([1L, 2, 5], chunk.Lines);
        Assert.Equal([11UL, 12, 13], chunk.IdHashes);
        Assert.Equal(3, Parser.Parse(body, Source, DateTimeOffset.UnixEpoch).ReceivedCount);
    }

    [Fact]
    public void Defaults_to_the_contracts_limits()
    {
        using var chunk = new ImportChunk(0);
        for (var i = 0; i < IngestLimits.MaxEvents; i++) Assert.True(chunk.TryAdd("{}"u8, i, -1, 0));
        Assert.False(chunk.TryAdd("{}"u8, 0, -1, 0));
    }

    [Fact]
    public void Never_exceeds_the_byte_limit_and_the_event_that_does_not_fit_starts_the_next_chunk()
    {
        var maxBytes = ImportChunk.MinBytesFor(ImportLimits.MaxItemBytes);
        var event30k = Encoding.UTF8.GetBytes("{\"eventId\":\"x\",\"p\":\"" + new string('x', 30_000) + "\"}");
        using var chunk = new ImportChunk(0, maxBytes: maxBytes);
        Assert.True(chunk.TryAdd(event30k, 1, -1, 0));
        Assert.True(chunk.TryAdd(event30k, 2, -1, 0));
        Assert.False(chunk.TryAdd(event30k, 3, -1, 0));
        Assert.True(chunk.BodyBytes <= maxBytes);
        Assert.Equal(chunk.BodyBytes, chunk.Body().Length);

        // The largest line an import reads always fits an empty chunk at the smallest limit allowed.
        using var next = new ImportChunk(1, maxBytes: maxBytes);
        Assert.True(next.TryAdd(new byte[ImportLimits.MaxItemBytes], 3, -1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImportChunk(2, maxBytes: maxBytes - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImportChunk(2, maxBytes: IngestLimits.MaxBodyBytes + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImportChunk(2, maxEvents: IngestLimits.MaxEvents + 1));
    }
}
