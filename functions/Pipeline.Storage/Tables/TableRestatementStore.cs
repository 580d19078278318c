using System.Globalization;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Tables;

/// <summary>
/// Restated metric rows in table <c>Restatements</c>, in the order they were recorded.
/// <list type="bullet">
/// <item>PartitionKey: the UTC date the restatement was recorded, <c>yyyy-MM-dd</c>; RowKey:
/// <c>&lt;RestatedAt UTC ticks, 19 digits&gt;|&lt;day&gt;|&lt;DailyMetrics RowKey&gt;</c>. Listing "since T" is therefore
/// one key range (partitions from T's date on, RowKeys from T's ticks on), returned in recording order.
/// Properties: Day, Metric, Dimension, DimensionValue, OldValue, NewValue (absent when the row was removed),
/// OldNumerator, OldDenominator, NewNumerator, NewDenominator (where present), OldRunId, NewRunId,
/// OldComputedAt, RestatedAt, Reason.</item>
/// <item>PartitionKey <c>run|&lt;new run id&gt;</c>, RowKey = day: when (RestatedAt) the run first recorded
/// restatements of the day. A retry of the same (run, day), say a redelivered message with a later clock,
/// reuses that time, so it derives the same keys and overwrites the same records instead of adding
/// copies. These partitions sort after every date (<c>r</c> &gt; <c>9</c>), outside the listing's range.</item>
/// </list>
/// </summary>
public sealed class TableRestatementStore(TableServiceClient tableService) : IRestatementStore
{
    private const int TransactionLimit = 100;
    private const string ClaimPrefix = "run|";
    /// <summary>The first character after the digits: every date partition is below it, every claim partition above.</summary>
    private const string DatePartitionsEnd = ":";

    private readonly TableClient _table = tableService.GetTableClient(StorageNames.RestatementsTable);

