using Pipeline.Core.Ports;
using Pipeline.Core.Query;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Query;

/// <summary>
/// <see cref="MetricQueryService"/> over an in-memory reader, for <c>users.referred_sessions</c> by
/// <c>miniProgram.referrer</c>: a developer's read key gets the rows of the sessions of its own mini-programs
/// (the mini-program referred to, before the first '/'), never the rows where one of its mini-programs is only
/// the referrer, including values whose referrer part holds more '/'.
/// </summary>
public sealed class ReferrerQueryAccessTests
{
    private static readonly DateOnly Day = new(2026, 11, 2);

    private static MetricRow Referred(string value, long n) =>
        new(Day, "users.referred_sessions", "users", "supporting", "miniProgram.referrer", value, n, null, null, "sessions");

    private static readonly MetricRow[] Rows =
    [
        new(Day, "users.referred_sessions", "users", "supporting", "total", "", 9, null, null, "sessions"),
        Referred("wxA/wxB", 3),            // sessions of wxA, sent by wxB
        Referred("wxA/wxA", 1),            // wxA referred by itself
        Referred("wxA/wx_ext/pages/x", 1), // a referrer outside the ecosystem, with '/' in it
        Referred("wxB/wxA", 2),            // sessions of wxB, sent by wxA
        Referred("wxC/wxB/wxA", 2),        // sessions of wxC: '/' after the id, both other ids only in the referrer
    ];

    /// <summary>
    /// Storage as the tables lay it out: <c>DailyMetrics</c> has every row of the day; a mini-program's partition of
    /// <c>ProgramDailyMetrics</c> the rows whose <see cref="MetricRowKeys.ProgramPartitionKey"/> is its id. A leaky
    /// reader answers every program row from any partition, so only the service's own access check stands in between.
    /// </summary>
    private sealed class Reader(bool leaky) : IMetricsReader
    {
        public List<string> ProgramsRead { get; } = [];

        public Task<IReadOnlyList<StoredMetricRow>> ReadDayAsync(DateOnly day, MetricRowSelection selection, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<StoredMetricRow>>(Rows.Where(r => r.Date == day).Select(r => new StoredMetricRow(r, null, null)).ToList());

        public Task<IReadOnlyList<StoredMetricRow>> ReadProgramAsync(string miniProgramId, DateOnly from, DateOnly to, string? metricPrefix, CancellationToken cancellationToken)
        {
            lock (ProgramsRead) ProgramsRead.Add(miniProgramId);
            return Task.FromResult<IReadOnlyList<StoredMetricRow>>(Rows
                .Where(r => r.Date >= from && r.Date <= to && MetricRowKeys.IsProgramRow(r) && (leaky || MetricRowKeys.ProgramPartitionKey(r) == miniProgramId))
                .Select(r => new StoredMetricRow(r, null, null)).ToList());
        }

        public Task<IReadOnlySet<DateOnly>> RolledUpDaysAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlySet<DateOnly>>(new HashSet<DateOnly> { Day });
    }

    private static MetricQuery Query(string? miniProgram = null) =>
        new(Day, Day, ["users.referred_sessions"], null, null, "miniProgram.referrer", null, miniProgram, 100, null);

    private static async Task<List<string>> ValuesAsync(ReadAccess access, bool leaky, string? miniProgram = null)
    {
        var (page, error) = await new MetricQueryService(new Reader(leaky)).RunAsync(Query(miniProgram), access, CancellationToken.None);
        Assert.Null(error);
        return page!.Rows.Select(r => r.Row.DimensionValue).ToList();
    }

    private static ReadAccess Developer(params string[] programs) => new("dev", false, new HashSet<string>(programs, StringComparer.Ordinal));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_developer_gets_the_referrer_rows_of_its_own_sessions_only(bool leaky)
    {
        Assert.Equal(["wxA/wxA", "wxA/wxB", "wxA/wx_ext/pages/x"], await ValuesAsync(Developer("wxA"), leaky));
        Assert.Equal(["wxB/wxA"], await ValuesAsync(Developer("wxB"), leaky));
        Assert.Equal(["wxC/wxB/wxA"], await ValuesAsync(Developer("wxC"), leaky));
        // A key of both, asking for one: that one's partition (the service leaves the miniProgram= filter to the
        // partition read, so this holds for the table layout, not for the leaky reader).
        if (!leaky) Assert.Equal(["wxA/wxA", "wxA/wxB", "wxA/wx_ext/pages/x"], await ValuesAsync(Developer("wxA", "wxB"), leaky, miniProgram: "wxA"));
        Assert.Empty(await ValuesAsync(Developer("wx_ext"), leaky)); // a referrer outside the ecosystem sees nothing of it
    }

    [Fact]
    public async Task A_developer_of_a_referrer_cannot_ask_for_the_referred_mini_program()
    {
        var (page, error) = await new MetricQueryService(new Reader(leaky: false)).RunAsync(Query("wxA"), Developer("wxB"), CancellationToken.None);
        Assert.Null(page);
        Assert.Equal((403, "forbidden_mini_program"), (error!.Status, error.Code));
    }

    [Fact]
    public async Task The_platform_gets_every_referrer_row()
    {
        var values = await ValuesAsync(ReadAccess.Platform("analyst"), leaky: false);
        Assert.Equal(["wxA/wxA", "wxA/wxB", "wxA/wx_ext/pages/x", "wxB/wxA", "wxC/wxB/wxA"], values);
    }
}
