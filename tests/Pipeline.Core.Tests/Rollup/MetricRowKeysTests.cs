using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Rollup;

public sealed class MetricRowKeysTests
{
    private static MetricRow Row(string metric, string dimension, string value) =>
        new(new DateOnly(2026, 11, 23), metric, "users", "core", dimension, value, 1, null, null, "users");

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
        Assert.Equal(escaped, MetricRowKeys.Escape(value));
        Assert.Equal(value, MetricRowKeys.Unescape(escaped));
    }

    [Fact]
    public void Daily_and_program_keys()
    {
        var page = Row("pages.views", "miniProgram.page", "wx12ab/pages/index?x=1");
        Assert.Equal("pages.views|miniProgram.page|wx12ab%2Fpages%2Findex%3Fx=1", MetricRowKeys.DailyRowKey(page));
        Assert.Equal("2026-11-23|pages.views|miniProgram.page|wx12ab%2Fpages%2Findex%3Fx=1", MetricRowKeys.ProgramRowKey(page));
        Assert.Equal("wx12ab", MetricRowKeys.ProgramPartitionKey(page));
        Assert.True(MetricRowKeys.IsProgramRow(page));

        var money = Row("businesses.gmv", "miniProgram.currency", "wx-9_z/CNY");
        Assert.Equal("wx-9_z", MetricRowKeys.ProgramPartitionKey(money));
        Assert.False(MetricRowKeys.IsProgramRow(Row("users.dau", "total", "")));
        Assert.Equal("users.dau|total|", MetricRowKeys.DailyRowKey(Row("users.dau", "total", "")));
        Assert.Equal("2026-11-23", MetricRowKeys.PartitionKey(new DateOnly(2026, 11, 23)));
    }
}
