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
/// ComputedAt, RunId; on a row whose value a re-roll changed, Restated (true) and PreviousValue (the value before).
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
/// <para>Restatements: a re-roll that changes the value (Value, Numerator or Denominator) of a row the day had, or removes
/// it, first records the change in <c>Restatements</c> (<see cref="IRestatementStore"/>: old and new value, both runs,
/// why), between (1) and (2), so a crash cannot publish a change without its record; a retry of the same run records
/// the same entities again (the store keeps their keys). The changed rows get <c>Restated</c> = true and
/// <c>PreviousValue</c>; a first roll of a day (no old rows) records nothing.</para>
/// <para>Writes are entity-group transactions of up to 100 rows of one partition, several partitions
/// at once: a day's program rows spread over one partition per mini-program in <c>ProgramDailyMetrics</c>
/// and 64 in <c>DailyMetrics</c>, so no partition's rate (2,000 entities/s in Azure) bounds a day; see
/// docs/performance.md.</para>
/// </remarks>
public sealed class TableMetricsStore(TableServiceClient tableService, IRestatementStore? restatements = null) : IMetricsStore
{
    private const int TransactionLimit = 100;
    private const int Parallelism = 8;

    private static readonly string[] ValueColumns =
        ["PartitionKey", "RowKey", "Metric", "Stakeholder", "Tier", "Dimension", "DimensionValue", "Value", "Numerator", "Denominator", "Unit", "ComputedAt", "RunId", "Restated", "PreviousValue"];

    private readonly TableClient _daily = tableService.GetTableClient(StorageNames.DailyMetricsTable);
    private readonly TableClient _program = tableService.GetTableClient(StorageNames.ProgramDailyMetricsTable);
    private readonly IRestatementStore _restatements = restatements ?? new TableRestatementStore(tableService);

    public Task ReplaceDayAsync(DateOnly day, IReadOnlyList<MetricRow> rows, string runId, DateTimeOffset computedAt, CancellationToken cancellationToken) =>
        ReplaceDayAsync(day, rows, runId, computedAt, RestatementReasons.Default(day), cancellationToken);

    public Task ReplaceDayAsync(DateOnly day, IReadOnlyList<MetricRow> rows, string runId, DateTimeOffset computedAt, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reason);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(runId);
        var dayKey = MetricRowKeys.PartitionKey(day);

