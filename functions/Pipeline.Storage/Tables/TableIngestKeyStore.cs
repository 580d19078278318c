using Azure;
using Azure.Data.Tables;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Tables;

/// <summary>
/// Ingest keys and sources. <c>IngestKeys</c>: PartitionKey <c>key</c>, RowKey = key id; Source,
/// SecretHash (base64 of the SHA-256), CreatedAt, RevokedAt (absent unless revoked), ExpiresAt (absent
/// unless replaced by a rotation), Kind (<c>read</c> for read keys; absent for ingest keys, which
/// keeps the keys written before read keys existed valid).
/// <c>IngestSources</c>: PartitionKey <c>source</c> (sources) or <c>reader</c> (readers), RowKey = name;
/// AllMiniPrograms, MiniProgramIds (comma-joined), CreatedAt. Both tables are small: a partition or two.
/// Names follow the source-name rule (<see cref="SourceNames"/>) and mini-program ids theirs
/// (<see cref="MiniProgramIds"/>), the rules the key verbs and ingest apply: a registration that breaks
/// them is refused, and a lookup of a name that breaks them finds nothing. Key ids are table keys
/// (<see cref="TableKeys"/>).
/// </summary>
public sealed class TableIngestKeyStore(TableServiceClient tableService) : IIngestKeyStore
{
    public const string KeyPartitionKey = "key";
    public const string SourcePartitionKey = "source";
    public const string ReaderPartitionKey = "reader";

    private readonly TableClient _keys = tableService.GetTableClient(StorageNames.IngestKeysTable);
    private readonly TableClient _sources = tableService.GetTableClient(StorageNames.IngestSourcesTable);

    public Task<IngestKeyRecord?> FindKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        if (!TableKeys.IsValid(keyId)) return Task.FromResult<IngestKeyRecord?>(null); // an unknown key, not a bad request to storage
        return StorageFailures.RunAsync("reading ingest key", async ct =>
        {
            var entity = await _keys.GetEntityIfExistsAsync<TableEntity>(KeyPartitionKey, keyId, cancellationToken: ct).ConfigureAwait(false);
            return entity.HasValue && entity.Value is { } e ? ToKey(e) : null;
        }, cancellationToken);
    }

    public Task<SourceRegistration?> FindSourceAsync(string source, CancellationToken cancellationToken) =>
        FindRegistrationAsync(SourcePartitionKey, source, cancellationToken);

    public Task SaveSourceAsync(SourceRegistration source, CancellationToken cancellationToken) =>
        SaveRegistrationAsync(SourcePartitionKey, source, cancellationToken);

    public Task<SourceRegistration?> FindReaderAsync(string reader, CancellationToken cancellationToken) =>
        FindRegistrationAsync(ReaderPartitionKey, reader, cancellationToken);

    public Task SaveReaderAsync(SourceRegistration reader, CancellationToken cancellationToken) =>
        SaveRegistrationAsync(ReaderPartitionKey, reader, cancellationToken);

    private Task<SourceRegistration?> FindRegistrationAsync(string partition, string name, CancellationToken cancellationToken)
    {
        if (!SourceNames.IsValid(name)) return Task.FromResult<SourceRegistration?>(null); // never registered: not a bad request to storage
        return StorageFailures.RunAsync($"reading {partition} {name}", async ct =>
        {
            var entity = await _sources.GetEntityIfExistsAsync<TableEntity>(partition, name, cancellationToken: ct).ConfigureAwait(false);
            return entity.HasValue && entity.Value is { } e ? ToSource(e) : null;
        }, cancellationToken);
    }

    private Task SaveRegistrationAsync(string partition, SourceRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (!SourceNames.IsValid(registration.Name))
            throw new ArgumentException($"'{registration.Name}' is not a source or reader name ({SourceNames.Rule}).", nameof(registration));
        // Ids are stored comma-joined: the rule keeps ',' out of them.
        if (registration.MiniProgramIds.FirstOrDefault(id => !MiniProgramIds.IsValid(id)) is { } bad)
            throw new ArgumentException($"'{bad}' is not a miniProgramId ({MiniProgramIds.Rule}).", nameof(registration));
        var entity = new TableEntity(partition, registration.Name)
        {
            ["AllMiniPrograms"] = registration.AllMiniPrograms,
            ["MiniProgramIds"] = string.Join(',', registration.MiniProgramIds),
            ["CreatedAt"] = registration.CreatedAt,
        };
        return StorageFailures.RunAsync($"saving {partition} {registration.Name}", ct =>
            _sources.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct), cancellationToken);
    }

    public Task SaveKeyAsync(IngestKeyRecord key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!TableKeys.IsValid(key.KeyId))
            throw new ArgumentException($"'{key.KeyId}' cannot be a table key (empty, too long, or holds / \\ # ? or control characters).", nameof(key));
        var entity = new TableEntity(KeyPartitionKey, key.KeyId)
        {
            ["Source"] = key.Source,
            ["SecretHash"] = Convert.ToBase64String(key.SecretHash),
            ["CreatedAt"] = key.CreatedAt,
        };
        if (key.RevokedAt is { } revokedAt) entity["RevokedAt"] = revokedAt;
        if (key.ExpiresAt is { } expiresAt) entity["ExpiresAt"] = expiresAt;
        if (key.Kind == ApiKeyKind.Read) entity["Kind"] = "read";
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
        e.GetDateTimeOffset("RevokedAt"),
        e.GetDateTimeOffset("ExpiresAt"),
        e.GetString("Kind") == "read" ? ApiKeyKind.Read : ApiKeyKind.Ingest);

    private static SourceRegistration ToSource(TableEntity e)
    {
        var ids = e.GetString("MiniProgramIds");
        return new SourceRegistration(
            e.RowKey,
            e.GetBoolean("AllMiniPrograms") ?? false,
            string.IsNullOrEmpty(ids) ? [] : ids.Split(','),
            e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue);
    }
}
