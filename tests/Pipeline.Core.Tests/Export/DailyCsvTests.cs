using System.Text;
using Pipeline.Core.Export;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Export;

public sealed class DailyCsvTests
{
    private static readonly DateOnly D = new(2026, 11, 23);

    private static MetricRow Row(string metric, string dimension, string value, double v, double? num = null, double? den = null, string unit = "users") =>
        new(D, metric, metric[..metric.IndexOf('.')], "core", dimension, value, v, num, den, unit);

    [Fact]
    public void Writes_header_sorted_rows_quoting_and_invariant_numbers()
    {
        var rows = new[]
        {
            Row("users.stickiness", "total", "", 1.0 / 3, 1, 3, "ratio"),
            Row("users.dau", "total", "", 12),
            Row("pages.views", "miniProgram.page", "wx1/a,b", 2, unit: "events"),
            Row("pages.views", "miniProgram.page", "wx1/say \"hi\"", 3, unit: "events"),
            Row("users.dau", "miniProgram", "wxB", 5),
            Row("users.dau", "miniProgram", "wxA", 7),
            Row("platform.time_spent_s", "total", "", 0.00001, unit: "s"),
            Row("platform.revenue", "currency", "CNY", 1234567.5, unit: "minor_units"),
        };
        var bytes = DailyCsv.Write(D, rows);
        var text = Encoding.UTF8.GetString(bytes);

        Assert.NotEqual(0xEF, bytes[0]); // no BOM
        var expected =
            "date,stakeholder,tier,metric,dimension,dimension_value,value,numerator,denominator,unit\r\n" +
            "2026-11-23,pages,core,pages.views,miniProgram.page,\"wx1/a,b\",2,,,events\r\n" +
            "2026-11-23,pages,core,pages.views,miniProgram.page,\"wx1/say \"\"hi\"\"\",3,,,events\r\n" +
            "2026-11-23,platform,core,platform.revenue,currency,CNY,1234567.5,,,minor_units\r\n" +
            "2026-11-23,platform,core,platform.time_spent_s,total,,1E-05,,,s\r\n" +
            "2026-11-23,users,core,users.dau,miniProgram,wxA,7,,,users\r\n" +
            "2026-11-23,users,core,users.dau,miniProgram,wxB,5,,,users\r\n" +
            "2026-11-23,users,core,users.dau,total,,12,,,users\r\n" +
            "2026-11-23,users,core,users.stickiness,total,,0.3333333333333333,1,3,ratio\r\n";
        Assert.Equal(expected, text);
    }

    [Fact]
    public void Numbers_do_not_depend_on_the_current_culture()
    {
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            var text = Encoding.UTF8.GetString(DailyCsv.Write(D, [Row("users.stickiness", "total", "", 0.5, 1, 2, "ratio")]));
            Assert.Contains(",0.5,1,2,ratio", text);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void Round_trips_through_read()
    {
        var rows = new[]
        {
            Row("users.stickiness", "total", "", 0.1 + 0.2, 3, 10, "ratio"),
            Row("pages.views", "miniProgram.page", "wx1/\"quoted\", and\nnewline", 2, unit: "events"),
            Row("users.dau", "total", "", 0),
        };
        var back = DailyCsv.Read(DailyCsv.Write(D, rows));
        Assert.Equal(rows.OrderBy(r => r.Metric, StringComparer.Ordinal).ThenBy(r => r.Dimension, StringComparer.Ordinal), back);
    }

    [Fact]
    public void An_empty_day_is_just_the_header() =>
        Assert.Equal(DailyCsv.Header + "\r\n", Encoding.UTF8.GetString(DailyCsv.Write(D, [])));

    [Fact]
    public void Rows_of_another_day_are_refused() =>
        Assert.Throws<ArgumentException>(() => DailyCsv.Write(D.AddDays(1), [Row("users.dau", "total", "", 1)]));
}
