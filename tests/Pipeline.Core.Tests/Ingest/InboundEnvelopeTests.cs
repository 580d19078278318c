using System.Text;
using Pipeline.Core.Ingest;

namespace Pipeline.Core.Tests.Ingest;

public class InboundEnvelopeTests
{
    [Fact]
    public void Splits_source_and_batch()
    {
        const string batch = "{\"sentAt\":\"2026-11-23T10:15:30Z\",\"events\":[{\"a\":[1,{\"b\":2}]}]}";
        var message = Encoding.UTF8.GetBytes("{\"source\":\"payments\",\"v\":[1],\"batch\":" + batch + "}");
        Assert.True(InboundEnvelope.TryParse(message, out var source, out var body, out var error), error);
        Assert.Equal("payments", source);
        Assert.Equal(batch, Encoding.UTF8.GetString(body.Span));
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{\"batch\":{}}", "\"source\"")]
    [InlineData("{\"source\":\"\",\"batch\":{}}", "\"source\"")]
    [InlineData("{\"source\":1,\"batch\":{}}", "\"source\" must be a string")]
    [InlineData("{\"source\":\"Pay/ments\",\"batch\":{}}", "a source name (1 to 64 of lowercase letters")]
    [InlineData("{\"source\":\"p\"}", "no \"batch\"")]
    [InlineData("{\"source\":\"p\",\"batch\":[]}", "\"batch\" must be a JSON object")]
    [InlineData("{\"source\":\"p\",\"source\":\"q\",\"batch\":{}}", "twice")]
    [InlineData("{\"source\":\"p\",\"batch\":{},\"batch\":{}}", "twice")]
    [InlineData("{\"source\":\"p\",\"batch\":{}} x", "not valid JSON")]
    [InlineData("{\"source\":\"p\",\"batch\":{\"events\":[}", "not valid JSON")]
    public void Refuses_other_messages(string message, string errorPart)
    {
        Assert.False(InboundEnvelope.TryParse(Encoding.UTF8.GetBytes(message), out _, out _, out var error));
        Assert.Contains(errorPart, error);
    }
}
