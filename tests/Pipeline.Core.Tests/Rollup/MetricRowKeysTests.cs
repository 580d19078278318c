using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Rollup;

public sealed class MetricRowKeysTests
{
    private static MetricRow Row(string metric, string dimension, string value) =>
        new(new DateOnly(2026, 11, 23), metric, "users", "core", dimension, value, 1, null, null, "users");

    [Fact]
    public void Daily_and_program_keys()
    {
        var page = Row("pages.views", "miniProgram.page", "wx12ab/pages/index?x=1");
        Assert.Equal("pages.views|miniProgram.page|wx12ab%2Fpages%2Findex%3Fx=1", MetricRowKeys.DailyRowKey(page));
        Assert.Equal("wx12ab", MetricRowKeys.ProgramPartitionKey(page));
        Assert.True(MetricRowKeys.IsProgramRow(page));

        var money = Row("businesses.gmv", "miniProgram.currency", "wx-9_z/CNY");
        Assert.Equal("wx-9_z", MetricRowKeys.ProgramPartitionKey(money));
        Assert.False(MetricRowKeys.IsProgramRow(Row("users.dau", "total", "")));
        Assert.Equal("users.dau|total|", MetricRowKeys.DailyRowKey(Row("users.dau", "total", "")));
        Assert.Equal("2026-11-23", MetricRowKeys.PartitionKey(new DateOnly(2026, 11, 23)));
    }
}
