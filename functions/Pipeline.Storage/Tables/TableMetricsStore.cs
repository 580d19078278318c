using System.Globalization;
using Azure.Data.Tables;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;

namespace Pipeline.Storage.Tables;

/// <summary>
/// The metric catalog's tables, with many rows per entity (<see cref="MetricRowPack"/>: a binary property <c>Rows</c>,
/// and <c>Count</c>).
/// <list type="bullet">
/// <item><c>DailyMetrics</c>: a day's rows by (metric, dimension), PartitionKey <see cref="MetricTableKeys.DailyPartition"/>
/// (<c>yyyy-MM-dd|e</c> for the ecosystem rows, <c>yyyy-MM-dd|p</c> for the rows whose dimension starts with
/// <c>miniProgram</c>), RowKey <c>&lt;metric&gt;|&lt;dimension&gt;|&lt;part:D4&gt;</c>, rows in value order, each part at most
/// <see cref="MetricRowPack.MaxRows"/> rows. The day is the partition key range [<c>yyyy-MM-dd</c>, <c>yyyy-MM-dd}</c>).</item>
/// <item><c>ProgramDailyMetrics</c>: one mini-program's rows of a day, PartitionKey the escaped mini-program id, RowKey
/// <c>yyyy-MM-dd|&lt;part:D4&gt;</c>: a mini-program's series is one partition and a day of it usually one entity.</item>
/// </list>
/// Each row in a pack keeps its own ComputedAt and RunId, and on a row whose value a re-roll changed, Restated and
/// PreviousValue (the value before).
/// </summary>
/// <remarks>
/// <para>Why packed: a day has rows in proportion to mini-programs × pages. One entity per row made the day's table
/// writes the rollup's largest cost (a day of 1,000,000 events over 2,000 mini-programs: 139,280 rows, about 270,000
/// entity writes); packed it is about 2,400 entities. The arithmetic at a million mini-programs is in
/// docs/performance.md ("Rows at scale").</para>
/// <para><see cref="ReplaceDayAsync(DateOnly, IReadOnlyList{MetricRow}, string, DateTimeOffset, string, CancellationToken)"/>
/// never leaves a stale row once it completes, and a crash half-way is repaired by the next run, because of its order:
/// (1) read the day's old <c>DailyMetrics</c> entities, whose <c>miniProgram*</c> rows name every program partition the
/// day has rows in; (2) record the restatements; (3) read the day's entities in each old or new program partition;
/// (4) write the program packs that changed, (5) then the daily packs that changed, (6) delete the program entities of
/// the day not written now, (7) and the daily ones last, so that until the program table is clean the daily table still
/// names its partitions. A crash between writes can leave a row in an old and a new pack for a moment: readers keep the
/// newer (<see cref="MetricEntities.DistinctRows"/>), and the retried run removes the old one.</para>
/// <para>A re-roll writes only the packs whose bytes changed (a late event touches a few rows of a day, so a few
/// packs): a row equal to the stored one keeps its <c>ComputedAt</c> and <c>RunId</c>, which therefore say when and by
/// which run its value was last computed differently.</para>
/// <para>Restatements: a re-roll that changes the value (Value, Numerator or Denominator) of a row the day had, or removes
/// it, first records the change in <c>Restatements</c> (<see cref="IRestatementStore"/>: old and new value, both runs,
/// why), before anything is replaced, so a crash cannot publish a change without its record; a retry of the same run
/// records the same entities again (the store keeps their keys). A first roll of a day (no old rows) records nothing.</para>
/// <para>The layout before packing (one entity per row, in partitions <c>yyyy-MM-dd</c> and <c>yyyy-MM-dd|NN</c> of
/// <c>DailyMetrics</c> and RowKeys <c>yyyy-MM-dd|&lt;metric&gt;|…</c> of <c>ProgramDailyMetrics</c>) is still read; a day
/// rolled again is rewritten packed and its one-row entities deleted as stale.</para>
/// </remarks>
public sealed class TableMetricsStore(TableServiceClient tableService, IRestatementStore? restatements = null) : IMetricsStore
{
    private const int TransactionLimit = 100;
    // An entity-group transaction carries at most 4 MiB; packs travel base64-encoded (4/3 of their bytes).
    private const int TransactionBytes = 2 * 1024 * 1024;
    private const int Parallelism = 8;

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
        var byKey = new Dictionary<string, MetricRow>(rows.Count, StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (row.Date != day)
                throw new ArgumentException($"Row {row.Metric}|{row.Dimension}|{row.DimensionValue} is for {row.Date:yyyy-MM-dd}, not {dayKey}.", nameof(rows));
            if (!byKey.TryAdd(MetricRowKeys.DailyRowKey(row), row))
                throw new ArgumentException($"Two rows of {dayKey} have the key '{MetricRowKeys.DailyRowKey(row)}'.", nameof(rows));
        }

