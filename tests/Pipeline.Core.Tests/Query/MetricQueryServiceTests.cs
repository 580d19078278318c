using Pipeline.Core.Catalog;
using Pipeline.Core.Query;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Query;

/// <summary><see cref="MetricQueryService"/> over an in-memory reader: which reads a query makes, and small-cell suppression.</summary>
public sealed class MetricQueryServiceTests
{
    private static readonly DateOnly D1 = new(2026, 11, 20), D2 = new(2026, 11, 21), D3 = new(2026, 11, 22);
    private const int K = 10;

    private static MetricRow Row(DateOnly day, string metric, string dimension, string value, double v, double? den = null)
    {
        var m = MetricCatalog.Get(metric);
        return new(day, metric, m.Stakeholder, m.Tier, dimension, value, v, den is null ? null : v * den, den, m.Unit);
    }

    // wxA has 9 daily users on D1 (below k) and 10 on D2 (k); wxB is another developer's.
    private static List<MetricRow> Rows() =>
    [
        Row(D1, "users.dau", "total", "", 500),
        Row(D1, "users.dau", "miniProgram", "wxA", K - 1),
        Row(D1, "users.dau", "miniProgram", "wxB", 400),
        Row(D1, "developers.error_rate", "miniProgram", "wxA", 0.1, den: 20),
        Row(D2, "users.dau", "total", "", 510),
        Row(D2, "users.dau", "miniProgram", "wxA", K),
        Row(D2, "users.dau", "miniProgram", "wxB", 410),
        Row(D2, "developers.error_rate", "miniProgram", "wxA", 0.2, den: 20),
        Row(D3, "users.dau", "total", "", 520),
        Row(D3, "users.dau", "miniProgram", "wxA", K - 1),
    ];

    private static MetricQuery Query(DateOnly from, DateOnly to, string? metric = null, string? miniProgram = null, int limit = 1000, RowPosition? after = null) =>
        new(from, to, metric is null ? null : [metric], null, null, null, null, miniProgram, limit, after);

    private static readonly ReadAccess Platform = ReadAccess.Platform("analysts");
    private static readonly ReadAccess DeveloperA = new("dev-a", false, new HashSet<string>(["wxA"]));

    private static (MetricQueryService Service, RecordingMetricsReader Reader) Service(int k = 0)
    {
        var reader = new RecordingMetricsReader(Rows());
        return (new MetricQueryService(reader, new CellSuppression(reader, k)), reader);
    }

    private static List<(DateOnly, string, string)> Keys(QueryPage page) => page.Rows.Select(r => (r.Row.Date, r.Row.Metric, r.Row.DimensionValue)).ToList();

    [Fact]
    public async Task A_mini_program_query_reads_only_that_mini_programs_partition_never_a_whole_day()
    {
        var (service, reader) = Service();

        var (page, error) = await service.RunAsync(Query(D1, D3, miniProgram: "wxA"), Platform, CancellationToken.None);

        Assert.Null(error);
        Assert.Equal(5, page!.Rows.Count);
        Assert.All(page.Rows, r => Assert.Equal("wxA", r.Row.DimensionValue));
        Assert.DoesNotContain(reader.Calls, c => c.StartsWith("ReadDay ", StringComparison.Ordinal));
        Assert.Contains("ReadProgram wxA 2026-11-20..2026-11-22 *", reader.Calls);
        Assert.All(reader.Calls, c => Assert.True(c.StartsWith("ReadProgram wxA ", StringComparison.Ordinal) || c.StartsWith("RolledUpDays ", StringComparison.Ordinal), c));
    }

    [Fact]
    public async Task Without_a_mini_program_the_platform_reads_day_by_day()
    {
        // The counterpart of the test above: the recording reader does see day reads when they happen.
        var (service, reader) = Service();

        await service.RunAsync(Query(D1, D3), Platform, CancellationToken.None);

        Assert.Equal(["ReadDay 2026-11-20", "ReadDay 2026-11-21", "ReadDay 2026-11-22"], reader.Calls.Where(c => c.StartsWith("ReadDay ", StringComparison.Ordinal)));
        Assert.DoesNotContain(reader.Calls, c => c.StartsWith("ReadProgram ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_developer_does_not_see_a_row_of_k_minus_1_users_sees_one_of_k_and_is_told_how_many_were_withheld()
    {
        var (service, _) = Service(K);

        var (page, _) = await service.RunAsync(Query(D1, D3, metric: "users.dau"), DeveloperA, CancellationToken.None);

        Assert.Equal([(D2, "users.dau", "wxA")], Keys(page!));
        Assert.Equal(2, page!.Withheld);
    }

    [Fact]
    public async Task The_platform_sees_every_row_whatever_k_is()
    {
        var (service, _) = Service(K);

        var (page, _) = await service.RunAsync(Query(D1, D3, metric: "users.dau", miniProgram: "wxA"), Platform, CancellationToken.None);

        Assert.Equal([(D1, "users.dau", "wxA"), (D2, "users.dau", "wxA"), (D3, "users.dau", "wxA")], Keys(page!));
        Assert.Equal(0, page!.Withheld);
    }

    [Fact]
    public async Task A_row_whose_population_was_not_read_reads_it_and_is_withheld_by_it()
    {
        // error_rate's users are wxA's dau of the same day, which a query of error_rate alone does not read.
        var (service, reader) = Service(K);

        var (page, _) = await service.RunAsync(Query(D1, D3, metric: "developers.error_rate"), DeveloperA, CancellationToken.None);

        Assert.Equal([(D2, "developers.error_rate", "wxA")], Keys(page!));
        Assert.Equal(1, page!.Withheld);
        Assert.Contains(reader.Calls, c => c.StartsWith("ReadProgram wxA ", StringComparison.Ordinal) && c.EndsWith(" users.dau|", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Paged_the_withheld_rows_are_counted_once_on_the_page_whose_stretch_holds_them()
    {
        // Shown rows of wxA in order: D2 dau, D2 error_rate; withheld: D1 dau, D1 error_rate, D3 dau.
        var (service, _) = Service(K);
        var query = Query(D1, D3, limit: 1);

        var (first, _) = await service.RunAsync(query, DeveloperA, CancellationToken.None);
        Assert.Equal([(D2, "developers.error_rate", "wxA")], Keys(first!)); // "developers…" sorts before "users…"
        Assert.Equal(2, first!.Withheld);                                   // D1's two rows
        Assert.NotNull(first.Continuation);

        Assert.True(ContinuationToken.TryRead(first.Continuation!, query, out var after));
        var (second, _) = await service.RunAsync(query with { After = after }, DeveloperA, CancellationToken.None);
        Assert.Equal([(D2, "users.dau", "wxA")], Keys(second!));
        Assert.Equal(1, second!.Withheld);                                  // D3's dau, after the last shown row
        Assert.Null(second.Continuation);
    }
}
