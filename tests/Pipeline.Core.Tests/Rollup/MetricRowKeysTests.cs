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
        Assert.Equal("2026-11-23|pages.views|miniProgram.page|wx12ab%2Fpages%2Findex%3Fx=1", MetricRowKeys.ProgramRowKey(page));
        Assert.Equal("wx12ab", MetricRowKeys.ProgramPartitionKey(page));
        Assert.True(MetricRowKeys.IsProgramRow(page));

        var money = Row("businesses.gmv", "miniProgram.currency", "wx-9_z/CNY");
        Assert.Equal("wx-9_z", MetricRowKeys.ProgramPartitionKey(money));
        Assert.False(MetricRowKeys.IsProgramRow(Row("users.dau", "total", "")));
        Assert.Equal("users.dau|total|", MetricRowKeys.DailyRowKey(Row("users.dau", "total", "")));
        Assert.Equal("2026-11-23", MetricRowKeys.PartitionKey(new DateOnly(2026, 11, 23)));
    }

    [Fact]
    public void A_mini_programs_rows_of_a_day_share_one_bucket_partition_and_ecosystem_rows_the_days_own()
    {
        var page = Row("pages.views", "miniProgram.page", "wx12ab/pages/index?x=1");
        var money = Row("businesses.gmv", "miniProgram.currency", "wx12ab/CNY");
        var dau = Row("users.dau", "miniProgram", "wx12ab");

        var bucket = MetricRowKeys.DailyPartitionKey(dau);
        Assert.Matches("^2026-11-23\\|[0-6][0-9]$", bucket);
        Assert.Equal(bucket, MetricRowKeys.DailyPartitionKey(page));
        Assert.Equal(bucket, MetricRowKeys.DailyPartitionKey(money));
        Assert.Equal("2026-11-23", MetricRowKeys.DailyPartitionKey(Row("users.dau", "total", "")));
        // The day's partitions sort inside [day, day}) and no other day's do.
        Assert.True(string.CompareOrdinal(bucket, "2026-11-23") > 0 && string.CompareOrdinal(bucket, MetricRowKeys.PartitionRangeEnd(new DateOnly(2026, 11, 23))) < 0);
        Assert.True(string.CompareOrdinal("2026-11-24", MetricRowKeys.PartitionRangeEnd(new DateOnly(2026, 11, 23))) > 0);
        // Persisted: a mini-program's bucket never changes between releases (XxHash32 of its key, mod 64).
        Assert.Equal((int)(System.IO.Hashing.XxHash32.HashToUInt32("wx12ab"u8) % 64), MetricRowKeys.Bucket("wx12ab"));
        Assert.Equal(64, Enumerable.Range(0, 5000).Select(i => MetricRowKeys.Bucket($"wx{i}")).Distinct().Count());
    }
}
