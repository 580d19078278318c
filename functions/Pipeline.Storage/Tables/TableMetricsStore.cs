using System.Globalization;
using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Storage.Tables;

/// <summary>
/// The metric catalog's tables. <c>DailyMetrics</c>: every row of a day, RowKey
/// <see cref="MetricRowKeys.DailyRowKey"/>, PartitionKey <see cref="MetricRowKeys.DailyPartitionKey"/>: the day
/// for the ecosystem rows (a few hundred), the day and one of 64 buckets for the per-mini-program rows
/// (most of the day), so a day is the partition key range [day, day}). <c>ProgramDailyMetrics</c>: the rows whose dimension
/// starts with <c>miniProgram</c>, PartitionKey <see cref="MetricRowKeys.ProgramPartitionKey"/>,
/// RowKey <see cref="MetricRowKeys.ProgramRowKey"/>. Properties: Metric, Stakeholder, Tier,
/// Dimension, DimensionValue (unescaped), Value, Numerator and Denominator (ratios only), Unit,
/// ComputedAt, RunId.
/// </summary>
/// <remarks>
/// <see cref="ReplaceDayAsync"/> never leaves a stale row once it completes, and a crash half-way
/// is repaired by the next run, because of its order: (1) read the day's old <c>DailyMetrics</c>
/// rows, whose <c>miniProgram*</c> rows name every program partition the day has rows in;
/// (2) upsert the program rows of every row that is new or changed, (3) upsert those daily rows,
/// (4) in every old or new program partition, delete the day's rows not in the new set, (5) delete
/// the stale daily rows last, so that until the program tables are clean the daily table still
/// lists their partitions.
/// <para>A re-roll writes only the rows whose value changed (a late event touches a few rows of a
/// day, not all of them): a row equal to the stored one keeps its <c>ComputedAt</c> and <c>RunId</c>,
/// which therefore say when and by which run its value was last computed differently. The daily
/// row is written after its program row, so a crash between the two leaves the daily row old and
/// the next run writes both again.</para>
/// <para>Writes are entity-group transactions of up to 100 rows of one partition, several partitions
/// at once: a day's program rows spread over one partition per mini-program in <c>ProgramDailyMetrics</c>
/// and 64 in <c>DailyMetrics</c>, so no partition's rate (2,000 entities/s in Azure) bounds a day; see
/// docs/performance.md.</para>
/// </remarks>
public sealed class TableMetricsStore(TableServiceClient tableService) : IMetricsStore
{
    private const int TransactionLimit = 100;
    private const int Parallelism = 8;

    private static readonly string[] ValueColumns =
        ["PartitionKey", "RowKey", "Metric", "Stakeholder", "Tier", "Dimension", "DimensionValue", "Value", "Numerator", "Denominator", "Unit"];

    private readonly TableClient _daily = tableService.GetTableClient(StorageNames.DailyMetricsTable);
    private readonly TableClient _program = tableService.GetTableClient(StorageNames.ProgramDailyMetricsTable);

    public Task ReplaceDayAsync(DateOnly day, IReadOnlyList<MetricRow> rows, string runId, DateTimeOffset computedAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(runId);
        var dayKey = MetricRowKeys.PartitionKey(day);

        var dailyEntities = new Dictionary<string, TableEntity>(rows.Count, StringComparer.Ordinal);
        var byKey = new Dictionary<string, MetricRow>(rows.Count, StringComparer.Ordinal);
        var programEntities = new Dictionary<(string Partition, string Row), TableEntity>();
        var programDailyKey = new Dictionary<(string Partition, string Row), string>();
        foreach (var row in rows)
        {
            if (row.Date != day)
                throw new ArgumentException($"Row {row.Metric}|{row.Dimension}|{row.DimensionValue} is for {row.Date:yyyy-MM-dd}, not {dayKey}.", nameof(rows));
            var rowKey = MetricRowKeys.DailyRowKey(row);
            if (!dailyEntities.TryAdd(rowKey, ToEntity(MetricRowKeys.DailyPartitionKey(row), rowKey, row, runId, computedAt)))
                throw new ArgumentException($"Two rows of {dayKey} have the key '{rowKey}'.", nameof(rows));
            byKey[rowKey] = row;
            if (MetricRowKeys.IsProgramRow(row))
            {
                var partition = MetricRowKeys.ProgramPartitionKey(row);
                var programRowKey = MetricRowKeys.ProgramRowKey(row);
                programEntities[(partition, programRowKey)] = ToEntity(partition, programRowKey, row, runId, computedAt);
                programDailyKey[(partition, programRowKey)] = rowKey;
            }
        }

        return StorageFailures.RunAsync("replacing the metrics of " + dayKey, async ct =>
        {
            // (1) What the day has now.
            var oldDaily = new List<TableEntity>();
            var unchanged = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var e in _daily.QueryAsync<TableEntity>(DayFilter(day), select: ValueColumns, cancellationToken: ct).ConfigureAwait(false))
            {
                oldDaily.Add(e);
                // Unchanged only in the same partition (rows written before the buckets were in the day's partition).
                if (byKey.TryGetValue(e.RowKey, out var row) && ToRow(day, e) == row && dailyEntities[e.RowKey].PartitionKey == e.PartitionKey) unchanged.Add(e.RowKey);
            }

            var programPartitions = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in oldDaily)
            {
                var old = ToRow(day, e);
                if (MetricRowKeys.IsProgramRow(old) && TryProgramPartition(old, out var partition)) programPartitions.Add(partition);
            }
            foreach (var (partition, _) in programEntities.Keys) programPartitions.Add(partition);

            // (2), (3) The new and changed rows: program rows first, the daily row (which the next run compares with) last.
            await UpsertAsync(_program, programEntities.Where(kv => !unchanged.Contains(programDailyKey[kv.Key])).Select(kv => kv.Value), ct).ConfigureAwait(false);
            await UpsertAsync(_daily, dailyEntities.Where(kv => !unchanged.Contains(kv.Key)).Select(kv => kv.Value), ct).ConfigureAwait(false);

            // (4) Stale program rows: the day's key range of each partition it had or has rows in.
            // Program row keys are "yyyy-MM-dd|…"; '}' is the character after '|', so [day|, day}) is exactly that day.
            var from = dayKey + "|";
            var to = dayKey + "}";
            var staleProgram = new List<TableEntity>();
            await Parallel.ForEachAsync(programPartitions, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (partition, token) =>
            {
                var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {from} and RowKey lt {to}");
                await foreach (var e in _program.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: token).ConfigureAwait(false))
                {
                    if (!programEntities.ContainsKey((partition, e.RowKey)))
                        lock (staleProgram) staleProgram.Add(e);
                }
            }).ConfigureAwait(false);
            await DeleteAsync(_program, staleProgram, ct).ConfigureAwait(false);

