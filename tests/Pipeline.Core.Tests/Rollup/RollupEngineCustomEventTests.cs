using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using static Pipeline.Core.Tests.Rollup.Ev;

namespace Pipeline.Core.Tests.Rollup;

/// <summary><c>custom.events</c> and <c>custom.users</c>, and the cap on names per mini-program, worked out by hand.</summary>
public sealed class RollupEngineCustomEventTests
{
    private static readonly DateOnly D = new(2026, 11, 18);

    /// <summary>
    /// Mini-program wxa uses 101 names on D: n000 … n100 (zero-padded, so ordinal order is numeric order).
    /// The cap keeps the 100 smallest, n000 … n099; n100 is counted as (other). Users: A sends n000 once and
    /// n100 twice; B sends n100; C sends n005; F sends n001 … n099 once each. Mini-program wxb has one name,
    /// n100, sent by E: under wxb's own cap it keeps its name.
    /// </summary>
    private static List<PipelineEvent> Day()
    {
        var t = At(D, 10);
        var events = new List<PipelineEvent>
        {
            Custom("A", "wxa", "n000", t), Custom("A", "wxa", "n100", t + 1), Custom("A", "wxa", "n100", t + 2),
            Custom("B", "wxa", "n100", t + 3),
            Custom("C", "wxa", "n005", t + 4),
            Custom("E", "wxb", "n100", t + 5),
        };
        for (var i = 1; i <= 99; i++) events.Add(Custom("F", "wxa", $"n{i:000}", t + 10 + i));
        return events;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(16)]
    public void Names_past_the_cap_of_a_mini_program_are_counted_as_other_with_exact_distinct_users(int shards)
    {
        var result = Engine().RollUp(D, Sharded(Day(), shards), WindowState.Empty());

        Assert.Equal(105, result.V("custom.events")); // every custom event: A 3, B 1, C 1, E 1, F 99
        result.AssertNoRow("custom.users");            // custom.users has no total

        // wxa: 100 kept names and (other).
        Assert.Equal(3, result.V("custom.events", "miniProgram.event", "wxa/(other)")); // A twice, B once
        Assert.Equal(2, result.V("custom.users", "miniProgram.event", "wxa/(other)"));  // A and B
        Assert.Equal(1, result.V("custom.events", "miniProgram.event", "wxa/n000"));    // A (F starts at n001)
        Assert.Equal(2, result.V("custom.users", "miniProgram.event", "wxa/n005"));     // C and F
        Assert.Equal(1, result.V("custom.users", "miniProgram.event", "wxa/n099"));     // F
        result.AssertNoRow("custom.events", "miniProgram.event", "wxa/n100");
        Assert.Equal(101, result.Rows.Count(r => r.Metric == "custom.events" && r.DimensionValue.StartsWith("wxa/", StringComparison.Ordinal)));

        // wxb keeps n100: the cap is per mini-program.
        Assert.Equal(1, result.V("custom.events", "miniProgram.event", "wxb/n100"));
        result.AssertNoRow("custom.events", "miniProgram.event", "wxb/(other)");

        // The ecosystem's event dimension has its own cap (1,000 names): all 101 names keep their own name.
        Assert.Equal(4, result.V("custom.events", "event", "n100")); // A 2, B 1, E 1
        Assert.Equal(3, result.V("custom.users", "event", "n100"));  // A, B, E
        result.AssertNoRow("custom.events", "event", "(other)");
    }

    [Fact]
    public void A_day_without_custom_events_writes_the_zero_total_only()
    {
        var result = Engine().Roll(D, WindowState.Empty(), Start("A", "wxa", "s", At(D, 9), 1001));
        Assert.Equal(0, result.V("custom.events"));
        Assert.DoesNotContain(result.Rows, r => r.Metric.StartsWith("custom.", StringComparison.Ordinal) && r.Dimension != "total");
    }
}