    public Task RecordAsync(DateOnly day, string newRunId, IReadOnlyList<Restatement> restatements, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(newRunId);
        ArgumentNullException.ThrowIfNull(restatements);
        if (restatements.Count == 0) return Task.CompletedTask;
        foreach (var r in restatements)
            if (r.Day != day || r.NewRunId != newRunId)
                throw new ArgumentException($"A restatement of {r.Day:yyyy-MM-dd} by run {r.NewRunId} is not one of {day:yyyy-MM-dd} by run {newRunId}.", nameof(restatements));

        return StorageFailures.RunAsync($"recording the restatements of {Key(day)}", async ct =>
        {
            var restatedAt = await ClaimAsync(day, newRunId, restatements[0].RestatedAt, ct).ConfigureAwait(false);
            var entities = restatements.Select(r => ToEntity(r with { RestatedAt = restatedAt })).ToList();
            // One partition (the recording date): transactions of up to 100.
            foreach (var chunk in entities.Chunk(TransactionLimit))
                await _table.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>The time the run first recorded restatements of the day: <paramref name="now"/> on the first attempt, the stored one on a retry.</summary>
    private async Task<DateTimeOffset> ClaimAsync(DateOnly day, string runId, DateTimeOffset now, CancellationToken ct)
    {
        var claim = new TableEntity(ClaimPrefix + runId, Key(day)) { ["RestatedAt"] = now.ToUniversalTime() };
        try
        {
            await _table.AddEntityAsync(claim, ct).ConfigureAwait(false);
            return now.ToUniversalTime();
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = await _table.GetEntityAsync<TableEntity>(claim.PartitionKey, claim.RowKey, select: ["RestatedAt"], cancellationToken: ct).ConfigureAwait(false);
            return existing.Value.GetDateTimeOffset("RestatedAt") ?? throw new InvalidDataException($"The restatement claim of run {runId} for {Key(day)} has no RestatedAt.");
        }
    }

    public Task<RestatementPage> ListAsync(DateTimeOffset since, DateOnly? day, int limit, string? continuation, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var after = continuation is null ? ((string Partition, string Row)?)null : DecodeToken(continuation);
        var utc = since.ToUniversalTime();
        var fromPartition = Key(DateOnly.FromDateTime(utc.UtcDateTime));
        var fromRow = Ticks(utc);

        // Partitions from since's date on; RowKeys from since's ticks on (every key of a later date is above them anyway).
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {fromPartition} and PartitionKey lt {DatePartitionsEnd} and RowKey ge {fromRow}");
        if (after is { } a)
            filter += " and " + TableClient.CreateQueryFilter($"((PartitionKey eq {a.Partition} and RowKey gt {a.Row}) or PartitionKey gt {a.Partition})");
        if (day is { } d)
            filter += " and " + TableClient.CreateQueryFilter($"Day eq {Key(d)}");

        return StorageFailures.RunAsync<RestatementPage>("listing restatements", async ct =>
        {
            var items = new List<TableEntity>(Math.Min(limit, 1000) + 1);
            // One more than asked for: whether there is a next page.
            await foreach (var e in _table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(limit + 1, 1000), cancellationToken: ct).ConfigureAwait(false))
            {
                items.Add(e);
                if (items.Count > limit) break;
            }
            string? next = null;
            if (items.Count > limit)
            {
                items.RemoveAt(items.Count - 1);
                next = EncodeToken(items[^1].PartitionKey, items[^1].RowKey);
            }
            return new RestatementPage(items.Select(ToRestatement).ToList(), next);
        }, cancellationToken);
    }

    /// <summary>The RowKey of a restatement: recording time, day, and the row's <c>DailyMetrics</c> RowKey.</summary>
    public static string RowKey(Restatement r) =>
        $"{Ticks(r.RestatedAt)}|{Key(r.Day)}|{Core.Rollup.MetricRowKeys.DailyRowKey(new(r.Day, r.Metric, "", "", r.Dimension, r.DimensionValue, 0, null, null, ""))}";

    /// <summary>The PartitionKey of a restatement: the UTC date it was recorded.</summary>
    public static string PartitionKey(Restatement r) => Key(DateOnly.FromDateTime(r.RestatedAt.UtcDateTime));

    private static string Key(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Ticks(DateTimeOffset at) => at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    private static TableEntity ToEntity(Restatement r)
    {
        var e = new TableEntity(PartitionKey(r), RowKey(r))
        {
            ["Day"] = Key(r.Day),
            ["Metric"] = r.Metric,
            ["Dimension"] = r.Dimension,
            ["DimensionValue"] = r.DimensionValue,
            ["OldValue"] = r.OldValue,
            ["NewRunId"] = r.NewRunId,
            ["RestatedAt"] = r.RestatedAt,
            ["Reason"] = r.Reason,
        };
        if (r.NewValue is { } nv) e["NewValue"] = nv;
        if (r.OldNumerator is { } on) e["OldNumerator"] = on;
        if (r.OldDenominator is { } od) e["OldDenominator"] = od;
        if (r.NewNumerator is { } nn) e["NewNumerator"] = nn;
        if (r.NewDenominator is { } nd) e["NewDenominator"] = nd;
        if (r.OldRunId is { } oldRun) e["OldRunId"] = oldRun;
        if (r.OldComputedAt is { } oldAt) e["OldComputedAt"] = oldAt;
        return e;
    }

    private static Restatement ToRestatement(TableEntity e) => new(
        DateOnly.ParseExact(e.GetString("Day") ?? throw new InvalidDataException($"Restatement {e.PartitionKey}/{e.RowKey} has no Day."), "yyyy-MM-dd", CultureInfo.InvariantCulture),
        e.GetString("Metric") ?? "",
        e.GetString("Dimension") ?? "",
        e.GetString("DimensionValue") ?? "",
        e.GetDouble("OldValue") ?? 0,
        e.GetDouble("NewValue"),
        e.GetDouble("OldNumerator"),
        e.GetDouble("OldDenominator"),
        e.GetDouble("NewNumerator"),
        e.GetDouble("NewDenominator"),
        e.GetString("OldRunId"),
        e.GetString("NewRunId") ?? "",
        e.GetDateTimeOffset("OldComputedAt"),
        e.GetDateTimeOffset("RestatedAt") ?? default,
        e.GetString("Reason") ?? "");

    /// <summary>Opaque to callers: base64url of "PartitionKey\nRowKey" of the last restatement returned.</summary>
    private static string EncodeToken(string partition, string row) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(partition + "\n" + row)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (string Partition, string Row) DecodeToken(string token)
    {
        try
        {
            var b64 = token.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(b64));
            var cut = text.IndexOf('\n', StringComparison.Ordinal);
            if (cut != 10 || !DateOnly.TryParseExact(text[..cut], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) || text.Length == cut + 1)
                throw new FormatException("not a restatements continuation token");
            return (text[..cut], text[(cut + 1)..]);
        }
        catch (FormatException ex)
        {
            throw new FormatException("The continuation token is not one this listing returned.", ex);
        }
    }
}
