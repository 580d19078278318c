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
    public void A_referrer_row_belongs_to_the_mini_program_referred_to_not_to_the_referrer()
    {
        // miniProgram.referrer = <the session's own mini-program>/<referrerMiniProgramId>, the referrer as the session sent it.
        var referred = new ReadAccess("dev-a", false, new HashSet<string>(["wxA"]));
        var referrer = new ReadAccess("dev-b", false, new HashSet<string>(["wxB"]));

        Assert.True(referred.Sees(Row("miniProgram.referrer", "wxA/wxB")));
        Assert.False(referrer.Sees(Row("miniProgram.referrer", "wxA/wxB")));   // wxB sent the user; the session is wxA's
        Assert.True(referrer.Sees(Row("miniProgram.referrer", "wxB/wxA")));
        Assert.False(referred.Sees(Row("miniProgram.referrer", "wxB/wxA")));
        Assert.True(referred.Sees(Row("miniProgram.referrer", "wxA/wxA")));    // referred by itself
        Assert.False(referred.Sees(Row("miniProgram.referrer", "wxAB/wxA")));  // a longer id is another mini-program
    }

    [Fact]
    public void A_slash_in_the_part_after_the_id_does_not_move_the_row_to_another_mini_program()
    {
        // Ingest accepts any 1 to 128 characters as a referrer, so the part after the first '/' may hold more '/'.
        var a = new ReadAccess("dev-a", false, new HashSet<string>(["wxA"]));
        var b = new ReadAccess("dev-b", false, new HashSet<string>(["wxB"]));
        var c = new ReadAccess("dev-c", false, new HashSet<string>(["wxC"]));

        var odd = Row("miniProgram.referrer", "wxA/wxB/pages/x");
        Assert.Equal("wxA", MetricRowKeys.ProgramPartitionKey(odd));            // split at the first '/', stored in wxA's partition
        Assert.True(a.Sees(odd));
        Assert.False(b.Sees(odd));
        Assert.False(c.Sees(Row("miniProgram.referrer", "wxA/x/wxC")));         // nor at the last '/'
        Assert.True(a.Sees(Row("miniProgram.referrer", "wxA//")));
        Assert.True(a.Sees(Row("miniProgram.event", "wxA/(other)")));
        Assert.False(a.Sees(Row("miniProgram.referrer", "/wxA")));               // no id before the '/': withheld, not thrown
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