        // The rows to write, as keys and marks: each becomes a TableEntity only in the transaction that
        // writes it, so a day of many rows is never held as two tables' worth of entities at once.
        var dailyEntities = new Dictionary<string, PendingEntity>(rows.Count, StringComparer.Ordinal);
        var byKey = new Dictionary<string, MetricRow>(rows.Count, StringComparer.Ordinal);
        var programEntities = new Dictionary<(string Partition, string Row), PendingEntity>();
        var programDailyKey = new Dictionary<(string Partition, string Row), string>();
        var programOf = new Dictionary<string, (string Partition, string Row)>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (row.Date != day)
                throw new ArgumentException($"Row {row.Metric}|{row.Dimension}|{row.DimensionValue} is for {row.Date:yyyy-MM-dd}, not {dayKey}.", nameof(rows));
            var rowKey = MetricRowKeys.DailyRowKey(row);
            if (!dailyEntities.TryAdd(rowKey, new PendingEntity(MetricRowKeys.DailyPartitionKey(row), rowKey, row, runId, computedAt)))
                throw new ArgumentException($"Two rows of {dayKey} have the key '{rowKey}'.", nameof(rows));
            byKey[rowKey] = row;
            if (MetricRowKeys.IsProgramRow(row))
            {
                var partition = MetricRowKeys.ProgramPartitionKey(row);
                var programRowKey = MetricRowKeys.ProgramRowKey(row);
                programEntities[(partition, programRowKey)] = new PendingEntity(partition, programRowKey, row, runId, computedAt);
                programDailyKey[(partition, programRowKey)] = rowKey;
                programOf[rowKey] = (partition, programRowKey);
            }
        }

        return StorageFailures.RunAsync("replacing the metrics of " + dayKey, async ct =>
        {
            // (1) What the day has now.
            // Kept as compact rows, not as the entities read (a property dictionary each): a re-roll reads every row of the day.
            var oldDaily = new List<StoredRow>();
            var unchanged = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var e in _daily.QueryAsync<TableEntity>(DayFilter(day), select: ValueColumns, cancellationToken: ct).ConfigureAwait(false))
            {
                var stored = StoredRow.From(day, e);
                oldDaily.Add(stored);
                if (!byKey.TryGetValue(e.RowKey, out var row) || stored.Row != row) continue;
                // Unchanged only in the same partition (rows written before the buckets were in the day's partition).
                if (dailyEntities[e.RowKey].PartitionKey == e.PartitionKey) unchanged.Add(e.RowKey);
                else KeepComputed(stored, dailyEntities[e.RowKey], programOf.TryGetValue(e.RowKey, out var p) ? programEntities[p] : null);
            }

            var programPartitions = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in oldDaily)
            {
                var old = e.Row;
                if (MetricRowKeys.IsProgramRow(old) && TryProgramPartition(old, out var partition)) programPartitions.Add(partition);
            }
            foreach (var (partition, _) in programEntities.Keys) programPartitions.Add(partition);

            // (1b) Restatements: every old row whose value changed or that is gone, recorded before anything replaces it.
            var restated = Restatements(day, oldDaily, byKey, runId, computedAt, reason);
            if (restated.Count > 0)
                await _restatements.RecordAsync(day, runId, restated, ct).ConfigureAwait(false);
            MarkRestated(oldDaily, byKey, dailyEntities, programEntities, programOf);

            // (2), (3) The new and changed rows: program rows first, the daily row (which the next run compares with) last.
            await UpsertAsync(_program, programEntities.Where(kv => !unchanged.Contains(programDailyKey[kv.Key])).Select(kv => kv.Value), ct).ConfigureAwait(false);
            await UpsertAsync(_daily, dailyEntities.Where(kv => !unchanged.Contains(kv.Key)).Select(kv => kv.Value), ct).ConfigureAwait(false);

            // (4) Stale program rows: the day's key range of each partition it had or has rows in.
            // Program row keys are "yyyy-MM-dd|…"; '}' is the character after '|', so [day|, day}) is exactly that day.
            var from = dayKey + "|";
            var to = dayKey + "}";
            var staleProgram = new List<(string PartitionKey, string RowKey)>();
            await Parallel.ForEachAsync(programPartitions, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (partition, token) =>
            {
                var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {from} and RowKey lt {to}");
                await foreach (var e in _program.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: token).ConfigureAwait(false))
                {
                    if (!programEntities.ContainsKey((partition, e.RowKey)))
                        lock (staleProgram) staleProgram.Add((e.PartitionKey, e.RowKey));
                }
            }).ConfigureAwait(false);
            await DeleteAsync(_program, staleProgram, ct).ConfigureAwait(false);

            // (5) Stale daily rows, last (a row now in another partition of the day is stale where it was).
            await DeleteAsync(_daily, oldDaily.Where(e => !dailyEntities.TryGetValue(e.RowKey, out var now) || now.PartitionKey != e.PartitionKey)
                .Select(e => (e.PartitionKey, e.RowKey)), ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>The old rows whose value the new rows change (Value, Numerator or Denominator), or that they no longer have.</summary>
    private static List<Restatement> Restatements(DateOnly day, List<StoredRow> oldDaily, Dictionary<string, MetricRow> byKey, string runId, DateTimeOffset computedAt, string reason)
    {
        var restated = new List<Restatement>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in oldDaily)
        {
            // A row in two partitions of the day (a crash while it moved to its bucket): one record.
            if (!seen.Add(e.RowKey)) continue;
            var old = e.Row;
            byKey.TryGetValue(e.RowKey, out var now);
            if (now is not null && SameValue(old, now)) continue;
            restated.Add(new Restatement(
                day, old.Metric, old.Dimension, old.DimensionValue,
                old.Value, now?.Value, old.Numerator, old.Denominator, now?.Numerator, now?.Denominator,
                e.RunId, runId, e.ComputedAt, computedAt, reason));
        }
        return restated;
    }

    /// <summary>
    /// <c>Restated</c> and <c>PreviousValue</c> on the new entities of the rows whose value changed; a row whose value did
    /// not change but is written again (it moved partition) keeps the marks it had.
    /// </summary>
    private static void MarkRestated(List<StoredRow> oldDaily, Dictionary<string, MetricRow> byKey, Dictionary<string, PendingEntity> dailyEntities,
        Dictionary<(string Partition, string Row), PendingEntity> programEntities, Dictionary<string, (string Partition, string Row)> programOf)
    {
        foreach (var e in oldDaily)
        {
            if (!byKey.TryGetValue(e.RowKey, out var now)) continue;
            var old = e.Row;
            bool restated;
            double? previous;
            if (!SameValue(old, now)) (restated, previous) = (true, old.Value);
            else if (e.Restated == true) (restated, previous) = (true, e.PreviousValue);
            else continue;
            Mark(dailyEntities[e.RowKey]);
            if (programOf.TryGetValue(e.RowKey, out var key)) Mark(programEntities[key]);

            void Mark(PendingEntity entity)
            {
                entity.Restated = restated;
                if (previous is { } p) entity.PreviousValue = p;
            }
        }
    }

    private static bool SameValue(MetricRow a, MetricRow b) =>
        a.Value.Equals(b.Value) && Nullable.Equals(a.Numerator, b.Numerator) && Nullable.Equals(a.Denominator, b.Denominator);

    public Task<IReadOnlyList<MetricRow>> ReadDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var dayKey = MetricRowKeys.PartitionKey(day);
        return StorageFailures.RunAsync<IReadOnlyList<MetricRow>>("reading the metrics of " + dayKey, async ct =>
        {
            var rows = new List<MetricRow>();
            await foreach (var e in _daily.QueryAsync<TableEntity>(DayFilter(day), cancellationToken: ct).ConfigureAwait(false))
                rows.Add(MetricEntities.ToRow(day, e));
            return rows;
        }, cancellationToken);
    }

    /// <summary>Every partition of the day in <c>DailyMetrics</c>: the ecosystem partition and its 64 buckets (one key range).</summary>
    private static string DayFilter(DateOnly day) =>
        TableClient.CreateQueryFilter($"PartitionKey ge {MetricRowKeys.PartitionKey(day)} and PartitionKey lt {MetricRowKeys.PartitionRangeEnd(day)}");

    /// <summary>
    /// A row moved to its bucket partition with the same value is not recomputed: it keeps when and by which
    /// run it was last computed differently (the query API's computedAt and runId promise that).
    /// </summary>
    private static void KeepComputed(StoredRow old, PendingEntity daily, PendingEntity? program)
    {
        foreach (var target in program is null ? [daily] : new[] { daily, program })
        {
            if (old.ComputedAt is { } at) target.ComputedAt = at;
            if (old.RunId is { } run) target.RunId = run;
        }
    }

    /// <summary>A row of the day as stored, with what the comparison with the new rows needs.</summary>
    private sealed record StoredRow(string PartitionKey, string RowKey, MetricRow Row, DateTimeOffset? ComputedAt, string? RunId, bool? Restated, double? PreviousValue)
    {
        public static StoredRow From(DateOnly day, TableEntity e) => new(
            e.PartitionKey, e.RowKey, MetricEntities.ToRow(day, e), e.GetDateTimeOffset("ComputedAt"), e.GetString("RunId"), e.GetBoolean("Restated"), e.GetDouble("PreviousValue"));
    }

    /// <summary>A row to write: its keys, its value and the marks the comparison with the old row gave it.</summary>
    private sealed class PendingEntity(string partitionKey, string rowKey, MetricRow row, string runId, DateTimeOffset computedAt)
    {
        public string PartitionKey { get; } = partitionKey;
        public string RowKey { get; } = rowKey;
        public DateTimeOffset ComputedAt { get; set; } = computedAt;
        public string RunId { get; set; } = runId;
        public bool? Restated { get; set; }
        public double? PreviousValue { get; set; }

        public TableEntity ToEntity()
        {
            var entity = new TableEntity(PartitionKey, RowKey)
            {
                ["Metric"] = row.Metric,
                ["Stakeholder"] = row.Stakeholder,
                ["Tier"] = row.Tier,
                ["Dimension"] = row.Dimension,
                ["DimensionValue"] = row.DimensionValue,
                ["Value"] = row.Value,
                ["Unit"] = row.Unit,
                ["ComputedAt"] = ComputedAt,
                ["RunId"] = RunId,
            };
            if (row.Numerator is { } numerator) entity["Numerator"] = numerator;
            if (row.Denominator is { } denominator) entity["Denominator"] = denominator;
            if (Restated is { } restated) entity["Restated"] = restated;
            if (PreviousValue is { } previous) entity["PreviousValue"] = previous;
            return entity;
        }
    }


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

    /// <summary>Upserts in entity-group transactions; each row becomes a <see cref="TableEntity"/> in its transaction only.</summary>
    private static Task UpsertAsync(TableClient table, IEnumerable<PendingEntity> entities, CancellationToken ct) =>
        SubmitAsync(table, entities, e => e.PartitionKey, async (batch, token) =>
            // Upserts take no ETag (an empty one breaks the SDK's request builder).
            await table.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e.ToEntity())), token).ConfigureAwait(false), ct);

    private static Task DeleteAsync(TableClient table, IEnumerable<(string PartitionKey, string RowKey)> keys, CancellationToken ct) =>
        SubmitAsync(table, keys, e => e.PartitionKey, async (batch, token) =>
        {
            try
            {
                // Deletes carry ETag.All (unconditional).
                await table.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(e.PartitionKey, e.RowKey), Azure.ETag.All)), token).ConfigureAwait(false);
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 404)
            {
                // A concurrent replace of the same day removed some already: delete the rest one by one.
                foreach (var e in batch)
                    await table.DeleteEntityAsync(e.PartitionKey, e.RowKey, Azure.ETag.All, token).ConfigureAwait(false);
            }
        }, ct);

    /// <summary>Entity-group transactions: one partition, at most 100 entities each, partitions in parallel.</summary>
    private static async Task SubmitAsync<T>(TableClient table, IEnumerable<T> items, Func<T, string> partitionOf, Func<T[], CancellationToken, Task> submit, CancellationToken ct)
    {
        var batches = items
            .GroupBy(partitionOf, StringComparer.Ordinal)
            .SelectMany(g => g.Chunk(TransactionLimit))
            .ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            async (batch, token) => await submit(batch, token).ConfigureAwait(false)).ConfigureAwait(false);
    }
}
