using System.Buffers.Text;
using System.Security.Cryptography;
using Pipeline.Core.Ingest;

namespace Pipeline.Core.Tests.Ingest;

public class IngestKeysTests
{
    private static readonly DateTimeOffset Now = IngestTestData.Now;

    [Fact]
    public void Created_key_has_the_documented_format_and_stores_only_the_hash()
    {
        var (plaintext, record) = IngestKeys.Create("wx-sdk", Now);
        Assert.Matches("^mpk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$", plaintext);
        Assert.Equal(plaintext.Substring(4, 12), record.KeyId);
        Assert.Equal("wx-sdk", record.Source);
        Assert.Equal(Now, record.CreatedAt);
        Assert.Null(record.RevokedAt);
        var secret = plaintext[17..];
        Assert.Equal(SHA256.HashData(Base64Url.DecodeFromChars(secret)), record.SecretHash);
    }

    [Fact]
    public void Keys_are_random()
    {
        var a = IngestKeys.Create("s", Now);
        var b = IngestKeys.Create("s", Now);
        Assert.NotEqual(a.Plaintext, b.Plaintext);
        Assert.NotEqual(a.Record.KeyId, b.Record.KeyId);
    }

    [Fact]
    public void Parse_then_verify_round_trips()
    {
        var (plaintext, record) = IngestKeys.Create("s", Now);
        Assert.True(IngestKeys.TryParse(plaintext, out var keyId, out var secret));
        Assert.Equal(record.KeyId, keyId);
        Assert.Equal(IngestKeyStatus.Valid, IngestKeys.Check(record, secret, Now));
    }

    [Fact]
    public void Wrong_secret_fails()
    {
        var (_, record) = IngestKeys.Create("s", Now);
        var (other, _) = IngestKeys.Create("s", Now);
        Assert.True(IngestKeys.TryParse(other, out _, out var otherSecret));
        Assert.NotEqual(IngestKeyStatus.Valid, IngestKeys.Check(record, otherSecret, Now));
        Assert.NotEqual(IngestKeyStatus.Valid, IngestKeys.Check(record, "not-a-secret", Now));
    }

    [Fact]
    public void Revoked_key_fails_from_its_revocation_time()
    {
        var (plaintext, record) = IngestKeys.Create("s", Now);
        IngestKeys.TryParse(plaintext, out _, out var secret);
        Assert.NotEqual(IngestKeyStatus.Valid, IngestKeys.Check(record with { RevokedAt = Now }, secret, Now));
        Assert.NotEqual(IngestKeyStatus.Valid, IngestKeys.Check(record with { RevokedAt = Now.AddDays(-1) }, secret, Now));
        Assert.Equal(IngestKeyStatus.Valid, IngestKeys.Check(record with { RevokedAt = Now.AddMilliseconds(1) }, secret, Now));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("mpk_0123456789ab")]
    [InlineData("mpx_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]  // prefix
    [InlineData("mpk_0123456789AB_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]  // upper-case hex
    [InlineData("mpk_0123456789ag_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]  // not hex
    [InlineData("mpk_0123456789ab-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]  // separator
    [InlineData("mpk_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]   // secret too short
    [InlineData("mpk_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // secret too long
    [InlineData("mpk_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+")]  // not base64url
    [InlineData("mpk_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB")]  // non-canonical last char
    public void Malformed_keys_do_not_parse(string? header) => Assert.False(IngestKeys.TryParse(header, out _, out _));

    [Fact]
    public void A_well_formed_key_parses()
    {
        Assert.True(IngestKeys.TryParse("mpk_0123456789ab__-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE", out var keyId, out var secret));
        Assert.Equal("0123456789ab", keyId);
        Assert.Equal("_-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE", secret);
    }
}