        return StorageFailures.RunAsync("replacing the metrics of " + dayKey, async ct =>
        {
            // (1) What the day has now: its rows (one per key) and its entities (keys, and a pack's bytes).
            var old = new MetricEntities.DistinctRows();
            var oldDaily = new Dictionary<(string, string), byte[]?>();
            await foreach (var e in _daily.QueryAsync<TableEntity>(MetricTableKeys.DayFilter(day), select: MetricEntities.Columns, cancellationToken: ct).ConfigureAwait(false))
            {
                old.Add(day, e);
                oldDaily[(e.PartitionKey, e.RowKey)] = e.GetBinary(MetricEntities.RowsProperty);
            }

            // (2) Restatements: every old row whose value changed or that is gone, recorded before anything replaces it.
            var restated = Restatements(day, old.ByKey, byKey, runId, computedAt, reason);
            if (restated.Count > 0)
                await _restatements.RecordAsync(day, runId, restated, ct).ConfigureAwait(false);
            var stored = Stored(rows, old.ByKey, runId, computedAt);

            // (3) The day's entities in every program partition it had or has rows in.
            var programPartitions = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (_, (row, _)) in old.ByKey)
                if (MetricRowKeys.IsProgramRow(row.Row) && TryProgramPartition(row.Row, out var partition)) programPartitions.Add(partition);
            var newProgram = ProgramPacks(day, stored);
            foreach (var (partition, _) in newProgram.Keys) programPartitions.Add(partition);
            var oldProgram = await ReadProgramEntitiesAsync(day, programPartitions, ct).ConfigureAwait(false);

            // (4), (5) The packs that changed: program packs first, the daily packs (which the next run reads first) last.
            var newDaily = DailyPacks(day, stored);
            await UpsertAsync(_program, Changed(newProgram, oldProgram), ct).ConfigureAwait(false);
            await UpsertAsync(_daily, Changed(newDaily, oldDaily), ct).ConfigureAwait(false);

            // (6), (7) What the day had and no longer has: program entities, then daily entities.
            await DeleteAsync(_program, oldProgram.Keys.Where(k => !newProgram.ContainsKey(k)), ct).ConfigureAwait(false);
            await DeleteAsync(_daily, oldDaily.Keys.Where(k => !newDaily.ContainsKey(k)), ct).ConfigureAwait(false);
        }, cancellationToken);
    }

    public Task<IReadOnlyList<MetricRow>> ReadDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var dayKey = MetricRowKeys.PartitionKey(day);
        return StorageFailures.RunAsync<IReadOnlyList<MetricRow>>("reading the metrics of " + dayKey, async ct =>
        {
            var rows = new MetricEntities.DistinctRows();
            await foreach (var e in _daily.QueryAsync<TableEntity>(MetricTableKeys.DayFilter(day), select: MetricEntities.Columns, cancellationToken: ct).ConfigureAwait(false))
                rows.Add(day, e);
            return rows.ByKey.Values.Select(v => v.Row.Row).ToList();
        }, cancellationToken);
    }

    /// <summary>
    /// The new rows as they are stored: a row equal to the old one keeps when and by which run it was computed and its
    /// marks; a row whose value changed is marked restated with the value before; a new row has neither.
    /// </summary>
    private static List<StoredMetricRow> Stored(IReadOnlyList<MetricRow> rows, IReadOnlyDictionary<string, (StoredMetricRow Row, bool Packed)> old, string runId, DateTimeOffset computedAt)
    {
        var stored = new List<StoredMetricRow>(rows.Count);
        foreach (var row in rows)
        {
            if (!old.TryGetValue(MetricRowKeys.DailyRowKey(row), out var before))
            {
                stored.Add(new StoredMetricRow(row, computedAt, runId));
                continue;
            }
            var was = before.Row;
            if (was.Row == row && was.ComputedAt is not null && was.RunId is not null) stored.Add(was);
            else if (SameValue(was.Row, row)) stored.Add(new StoredMetricRow(row, computedAt, runId, was.Restated, was.PreviousValue));
            else stored.Add(new StoredMetricRow(row, computedAt, runId, Restated: true, PreviousValue: was.Row.Value));
        }
        return stored;
    }

    /// <summary>The day's rows in <c>DailyMetrics</c>: by (metric, dimension), in value order, in packs.</summary>
    private static Dictionary<(string, string), byte[]> DailyPacks(DateOnly day, List<StoredMetricRow> stored)
    {
        var packs = new Dictionary<(string, string), byte[]>();
        foreach (var group in stored
            .GroupBy(r => (r.Row.Metric, r.Row.Dimension))
            .OrderBy(g => g.Key.Metric, StringComparer.Ordinal).ThenBy(g => g.Key.Dimension, StringComparer.Ordinal))
        {
            var partition = MetricTableKeys.DailyPartition(day, MetricRowKeys.IsProgramRow(group.First().Row));
            var part = 0;
            foreach (var pack in MetricRowPack.Pack(group.OrderBy(r => r.Row.DimensionValue, StringComparer.Ordinal)))
                packs[(partition, MetricTableKeys.DailyRowKey(group.Key.Metric, group.Key.Dimension, part++))] = pack;
        }
        return packs;
    }

    /// <summary>Each mini-program's rows of the day in its <c>ProgramDailyMetrics</c> partition, in row-key order, in packs.</summary>
    private static Dictionary<(string, string), byte[]> ProgramPacks(DateOnly day, List<StoredMetricRow> stored)
    {
        var packs = new Dictionary<(string, string), byte[]>();
        foreach (var program in stored
            .Where(r => MetricRowKeys.IsProgramRow(r.Row))
            .GroupBy(r => MetricRowKeys.ProgramPartitionKey(r.Row), StringComparer.Ordinal))
        {
            var part = 0;
            foreach (var pack in MetricRowPack.Pack(program.OrderBy(r => MetricRowKeys.DailyRowKey(r.Row), StringComparer.Ordinal)))
                packs[(program.Key, MetricTableKeys.ProgramRowKey(day, part++))] = pack;
        }
        return packs;
    }

    /// <summary>The day's entities (keys, and a pack's bytes) in each of <paramref name="partitions"/> of <c>ProgramDailyMetrics</c>.</summary>
    private async Task<Dictionary<(string, string), byte[]?>> ReadProgramEntitiesAsync(DateOnly day, IEnumerable<string> partitions, CancellationToken ct)
    {
        var entities = new Dictionary<(string, string), byte[]?>();
        await Parallel.ForEachAsync(partitions, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct }, async (partition, token) =>
        {
            var found = new List<TableEntity>();
            await foreach (var e in _program.QueryAsync<TableEntity>(MetricTableKeys.ProgramDaysFilter(partition, day, day), select: ["PartitionKey", "RowKey", MetricEntities.RowsProperty], cancellationToken: token).ConfigureAwait(false))
                found.Add(e);
            lock (entities)
                foreach (var e in found) entities[(e.PartitionKey, e.RowKey)] = e.GetBinary(MetricEntities.RowsProperty);
        }).ConfigureAwait(false);
        return entities;
    }

    /// <summary>The new packs whose bytes differ from what is stored under their key.</summary>
    private static IEnumerable<TableEntity> Changed(Dictionary<(string Partition, string Row), byte[]> packs, Dictionary<(string, string), byte[]?> stored) =>
        packs.Where(p => !(stored.TryGetValue(p.Key, out var was) && was is not null && was.AsSpan().SequenceEqual(p.Value)))
            .Select(p => MetricTableKeys.PackEntity(p.Key.Partition, p.Key.Row, p.Value));

    /// <summary>The old rows whose value the new rows change (Value, Numerator or Denominator), or that they no longer have.</summary>
    private static List<Restatement> Restatements(DateOnly day, IReadOnlyDictionary<string, (StoredMetricRow Row, bool Packed)> old, Dictionary<string, MetricRow> byKey, string runId, DateTimeOffset computedAt, string reason)
    {
        var restated = new List<Restatement>();
        foreach (var (key, (stored, _)) in old)
        {
            var was = stored.Row;
            byKey.TryGetValue(key, out var now);
            if (now is not null && SameValue(was, now)) continue;
            restated.Add(new Restatement(
                day, was.Metric, was.Dimension, was.DimensionValue,
                was.Value, now?.Value, was.Numerator, was.Denominator, now?.Numerator, now?.Denominator,
                stored.RunId, runId, stored.ComputedAt, computedAt, reason));
        }
        return restated;
    }

    private static bool SameValue(MetricRow a, MetricRow b) =>
        a.Value.Equals(b.Value) && Nullable.Equals(a.Numerator, b.Numerator) && Nullable.Equals(a.Denominator, b.Denominator);

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

    /// <summary>
    /// Upserts, as entity-group transactions of one partition within the service's count and size limits (a partition with
    /// one entity, as a mini-program's day usually is, is one plain upsert); partitions in parallel.
    /// </summary>
    private static Task UpsertAsync(TableClient table, IEnumerable<TableEntity> entities, CancellationToken ct) =>
        SubmitAsync(entities.Select(e => (e, e.PartitionKey, Bytes: e.GetBinary(MetricEntities.RowsProperty)?.Length ?? 0)), async (batch, token) =>
        {
            if (batch.Length == 1) await table.UpsertEntityAsync(batch[0].Item, TableUpdateMode.Replace, token).ConfigureAwait(false);
            // Upserts take no ETag (an empty one breaks the SDK's request builder).
            else await table.SubmitTransactionAsync(batch.Select(b => new TableTransactionAction(TableTransactionActionType.UpsertReplace, b.Item)), token).ConfigureAwait(false);
        }, ct);

    private static Task DeleteAsync(TableClient table, IEnumerable<(string PartitionKey, string RowKey)> keys, CancellationToken ct) =>
        SubmitAsync(keys.Select(k => (k, k.PartitionKey, Bytes: 0)), async (batch, token) =>
        {
            try
            {
                // Deletes carry ETag.All (unconditional).
                await table.SubmitTransactionAsync(batch.Select(b => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(b.Item.PartitionKey, b.Item.RowKey), Azure.ETag.All)), token).ConfigureAwait(false);
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 404)
            {
                // A concurrent replace of the same day removed some already: delete the rest one by one.
                foreach (var (k, _, _) in batch)
                    await table.DeleteEntityAsync(k.PartitionKey, k.RowKey, Azure.ETag.All, token).ConfigureAwait(false);
            }
        }, ct);

    /// <summary>Batches of one partition, at most 100 items and <see cref="TransactionBytes"/> of packs each, submitted in parallel.</summary>
    private static async Task SubmitAsync<T>(IEnumerable<(T Item, string PartitionKey, int Bytes)> items, Func<(T Item, string PartitionKey, int Bytes)[], CancellationToken, Task> submit, CancellationToken ct)
    {
        var batches = new List<(T, string, int)[]>();
        foreach (var partition in items.GroupBy(i => i.PartitionKey, StringComparer.Ordinal))
        {
            var batch = new List<(T, string, int)>();
            var bytes = 0;
            foreach (var item in partition)
            {
                if (batch.Count == TransactionLimit || (batch.Count > 0 && bytes + item.Bytes > TransactionBytes))
                {
                    batches.Add([.. batch]);
                    batch.Clear();
                    bytes = 0;
                }
                batch.Add(item);
                bytes += item.Bytes;
            }
            if (batch.Count > 0) batches.Add([.. batch]);
        }
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            async (batch, token) => await submit(batch, token).ConfigureAwait(false)).ConfigureAwait(false);
    }
}
