using Pipeline.Core.Ingest;

namespace Pipeline.Core.Tests.Ingest;

public class RequestHeadersTests
{
    [Theory]
    [InlineData("application/json")]
    [InlineData("Application/JSON")]
    [InlineData(" application/json ")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json;charset=UTF-8")]
    [InlineData("application/json; charset=\"utf-8\"")]
    [InlineData("application/json; CHARSET=Utf-8")]
    [InlineData("application/json; foo=bar; charset=utf-8")]
    [InlineData("application/json;")]
    public void Accepts_json_with_optional_utf8_charset(string contentType) =>
        Assert.True(RequestHeaders.IsJsonUtf8(contentType));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("text/plain")]
    [InlineData("application/jsonx")]
    [InlineData("application/x-json")]
    [InlineData("text/json")]
    [InlineData("application/json; charset=latin1")]
    [InlineData("application/json; charset=utf8")]
    [InlineData("application/json; charset=utf-16")]
    [InlineData("application/json; charset=")]
    [InlineData("application/json; charset")]
    [InlineData("application/json; charset=utf-8; charset=latin1")]
    public void Refuses_other_media_types_and_charsets(string? contentType) =>
        Assert.False(RequestHeaders.IsJsonUtf8(contentType));

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("identity", false)]
    [InlineData("gzip", true)]
    [InlineData("GZip", true)]
    [InlineData(" gzip ", true)]
    public void Accepts_gzip_or_no_encoding(string? encoding, bool gzip)
    {
        Assert.True(RequestHeaders.TryParseContentEncoding(encoding, out var isGzip));
        Assert.Equal(gzip, isGzip);
    }

    [Theory]
    [InlineData("br")]
    [InlineData("deflate")]
    [InlineData("x-gzip")]
    [InlineData("gzip, br")]
    [InlineData("gzip, gzip")]
    public void Refuses_other_encodings(string encoding) =>
        Assert.False(RequestHeaders.TryParseContentEncoding(encoding, out _));
}
