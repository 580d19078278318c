using System.Security.Cryptography;
using System.Text;
using Pipeline.Core.Ingest;

namespace Pipeline.Core.Tests.Ingest;

public class UserPseudonymizerTests
{
    private const string Key = IngestTestData.PseudonymisationKey;

    private static string Expected(string key, string userId)
    {
        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(key));
        return Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(userId))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    [Theory]
    [InlineData("o6_bmjrPTlm6_2sgVt7hMZOPfL2M")]
    [InlineData("u")]
    [InlineData("用户-😀")]
    public void Is_hmac_sha256_in_base64url_without_padding(string userId)
    {
        var pseudonym = new UserPseudonymizer(Key).Pseudonymize(userId);
        Assert.Equal(Expected(Key, userId), pseudonym);
        Assert.Equal(UserPseudonymizer.PseudonymLength, pseudonym.Length);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", pseudonym);
    }

    [Fact]
    public void Long_ids_use_the_pooled_path_with_the_same_result()
    {
        var userId = new string('é', 5000);
        Assert.Equal(Expected(Key, userId), new UserPseudonymizer(Key).Pseudonymize(userId));
    }

    [Fact]
    public void Is_deterministic_and_depends_on_the_key_and_the_user()
    {
        var a = new UserPseudonymizer(Key);
        Assert.Equal(a.Pseudonymize("user-1"), new UserPseudonymizer(Key).Pseudonymize("user-1"));
        Assert.NotEqual(a.Pseudonymize("user-1"), a.Pseudonymize("user-2"));
        Assert.NotEqual(a.Pseudonymize("user-1"), new UserPseudonymizer(Key + "x").Pseudonymize("user-1"));
    }

    [Fact]
    public void Reads_the_key_from_options() =>
        Assert.Equal(new UserPseudonymizer(Key).Pseudonymize("u"),
            new UserPseudonymizer(new PipelineOptions { PseudonymisationKey = Key }).Pseudonymize("u"));

    [Fact]
    public void Refuses_an_empty_key() => Assert.Throws<ArgumentException>(() => new UserPseudonymizer(""));
}
