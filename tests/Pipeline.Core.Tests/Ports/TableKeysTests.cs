using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Tests.Ports;

/// <summary>The one table-key rule (Core's key builders and Storage's tables both use it).</summary>
public sealed class TableKeysTests
{
    [Theory]
    [InlineData("plain-value_1", "plain-value_1")]
    [InlineData("a/b", "a%2Fb")]
    [InlineData("a|b", "a%7Cb")]
    [InlineData("100%", "100%25")]
    [InlineData("back\\slash", "back%5Cslash")]
    [InlineData("#frag?q", "%23frag%3Fq")]
    [InlineData("line\nbreak\t", "line%0Abreak%09")]
    [InlineData("页面/首页", "页面%2F首页")]
    public void Escapes_reserved_and_control_characters(string value, string escaped)
    {
        Assert.Equal(escaped, TableKeys.Escape(value));
        Assert.Equal(value, Uri.UnescapeDataString(escaped)); // percent-encoded UTF-8: reversible, so distinct values keep distinct keys
        Assert.True(TableKeys.IsValid(escaped) || escaped.Length == 0);
    }

    [Theory]
    [InlineData("payments", true)]
    [InlineData("页面", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("a/b", false)]
    [InlineData("a\\b", false)]
    [InlineData("a#b", false)]
    [InlineData("a?b", false)]
    [InlineData("a\u0001b", false)]
    [InlineData("a\u0085b", false)]
    public void Says_which_strings_a_table_accepts_as_keys(string? key, bool valid)
    {
        Assert.Equal(valid, TableKeys.IsValid(key));
    }

    [Fact]
    public void A_key_is_at_most_512_characters()
    {
        Assert.True(TableKeys.IsValid(new string('k', TableKeys.MaxLength)));
        Assert.False(TableKeys.IsValid(new string('k', TableKeys.MaxLength + 1)));
    }

    [Fact]
    public void Every_source_name_and_mini_program_id_is_a_table_key_as_it_is()
    {
        // Names and ids are stored as keys unescaped: their rules must keep them inside the table-key rule.
        foreach (var c in Enumerable.Range(0, 0x3000).Select(i => (char)i))
        {
            var s = new string(c, 1);
            if (SourceNames.IsValid(s) || MiniProgramIds.IsValid(s))
            {
                Assert.True(TableKeys.IsValid(s), $"U+{(int)c:X4}");
                Assert.Equal(s, TableKeys.Escape(s));
            }
        }
        Assert.True(TableKeys.IsValid(new string('a', SourceNames.MaxLength)));
        Assert.True(TableKeys.IsValid(new string('a', IngestLimits.MaxMiniProgramIdLength)));
    }
}
