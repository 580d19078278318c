using System.IO.Compression;
using System.Text;
using Pipeline.Core.Ingest;

namespace Pipeline.Core.Tests.Ingest;

public class BodyReaderTests
{
    internal static byte[] Gzip(ReadOnlySpan<byte> data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }

    private static byte[] Bytes(int length, byte fill = (byte)' ') => Enumerable.Repeat(fill, length).ToArray();

    [Fact]
    public async Task Plain_body_exactly_at_the_limit_is_read_whole()
    {
        var data = Bytes(IngestLimits.MaxBodyBytes);
        using var result = await BodyReader.ReadAsync(new MemoryStream(data), gzip: false, CancellationToken.None);
        Assert.Equal(BodyReadStatus.Ok, result.Status);
        Assert.Equal(IngestLimits.MaxBodyBytes, result.Body.Length);
    }

    [Fact]
    public async Task Plain_body_one_byte_over_the_limit_is_too_large()
    {
        using var result = await BodyReader.ReadAsync(new MemoryStream(Bytes(IngestLimits.MaxBodyBytes + 1)), gzip: false, CancellationToken.None);
        Assert.Equal(BodyReadStatus.TooLarge, result.Status);
        Assert.True(result.Body.IsEmpty);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(16 * 1024)]
    [InlineData(100_000)]
    public async Task Gzip_body_round_trips(int length)
    {
        var data = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, length).Select(i => (char)('a' + i % 26))));
        using var result = await BodyReader.ReadAsync(new MemoryStream(Gzip(data)), gzip: true, CancellationToken.None);
        Assert.Equal(BodyReadStatus.Ok, result.Status);
        Assert.Equal(data, result.Body.ToArray());
    }

    [Fact]
    public async Task Gzip_limit_applies_to_decompressed_bytes_at_and_past_the_boundary()
    {
        var atLimit = Gzip(Bytes(1000));
        using (var ok = await BodyReader.ReadAsync(new MemoryStream(atLimit), true, 1000, CancellationToken.None))
            Assert.Equal(BodyReadStatus.Ok, ok.Status);
        var over = Gzip(Bytes(1001));
        using var tooLarge = await BodyReader.ReadAsync(new MemoryStream(over), true, 1000, CancellationToken.None);
        Assert.Equal(BodyReadStatus.TooLarge, tooLarge.Status);
    }

    [Fact]
    public void Gzip_bomb_is_stopped_after_the_limit_without_inflating_it()
    {
        // 100 MiB of zeros, about 100 KiB compressed.
        var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var zeros = new byte[1024 * 1024];
            for (var i = 0; i < 100; i++) gzip.Write(zeros);
        }
        var input = new CountingStream(new MemoryStream(compressed.ToArray()));

        var before = GC.GetAllocatedBytesForCurrentThread();
        // MemoryStream completes synchronously, so the whole read runs on this thread and is measured
        // (blocking is safe: the task is already complete when it returns).
#pragma warning disable xUnit1031
        using var result = BodyReader.ReadAsync(input, gzip: true, CancellationToken.None).GetAwaiter().GetResult();
#pragma warning restore xUnit1031
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(BodyReadStatus.TooLarge, result.Status);
        Assert.True(allocated < 16 * 1024 * 1024, $"allocated {allocated} bytes");
        Assert.True(input.BytesRead < compressed.Length / 4, $"read {input.BytesRead} of {compressed.Length} compressed bytes");
    }

    [Fact]
    public async Task Truncated_gzip_is_an_invalid_body()
    {
        var full = Gzip(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"events\":[]} ", 500))));
        foreach (var cut in new[] { full.Length - 1, full.Length - 8, full.Length / 2, 5 })
        {
            using var result = await BodyReader.ReadAsync(new MemoryStream(full, 0, cut), true, CancellationToken.None);
            Assert.Equal(BodyReadStatus.InvalidBody, result.Status);
        }
    }

    [Fact]
    public async Task Gzip_of_nothing_is_an_empty_body()
    {
        // What `gzip` writes for empty input (GZipStream writes no bytes at all for it).
        var empty = Convert.FromHexString("1F8B0800000000000003030000000000000000000000");
        using var result = await BodyReader.ReadAsync(new MemoryStream(empty[..20]), true, CancellationToken.None);
        Assert.Equal(BodyReadStatus.Ok, result.Status);
        Assert.True(result.Body.IsEmpty);
    }

    [Fact]
    public async Task Empty_body_declared_gzip_is_an_invalid_body()
    {
        using var result = await BodyReader.ReadAsync(new MemoryStream(), true, CancellationToken.None);
        Assert.Equal(BodyReadStatus.InvalidBody, result.Status);
    }

    [Fact]
    public async Task Corrupt_or_plain_body_declared_gzip_is_an_invalid_body()
    {
        var corrupt = Gzip(Encoding.ASCII.GetBytes(new string('a', 5000) + "xyz"));
        corrupt[12] ^= 0xFF;
        corrupt[13] ^= 0x55;
        using (var result = await BodyReader.ReadAsync(new MemoryStream(corrupt), true, CancellationToken.None))
            Assert.Equal(BodyReadStatus.InvalidBody, result.Status);
        using (var result = await BodyReader.ReadAsync(new MemoryStream("{\"events\":[]}"u8.ToArray()), true, CancellationToken.None))
            Assert.Equal(BodyReadStatus.InvalidBody, result.Status);
    }

    [Fact]
    public async Task Data_after_the_gzip_stream_is_an_invalid_body()
    {
        var body = Gzip("{\"a\":1}"u8).Concat("garbage!!"u8.ToArray()).ToArray();
        using var result = await BodyReader.ReadAsync(new MemoryStream(body), true, CancellationToken.None);
        Assert.Equal(BodyReadStatus.InvalidBody, result.Status);
    }

    [Fact]
    public async Task Multi_member_gzip_is_read_whole()
    {
        var body = Gzip("{\"a\":"u8).Concat(Gzip("1}"u8)).ToArray();
        using var result = await BodyReader.ReadAsync(new MemoryStream(body), true, CancellationToken.None);
        Assert.Equal(BodyReadStatus.Ok, result.Status);
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(result.Body.Span));
    }

    [Fact]
    public async Task Cancellation_propagates()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            BodyReader.ReadAsync(new SlowStream(), false, cts.Token));
    }

    [Fact]
    public async Task Disposed_result_no_longer_exposes_the_pooled_bytes()
    {
        var result = await BodyReader.ReadAsync(new MemoryStream("{}"u8.ToArray()), false, CancellationToken.None);
        Assert.Equal(2, result.Body.Length);
        result.Dispose();
        Assert.Throws<ObjectDisposedException>(() => result.Body);
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            BytesRead += read;
            return read;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class SlowStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
