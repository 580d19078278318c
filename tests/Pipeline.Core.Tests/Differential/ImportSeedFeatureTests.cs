using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;
using Xunit.Abstractions;

namespace Pipeline.Core.Tests.Differential;

/// <summary>
/// The seeds of <see cref="ImportDifferentialTests"/> were chosen for what their datasets hold (its remarks say what);
/// these tests count it from the generated events and the reference's rows, so a generator change that drops a case
/// fails here instead of leaving the import test checking less than its remarks claim.
/// </summary>
public sealed class ImportSeedFeatureTests(ITestOutputHelper output)
{
    [Fact]
    public void The_import_seeds_are_the_ones_checked_here() =>
        Assert.Equal([3, 20, 97, 11], ImportDifferentialTests.Seeds.Select(s => (int)s[0]));

    /// <summary>
    /// Seed 3: 42 days, 9 mini-programs, two month-ends: the first the day after the data starts (its previous month has
    /// no data, so no monthly rows), the second with monthly retention rows, total and per mini-program.
    /// </summary>
    [Fact]
    public void Seed_3_has_42_days_9_mini_programs_and_two_month_ends()
    {
        var ds = DatasetGenerator.Generate(3);
        output.WriteLine(ds.Shape);
        Assert.Equal(42, Days(ds));
        Assert.Equal(9, ProgramsWithSessions(ds));
        var monthEnds = MonthEnds(ds);
        Assert.Equal(2, monthEnds.Count);
        var reference = new ReferenceRollup(ds.Events, ds.Receipts, SceneTable.Default, ds.CommissionRate);
        static bool Monthly(MetricRow r) => r.Metric is "users.retention_m1" or "users.active_retention_m1";
        Assert.DoesNotContain(reference.RowsOf(monthEnds[0]), Monthly);
        var rows = reference.RowsOf(monthEnds[1]);
        foreach (var metric in new[] { "users.retention_m1", "users.active_retention_m1" })
        {
            Assert.Contains(rows, r => r.Metric == metric && r.Dimension == "total" && r.Numerator > 0);
            Assert.Contains(rows, r => r.Metric == metric && r.Dimension == "miniProgram" && r.Numerator > 0);
        }
    }

    /// <summary>Seed 20: 64 days and one mini-program with 125 custom names on one day (past the cap of 100).</summary>
    [Fact]
    public void Seed_20_has_64_days_and_one_mini_program_with_125_custom_names_on_a_day()
    {
        var ds = DatasetGenerator.Generate(20);
        output.WriteLine(ds.Shape);
        Assert.Equal(64, Days(ds));
        var perProgramDay = CustomNamesPerProgramDay(ds);
        Assert.Equal(125, perProgramDay.Max());
        Assert.Single(perProgramDay, n => n > ReferenceRollup.CustomNamesPerMiniProgram);
        Assert.True(CustomNamesPerDay(ds).Max() <= ReferenceRollup.CustomNamesEcosystem);
    }

    /// <summary>Seed 97: more than 1000 custom names on one day (past the ecosystem's cap).</summary>
    [Fact]
    public void Seed_97_has_a_day_with_more_than_1000_custom_names()
    {
        var ds = DatasetGenerator.Generate(97);
        output.WriteLine(ds.Shape);
        Assert.Contains(CustomNamesPerDay(ds), n => n > ReferenceRollup.CustomNamesEcosystem);
    }

    /// <summary>Seed 11: a long span of 113 days (past the 90-day windows of returning, churned and repeat buyers).</summary>
    [Fact]
    public void Seed_11_spans_113_days()
    {
        var ds = DatasetGenerator.Generate(11);
        output.WriteLine(ds.Shape);
        Assert.Equal(113, Days(ds));
        var days = ds.Events.Select(e => ShanghaiTime.DayOf(e.TimeMs).DayNumber).ToList();
        Assert.True(days.Max() - days.Min() > ReferenceRollup.OrderMemoryDays, "events more than 90 days apart");
    }

    private static int Days(GeneratedDataset ds) => ds.LastDay.DayNumber - ds.FirstDay.DayNumber + 1;

    private static int ProgramsWithSessions(GeneratedDataset ds) =>
        ds.Events.Where(e => e.Type == EventType.SessionStart).Select(e => e.MiniProgramId).Distinct(StringComparer.Ordinal).Count();

    private static List<DateOnly> MonthEnds(GeneratedDataset ds)
    {
        var list = new List<DateOnly>();
        for (var d = ds.FirstDay; d <= ds.LastDay; d = d.AddDays(1))
            if (d.AddDays(1).Day == 1) list.Add(d);
        return list;
    }

    private static List<int> CustomNamesPerProgramDay(GeneratedDataset ds) =>
        ds.Events.Where(e => e.Type == EventType.Custom).GroupBy(e => (e.MiniProgramId, ShanghaiTime.DayOf(e.TimeMs)))
            .Select(g => g.Select(e => e.CustomName).Distinct(StringComparer.Ordinal).Count()).ToList();

    private static List<int> CustomNamesPerDay(GeneratedDataset ds) =>
        ds.Events.Where(e => e.Type == EventType.Custom).GroupBy(e => ShanghaiTime.DayOf(e.TimeMs))
            .Select(g => g.Select(e => e.CustomName).Distinct(StringComparer.Ordinal).Count()).ToList();
}
