using Pipeline.Core.Query;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Query;

public sealed class ReadAccessTests
{
    private static readonly DateOnly Day = new(2026, 11, 2);

    private static MetricRow Row(string dimension, string value) => new(Day, "m", "users", "core", dimension, value, 1, null, null, "users");

    [Fact]
    public void A_developer_sees_its_mini_programs_rows_of_every_per_mini_program_dimension_only()
    {
        var dev = new ReadAccess("dev", false, new HashSet<string>(["wxA"]));

        Assert.True(dev.Sees(Row("miniProgram", "wxA")));
        Assert.True(dev.Sees(Row("miniProgram.page", "wxA/pages/index")));
        Assert.True(dev.Sees(Row("miniProgram.currency", "wxA/CNY")));
        Assert.False(dev.Sees(Row("miniProgram", "wxB")));
        Assert.False(dev.Sees(Row("miniProgram.page", "wxAB/pages/index")));  // a longer id is another mini-program
        Assert.False(dev.Sees(Row("total", "")));
        Assert.False(dev.Sees(Row("channel", "search")));
        Assert.False(dev.Sees(Row("miniProgram.currency", "broken")));        // malformed: withheld, not thrown
    }

    [Fact]
    public void The_platform_sees_everything()
    {
        var platform = ReadAccess.Platform("analyst");
        Assert.True(platform.Sees(Row("total", "")));
        Assert.True(platform.Sees(Row("miniProgram", "wxB")));
        Assert.True(platform.Sees("anything"));
    }
}
