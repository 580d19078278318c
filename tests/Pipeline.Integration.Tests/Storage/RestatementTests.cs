using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Pipeline.Hosting.Endpoints.Metrics;
using Pipeline.Core.Ports;
using Pipeline.Core.Query;
using Pipeline.Core.Ingest;
using Pipeline.Core.Rollup;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage;
using Pipeline.Storage.Tables;

namespace Pipeline.Integration.Tests.Storage;

/// <summary>
/// Restatements on Azurite: what <see cref="TableMetricsStore.ReplaceDayAsync(DateOnly, IReadOnlyList{MetricRow}, string, DateTimeOffset, string, CancellationToken)"/>
/// records when a re-roll changes published rows, and <c>GET /api/v1/restatements</c> over it. Each test has its own
/// day and filters the listing by it (the table is shared), with times near now (the endpoint looks back 90 days at most).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RestatementTests(AzuriteFixture azurite)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static MetricRow Row(DateOnly day, string metric, string dimension, string value, double v, double? num = null, double? den = null) =>
        new(day, metric, "platform", "core", dimension, value, v, num, den, num is null ? "users" : "ratio");

    /// <summary>Now, to the second (what Table Storage keeps exactly).</summary>
    private static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    private static string Iso(DateTimeOffset t) => Uri.EscapeDataString(t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'"));

    [Fact]
    public async Task A_reroll_records_each_changed_or_removed_row_once_and_marks_the_changed_rows()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var day = AzuriteFixture.UniqueDay();
        var first = Now().AddMinutes(-30);
        var second = first.AddMinutes(10);

        await store.ReplaceDayAsync(day, [
            Row(day, "dau", "all", "", 10),
            Row(day, "dau", "miniProgram", "rs_same", 4),
            Row(day, "dau", "miniProgram", "rs_up", 6),
            Row(day, "dau", "miniProgram", "rs_gone", 1),
            Row(day, "conversion", "all", "", 0.25, 1, 4),
            Row(day, "ratio_same_value", "all", "", 0.5, 1, 2),
        ], "run-1", first, "re-roll of the test day", None);
        Assert.Empty(await ListAllAsync(day, first.AddMinutes(-1)));

        await store.ReplaceDayAsync(day, [
            Row(day, "dau", "all", "", 11),
            Row(day, "dau", "miniProgram", "rs_same", 4),
            Row(day, "dau", "miniProgram", "rs_up", 7),
            Row(day, "dau", "miniProgram", "rs_new", 1),
            Row(day, "conversion", "all", "", 0.4, 2, 5),
            Row(day, "ratio_same_value", "all", "", 0.5, 2, 4), // same value, other numerator and denominator: restated
        ], "run-2", second, "late events arrived", None);

        var restated = (await ListAllAsync(day, first.AddMinutes(-1))).ToDictionary(r => $"{r.Metric}|{r.Dimension}|{r.DimensionValue}");
        Assert.Equal(["conversion|all|", "dau|all|", "dau|miniProgram|rs_gone", "dau|miniProgram|rs_up", "ratio_same_value|all|"], restated.Keys.Order(StringComparer.Ordinal));
        Assert.All(restated.Values, r =>
        {
            Assert.Equal(day, r.Day);
            Assert.Equal("run-1", r.OldRunId);
            Assert.Equal("run-2", r.NewRunId);
            Assert.Equal(first, r.OldComputedAt);
            Assert.Equal(second, r.RestatedAt);
            Assert.Equal("late events arrived", r.Reason);
        });
        Assert.Equal((10.0, (double?)11.0), (restated["dau|all|"].OldValue, restated["dau|all|"].NewValue));
        Assert.Equal((6.0, (double?)7.0), (restated["dau|miniProgram|rs_up"].OldValue, restated["dau|miniProgram|rs_up"].NewValue));
        var gone = restated["dau|miniProgram|rs_gone"];
        Assert.Equal((1.0, (double?)null, true), (gone.OldValue, gone.NewValue, gone.Removed));
        var ratio = restated["conversion|all|"];
        Assert.Equal((0.25, 1.0, 4.0, 0.4, 2.0, 5.0), (ratio.OldValue, ratio.OldNumerator!.Value, ratio.OldDenominator!.Value, ratio.NewValue!.Value, ratio.NewNumerator!.Value, ratio.NewDenominator!.Value));

        // The changed rows are marked in both tables; the unchanged and the new ones are not.
        var reader = new TableMetricsReader(azurite.Tables);
        var daily = (await reader.ReadDayAsync(day, MetricRowSelection.All, None)).ToDictionary(r => MetricRowKeys.DailyRowKey(r.Row));
        async Task<StoredMetricRow> ProgramRow(string mp) => Assert.Single(await reader.ReadProgramAsync(mp, day, day, null, None));
        foreach (var row in new[] { daily["dau|miniProgram|rs_up"], await ProgramRow("rs_up") })
            Assert.Equal((true, (double?)6.0), (row.Restated, row.PreviousValue));
        Assert.Equal((double?)10.0, daily["dau|all|"].PreviousValue);
        var same = await ProgramRow("rs_same");
        Assert.False(same.Restated);
        Assert.Equal("run-1", same.RunId);
        Assert.False((await ProgramRow("rs_new")).Restated);

        // A third roll that changes nothing records nothing more, and the marks stay.
        await store.ReplaceDayAsync(day, (await store.ReadDayAsync(day, None)).ToList(), "run-3", second.AddMinutes(10), "nothing new", None);
        Assert.Equal(5, (await ListAllAsync(day, first.AddMinutes(-1))).Count);
        Assert.True((await reader.ReadDayAsync(day, MetricRowSelection.All, None)).Single(r => MetricRowKeys.DailyRowKey(r.Row) == "dau|all|").Restated);
    }

    [Fact]
    public async Task A_retry_of_the_same_run_after_a_crash_rewrites_the_same_records_at_the_first_time()
    {
        var day = AzuriteFixture.UniqueDay();
        var first = Now().AddMinutes(-30);
        var store = new TableMetricsStore(azurite.Tables);
        await store.ReplaceDayAsync(day, [Row(day, "dau", "all", "", 10), Row(day, "wau", "all", "", 20), Row(day, "pv", "all", "", 5)], "run-1", first, None);
        var rerolled = new List<MetricRow> { Row(day, "dau", "all", "", 11), Row(day, "wau", "all", "", 21), Row(day, "pv", "all", "", 5) };

        // The process dies right after recording the restatements: no new value is written.
        var crashed = new TableMetricsStore(azurite.Tables, new CrashAfterRecording(new TableRestatementStore(azurite.Tables)));
        var attempt = first.AddMinutes(5);
        await Assert.ThrowsAsync<CrashAfterRecording.Crash>(() => crashed.ReplaceDayAsync(day, rerolled, "run-2", attempt, "late events", None));
        Assert.Equal(10, (await store.ReadDayAsync(day, None)).Single(r => r.Metric == "dau").Value);
        var afterCrash = await ListAllAsync(day, first);
        Assert.Equal(2, afterCrash.Count);

        // The redelivered message: the same run, a later clock. Same two records, still at the first attempt's time.
        await store.ReplaceDayAsync(day, rerolled, "run-2", attempt.AddMinutes(7), "late events", None);
        var afterRetry = await ListAllAsync(day, first);
        Assert.Equal(afterCrash, afterRetry);
        Assert.All(afterRetry, r => Assert.Equal(attempt, r.RestatedAt));
        Assert.Equal(11, (await store.ReadDayAsync(day, None)).Single(r => r.Metric == "dau").Value);

        // And once more after it completed: nothing changes, nothing is added.
        await store.ReplaceDayAsync(day, rerolled, "run-2", attempt.AddMinutes(9), "late events", None);
        Assert.Equal(afterCrash, await ListAllAsync(day, first));
    }

    [Fact]
    public async Task The_endpoint_pages_through_every_record_once_in_order_and_filters_by_since()
    {
        var store = new TableMetricsStore(azurite.Tables);
        var day = AzuriteFixture.UniqueDay();
        var t0 = Now().AddHours(-2);
        await store.ReplaceDayAsync(day, [Row(day, "a", "all", "", 1), Row(day, "b", "all", "", 1), Row(day, "c", "all", "", 1)], "run-1", t0, None);
        // Three re-rolls: two rows at t1, one at t2, one at t3.
        var t1 = t0.AddMinutes(10); var t2 = t0.AddMinutes(20); var t3 = t0.AddMinutes(30);
        await store.ReplaceDayAsync(day, [Row(day, "a", "all", "", 2), Row(day, "b", "all", "", 2), Row(day, "c", "all", "", 1)], "run-2", t1, None);
        await store.ReplaceDayAsync(day, [Row(day, "a", "all", "", 2), Row(day, "b", "all", "", 2), Row(day, "c", "all", "", 3)], "run-3", t2, None);
        await store.ReplaceDayAsync(day, [Row(day, "a", "all", "", 4), Row(day, "b", "all", "", 2), Row(day, "c", "all", "", 3)], "run-4", t3, None);

        var (status, all) = await GetAsync($"since={Iso(t0)}&day={day:yyyy-MM-dd}");
        Assert.Equal(200, status);
        Assert.Equal(4, all.GetProperty("count").GetInt32());
        Assert.Equal(JsonValueKind.Null, all.GetProperty("continuation").ValueKind);
        var expected = all.GetProperty("restatements").EnumerateArray().Select(r => $"{r.GetProperty("restatedAt").GetDateTimeOffset():O} {r.GetProperty("metric").GetString()} {r.GetProperty("oldValue").GetDouble()}->{r.GetProperty("newValue").GetDouble()} {r.GetProperty("newRunId").GetString()}").ToList();
        Assert.Equal([$"{t1.UtcDateTime:O} a 1->2 run-2", $"{t1.UtcDateTime:O} b 1->2 run-2", $"{t2.UtcDateTime:O} c 1->3 run-3", $"{t3.UtcDateTime:O} a 2->4 run-4"],
            expected.Select(e => e.Replace("+00:00", "Z")));
        var first = all.GetProperty("restatements")[0];
        Assert.Equal("run-1", first.GetProperty("oldRunId").GetString());
        Assert.Equal(day.ToString("yyyy-MM-dd"), first.GetProperty("day").GetString());
        Assert.Equal(RestatementReasons.Default(day), first.GetProperty("reason").GetString());
        Assert.False(first.GetProperty("removed").GetBoolean());

        // limit=1: four pages of one, then the end.
        var paged = new List<string>();
        string? token = null;
        for (var page = 0; page < 10; page++)
        {
            var (s, body) = await GetAsync($"since={Iso(t0)}&day={day:yyyy-MM-dd}&limit=1" + (token is null ? "" : "&continuation=" + Uri.EscapeDataString(token)));
            Assert.Equal(200, s);
            Assert.Equal(1, body.GetProperty("count").GetInt32());
            var r = body.GetProperty("restatements")[0];
            paged.Add($"{r.GetProperty("restatedAt").GetDateTimeOffset():O} {r.GetProperty("metric").GetString()} {r.GetProperty("oldValue").GetDouble()}->{r.GetProperty("newValue").GetDouble()} {r.GetProperty("newRunId").GetString()}");
            token = body.GetProperty("continuation").GetString();
            if (token is null) break;
        }
        Assert.Null(token);
        Assert.Equal(expected, paged);

        // since: the records at or after it only, as a timestamp with an offset too.
        var (_, fromT2) = await GetAsync($"since={Iso(t2)}&day={day:yyyy-MM-dd}");
        Assert.Equal(["c", "a"], fromT2.GetProperty("restatements").EnumerateArray().Select(r => r.GetProperty("metric").GetString()));
        var t2Shanghai = Uri.EscapeDataString(t2.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd'T'HH:mm:sszzz"));
        var (_, offset) = await GetAsync($"since={t2Shanghai}&day={day:yyyy-MM-dd}");
        Assert.Equal(2, offset.GetProperty("count").GetInt32());
        var (_, afterAll) = await GetAsync($"since={Iso(t3.AddTicks(1))}&day={day:yyyy-MM-dd}");
        Assert.Equal(0, afterAll.GetProperty("count").GetInt32());
        // A date: from midnight UTC of it.
        var (_, byDate) = await GetAsync($"since={t0.UtcDateTime:yyyy-MM-dd}&day={day:yyyy-MM-dd}");
        Assert.Equal(4, byDate.GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData("", "missing_since")]
    [InlineData("day=2026-11-24", "missing_since")]
    [InlineData("since=yesterday", "invalid_since")]
    [InlineData("since=2026-11-24T08:00:00", "invalid_since")] // no offset: ambiguous
    [InlineData("since=2026-13-01", "invalid_since")]
    [InlineData("since=2000-01-01T00:00:00Z", "since_too_old")]
    [InlineData("since=NOW&day=24-11-2026", "invalid_day")]
    [InlineData("since=NOW&limit=0", "invalid_limit")]
    [InlineData("since=NOW&limit=10001", "invalid_limit")]
    [InlineData("since=NOW&limit=ten", "invalid_limit")]
    [InlineData("since=NOW&continuation=%21%21%21", "invalid_continuation")]
    [InlineData("since=NOW&continuation=bm90LWEtdG9rZW4", "invalid_continuation")] // base64url of "not-a-token"
    public async Task A_bad_parameter_is_a_400_that_names_it(string query, string code)
    {
        var (status, body) = await GetAsync(query.Replace("NOW", Iso(Now())));
        Assert.Equal(400, status);
        var error = body.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        var parameter = code.Split('_')[^1] == "old" ? "since" : code.Split('_')[^1];
        Assert.Contains($"'{parameter}'", error.GetProperty("message").GetString());
        Assert.Equal(parameter, error.GetProperty("parameter").GetString()); // as the metrics endpoint's errors
    }

    [Fact]
    public void Since_takes_an_offset_a_Z_a_date_and_an_unencoded_plus()
    {
        Assert.True(RestatementsEndpoint.TryParseSince("2026-11-24T16:00:00+08:00", out var a));
        Assert.True(RestatementsEndpoint.TryParseSince("2026-11-24T08:00:00Z", out var b));
        Assert.True(RestatementsEndpoint.TryParseSince("2026-11-24T16:00:00 08:00", out var c)); // '+' sent unencoded
        Assert.True(RestatementsEndpoint.TryParseSince("2026-11-24", out var d));
        Assert.Equal(b, a);
        Assert.Equal(b, c);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero), d);
        Assert.False(RestatementsEndpoint.TryParseSince("2026-11-24T08:00:00", out _));
        Assert.False(RestatementsEndpoint.TryParseSince("1732435200", out _));
    }

    /// <summary>A platform read key in this account's key table, and the authenticator that checks it.</summary>
    private async Task<(ReadKeyAuthenticator Readers, string Key)> ReaderAsync()
    {
        var keys = new TableIngestKeyStore(azurite.Tables);
        var name = AzuriteFixture.Unique("restatement-reader-");
        var key = await new IngestKeyLifecycle(keys, TimeProvider.System).CreateAsync(new SourceRegistration(name, true, [], DateTimeOffset.UtcNow), None, ApiKeyKind.Read);
        return (new ReadKeyAuthenticator(new IngestKeyCache(keys, TimeProvider.System), TimeProvider.System), key);
    }

    private async Task<(int Status, JsonElement Body)> GetAsync(string query)
    {
        var (readers, key) = await ReaderAsync();
        var endpoint = new RestatementsEndpoint(new TableRestatementStore(azurite.Tables), TimeProvider.System, readers, new RestatementAccess(CellSuppression.Off), Microsoft.Extensions.Logging.Abstractions.NullLogger<RestatementsEndpoint>.Instance);
        var context = new DefaultHttpContext();
        context.Request.Headers[ReadKeyAuthenticator.Header] = key;
        context.Request.QueryString = new QueryString(query.Length == 0 ? "" : "?" + query);
        var reply = await endpoint.HandleAsync(context.Request, None);
        using var json = JsonDocument.Parse(reply.Body);
        return (reply.Status, json.RootElement.Clone());
    }

    private async Task<List<Restatement>> ListAllAsync(DateOnly day, DateTimeOffset since)
    {
        var store = new TableRestatementStore(azurite.Tables);
        var all = new List<Restatement>();
        string? token = null;
        do
        {
            var page = await store.ListAsync(since, day, 1000, token, None);
            all.AddRange(page.Restatements);
            token = page.Continuation;
        } while (token is not null);
        return all;
    }

    /// <summary>The real store, then a crash: the restatements are recorded, nothing after them happens.</summary>
    private sealed class CrashAfterRecording(IRestatementStore inner) : IRestatementStore
    {
        public sealed class Crash() : Exception("crashed after recording the restatements");

        public async Task RecordAsync(DateOnly day, string newRunId, IReadOnlyList<Restatement> restatements, CancellationToken cancellationToken)
        {
            await inner.RecordAsync(day, newRunId, restatements, cancellationToken);
            throw new Crash();
        }

        public Task<RestatementPage> ListAsync(DateTimeOffset since, DateOnly? day, int limit, string? continuation, CancellationToken cancellationToken) =>
            inner.ListAsync(since, day, limit, continuation, cancellationToken);
    }
}