            // (5) Stale daily rows, last (a row now in another partition of the day is stale where it was).
            await DeleteAsync(_daily, oldDaily.Where(e => !dailyEntities.TryGetValue(e.RowKey, out var now) || now.PartitionKey != e.PartitionKey), ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<MetricRow>> ReadDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var dayKey = MetricRowKeys.PartitionKey(day);
        return StorageFailures.RunAsync<IReadOnlyList<MetricRow>>("reading the metrics of " + dayKey, async ct =>
        {
            var rows = new List<MetricRow>();
            await foreach (var e in _daily.QueryAsync<TableEntity>(DayFilter(day), cancellationToken: ct).ConfigureAwait(false))
                rows.Add(ToRow(day, e));
            return rows;
        }, cancellationToken);
    }

    /// <summary>Every partition of the day in <c>DailyMetrics</c>: the ecosystem partition and its 64 buckets (one key range).</summary>
    private static string DayFilter(DateOnly day) =>
        TableClient.CreateQueryFilter($"PartitionKey ge {MetricRowKeys.PartitionKey(day)} and PartitionKey lt {MetricRowKeys.PartitionRangeEnd(day)}");

    private static TableEntity ToEntity(string partitionKey, string rowKey, MetricRow row, string runId, DateTimeOffset computedAt)
    {
        var entity = new TableEntity(partitionKey, rowKey)
        {
            ["Metric"] = row.Metric,
            ["Stakeholder"] = row.Stakeholder,
            ["Tier"] = row.Tier,
            ["Dimension"] = row.Dimension,
            ["DimensionValue"] = row.DimensionValue,
            ["Value"] = row.Value,
            ["Unit"] = row.Unit,
            ["ComputedAt"] = computedAt,
            ["RunId"] = runId,
        };
        if (row.Numerator is { } numerator) entity["Numerator"] = numerator;
        if (row.Denominator is { } denominator) entity["Denominator"] = denominator;
        return entity;
    }

    private static MetricRow ToRow(DateOnly day, TableEntity e) => new(
        day,
        e.GetString("Metric") ?? "",
        e.GetString("Stakeholder") ?? "",
        e.GetString("Tier") ?? "",
        e.GetString("Dimension") ?? "",
        e.GetString("DimensionValue") ?? "",
        e.GetDouble("Value") ?? 0,
        e.GetDouble("Numerator"),
        e.GetDouble("Denominator"),
        e.GetString("Unit") ?? "");

    // A malformed old row (say a currency value without '/') must not block replacing the day.
    private static bool TryProgramPartition(MetricRow row, out string partition)
    {
        try
        {
            partition = MetricRowKeys.ProgramPartitionKey(row);
            return true;
        }
        catch (ArgumentException)
        {
            partition = "";
            return false;
        }
    }

    private static Task UpsertAsync(TableClient table, IEnumerable<TableEntity> entities, CancellationToken ct) =>
        SubmitAsync(table, entities, TableTransactionActionType.UpsertReplace, ct);

    private static Task DeleteAsync(TableClient table, IEnumerable<TableEntity> entities, CancellationToken ct) =>
        SubmitAsync(table, entities.Select(e => new TableEntity(e.PartitionKey, e.RowKey)), TableTransactionActionType.Delete, ct);

    /// <summary>Entity-group transactions: one partition, at most 100 entities each, partitions in parallel.</summary>
    private static async Task SubmitAsync(TableClient table, IEnumerable<TableEntity> entities, TableTransactionActionType action, CancellationToken ct)
    {
        var batches = entities
            .GroupBy(e => e.PartitionKey, StringComparer.Ordinal)
            .SelectMany(g => g.Chunk(TransactionLimit))
            .ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (batch, token) =>
        {
            try
            {
                // Deletes carry ETag.All (unconditional); upserts take no ETag (an empty one breaks the SDK's request builder).
                await table.SubmitTransactionAsync(batch.Select(e => action == TableTransactionActionType.Delete
                    ? new TableTransactionAction(action, e, Azure.ETag.All)
                    : new TableTransactionAction(action, e)), token).ConfigureAwait(false);
            }
            catch (Azure.RequestFailedException ex) when (action == TableTransactionActionType.Delete && ex.Status == 404)
            {
                // A concurrent replace of the same day removed some already: delete the rest one by one.
                foreach (var e in batch)
                    await table.DeleteEntityAsync(e.PartitionKey, e.RowKey, Azure.ETag.All, token).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
    }
}
