using Azure;
using Azure.Data.Tables;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Tables;

/// <summary>
/// Ingest keys and sources. <c>IngestKeys</c>: PartitionKey <c>key</c>, RowKey = key id; Source,
/// SecretHash (base64 of the SHA-256), CreatedAt, RevokedAt (absent while active).
/// <c>IngestSources</c>: PartitionKey <c>source</c>, RowKey = name; AllMiniPrograms,
/// MiniProgramIds (comma-joined), CreatedAt. Both tables are small: one partition each.
/// </summary>
public sealed class TableIngestKeyStore(TableServiceClient tableService) : IIngestKeyStore
{
    public const string KeyPartitionKey = "key";
    public const string SourcePartitionKey = "source";

    private readonly TableClient _keys = tableService.GetTableClient(StorageNames.IngestKeysTable);
    private readonly TableClient _sources = tableService.GetTableClient(StorageNames.IngestSourcesTable);

    public Task<IngestKeyRecord?> FindKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        if (!IsValidKey(keyId)) return Task.FromResult<IngestKeyRecord?>(null); // an unknown key, not a bad request to storage
        return StorageFailures.RunAsync("reading ingest key", async ct =>
        {
            var entity = await _keys.GetEntityIfExistsAsync<TableEntity>(KeyPartitionKey, keyId, cancellationToken: ct).ConfigureAwait(false);
            return entity.HasValue && entity.Value is { } e ? ToKey(e) : null;
        }, cancellationToken);
    }

    public Task<SourceRegistration?> FindSourceAsync(string source, CancellationToken cancellationToken)
    {
        if (!IsValidKey(source)) return Task.FromResult<SourceRegistration?>(null);
        return StorageFailures.RunAsync("reading source " + source, async ct =>
        {
            var entity = await _sources.GetEntityIfExistsAsync<TableEntity>(SourcePartitionKey, source, cancellationToken: ct).ConfigureAwait(false);
            return entity.HasValue && entity.Value is { } e ? ToSource(e) : null;
        }, cancellationToken);
    }

    public Task SaveSourceAsync(SourceRegistration source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        RequireValidKey(source.Name, nameof(source));
        if (source.MiniProgramIds.Any(id => id.Contains(',', StringComparison.Ordinal)))
            throw new ArgumentException("Mini-program ids cannot contain ','.", nameof(source));
        var entity = new TableEntity(SourcePartitionKey, source.Name)
        {
            ["AllMiniPrograms"] = source.AllMiniPrograms,
            ["MiniProgramIds"] = string.Join(',', source.MiniProgramIds),
            ["CreatedAt"] = source.CreatedAt,
        };
        return StorageFailures.RunAsync("saving source " + source.Name, ct =>
            _sources.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct), cancellationToken);
    }

    public Task SaveKeyAsync(IngestKeyRecord key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        RequireValidKey(key.KeyId, nameof(key));
        var entity = new TableEntity(KeyPartitionKey, key.KeyId)
        {
            ["Source"] = key.Source,
            ["SecretHash"] = Convert.ToBase64String(key.SecretHash),
            ["CreatedAt"] = key.CreatedAt,
        };
        if (key.RevokedAt is { } revokedAt) entity["RevokedAt"] = revokedAt;
        return StorageFailures.RunAsync("saving ingest key " + key.KeyId, ct =>
            _keys.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct), cancellationToken);
    }

    public Task<IReadOnlyList<IngestKeyRecord>> ListKeysAsync(CancellationToken cancellationToken) =>
        StorageFailures.RunAsync<IReadOnlyList<IngestKeyRecord>>("listing ingest keys", async ct =>
        {
            var keys = new List<IngestKeyRecord>();
            await foreach (var e in _keys.QueryAsync<TableEntity>(e => e.PartitionKey == KeyPartitionKey, cancellationToken: ct).ConfigureAwait(false))
                keys.Add(ToKey(e));
            return keys;
        }, cancellationToken);

    private static IngestKeyRecord ToKey(TableEntity e) => new(
        e.RowKey,
        e.GetString("Source") ?? "",
        Convert.FromBase64String(e.GetString("SecretHash") ?? ""),
        e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        e.GetDateTimeOffset("RevokedAt"));

    private static SourceRegistration ToSource(TableEntity e)
    {
        var ids = e.GetString("MiniProgramIds");
        return new SourceRegistration(
            e.RowKey,
            e.GetBoolean("AllMiniPrograms") ?? false,
            string.IsNullOrEmpty(ids) ? [] : ids.Split(','),
            e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue);
    }

    // Table keys may not hold / \ # ? or control characters (and at most 1 KiB).
    private static bool IsValidKey(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= 512 && value.AsSpan().IndexOfAny("/\\#?") < 0 && !value.Any(char.IsControl);

    private static void RequireValidKey(string value, string parameter)
    {
        if (!IsValidKey(value))
            throw new ArgumentException($"'{value}' cannot be a table key (empty, too long, or holds / \\ # ? or control characters).", parameter);
    }
}
