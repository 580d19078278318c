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
        Assert.Equal(43, pseudonym.Length); // 32 bytes of HMAC-SHA-256 in base64url without padding
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
    public void Reused_hmac_state_gives_the_same_pseudonyms_on_many_threads_in_any_order()
    {
        // Each thread keeps a keyed HMAC that is reset after every hash: nothing of one id may leak into the next.
        var pseudonymizer = new UserPseudonymizer(Key);
        var ids = Enumerable.Range(0, 2000).Select(i => $"o6_user{i % 300}-{new string('x', i % 70)}").ToArray();
        var results = new string[8][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
            results[t] = (t % 2 == 0 ? ids : ids.Reverse()).Select(pseudonymizer.Pseudonymize).ToArray());
        var expected = ids.Select(id => Expected(Key, id)).ToArray();
        for (var t = 0; t < results.Length; t++)
            Assert.Equal(t % 2 == 0 ? expected : expected.Reverse(), results[t]);
    }

    [Fact]
    public void A_key_longer_than_the_hash_block_is_hashed_first_as_hmac_requires()
    {
        var key = new string('k', 200);
        Assert.Equal(Expected(key, "u"), new UserPseudonymizer(key).Pseudonymize("u"));
        Assert.Equal(Expected(key, "u"), new UserPseudonymizer(key).Pseudonymize("u"u8));
    }

    [Fact]
    public void Reads_the_key_from_options() =>
        Assert.Equal(new UserPseudonymizer(Key).Pseudonymize("u"),
            new UserPseudonymizer(new PipelineOptions { PseudonymisationKey = Key }).Pseudonymize("u"));

    [Fact]
    public void Refuses_an_empty_key() => Assert.Throws<ArgumentException>(() => new UserPseudonymizer(""));
}
