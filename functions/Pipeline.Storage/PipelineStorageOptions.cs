using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;

namespace Pipeline.Storage;

/// <summary>
/// How to reach the pipeline's storage account: a connection string (local development, Azurite)
/// or the account's service URIs with <see cref="DefaultAzureCredential"/> (identity-based access
/// in Azure: the app's managed identity needs the Blob, Queue and Table data-contributor roles).
/// </summary>
/// <remarks>
/// Read by <see cref="FromConfiguration"/> from, in order:
/// <list type="number">
/// <item><c>ConnectionStrings:PipelineStorage</c> (a connection string);</item>
/// <item>the setting <c>PipelineStorage</c> itself when it is a value (a connection string, for
/// example <c>UseDevelopmentStorage=true</c>; this is how the Functions queue trigger's
/// <c>Connection = "PipelineStorage"</c> reads it too);</item>
/// <item>the Functions identity-based convention under <c>PipelineStorage</c>:
/// <c>PipelineStorage__blobServiceUri</c>, <c>PipelineStorage__queueServiceUri</c> and
/// <c>PipelineStorage__tableServiceUri</c>, or <c>PipelineStorage__accountName</c> for the three
/// public-cloud URIs of an account; <c>PipelineStorage__clientId</c> selects a user-assigned
/// managed identity.</item>
/// </list>
/// Also optional: <c>PipelineStorage__maxRetries</c> (default 3) and
/// <c>PipelineStorage__networkTimeoutSeconds</c> (default 10).
/// </remarks>
public sealed class PipelineStorageOptions
{
    /// <summary>Name of the connection (the configuration key and Functions <c>Connection</c> setting).</summary>
    public const string ConnectionName = "PipelineStorage";

    /// <summary>A storage connection string; when set, the URIs are ignored.</summary>
    public string? ConnectionString { get; set; }

    public Uri? BlobServiceUri { get; set; }
    public Uri? QueueServiceUri { get; set; }
    public Uri? TableServiceUri { get; set; }

    /// <summary>Client id of a user-assigned managed identity; null for the system-assigned one or developer credentials.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Retries of the SDK's own transport retry policy (the only retry layer over storage calls).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Timeout of one network attempt: short, so an outage fails fast instead of hanging a request.</summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First retry delay of the SDK's exponential back-off.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest retry delay of the SDK's back-off.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    public bool UsesConnectionString => !string.IsNullOrWhiteSpace(ConnectionString);

    public bool IsConfigured =>
        UsesConnectionString || (BlobServiceUri is not null && QueueServiceUri is not null && TableServiceUri is not null);

    /// <summary>Reads the options from configuration (see the remarks of the class).</summary>
    public static PipelineStorageOptions FromConfiguration(IConfiguration configuration)
    {
        var options = new PipelineStorageOptions();
        options.ReadFrom(configuration);
        return options;
    }

    /// <summary>Sets these options from configuration (see the remarks of the class); settings that are absent keep their defaults.</summary>
    public void ReadFrom(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(ConnectionName);

        ConnectionString = NullIfEmpty(configuration.GetConnectionString(ConnectionName)) ?? NullIfEmpty(section.Value);

        var accountName = NullIfEmpty(section["accountName"]);
        BlobServiceUri = UriOf(section["blobServiceUri"] ?? section["serviceUri"], accountName, "blob");
        QueueServiceUri = UriOf(section["queueServiceUri"], accountName, "queue");
        TableServiceUri = UriOf(section["tableServiceUri"], accountName, "table");
        ManagedIdentityClientId = NullIfEmpty(section["clientId"]);

        if (int.TryParse(section["maxRetries"], System.Globalization.CultureInfo.InvariantCulture, out var retries) && retries >= 0)
            MaxRetries = retries;
        if (double.TryParse(section["networkTimeoutSeconds"], System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
            NetworkTimeout = TimeSpan.FromSeconds(seconds);

        static Uri? UriOf(string? value, string? accountName, string service) =>
            NullIfEmpty(value) is { } v ? new Uri(v, UriKind.Absolute)
            : accountName is not null ? new Uri($"https://{accountName}.{service}.core.windows.net")
            : null;
    }

    /// <summary>What to tell an operator when <see cref="IsConfigured"/> is false.</summary>
    public static string MissingConfigurationMessage =>
        $"Storage is not configured: set ConnectionStrings:{ConnectionName} or {ConnectionName} to a connection string " +
        $"(UseDevelopmentStorage=true for Azurite), or {ConnectionName}__blobServiceUri, {ConnectionName}__queueServiceUri " +
        $"and {ConnectionName}__tableServiceUri (or {ConnectionName}__accountName) for identity-based access.";

    // The clients are made here and nowhere else: by AddPipelineStorage through Microsoft.Extensions.Azure
    // (which passes options carrying the defaults below and the shared credential), and directly by tools
    // and tests that hold options without a container.

    public BlobServiceClient CreateBlobServiceClient() => CreateBlobServiceClient(ApplyTo(new BlobClientOptions()), CreateCredential());

    /// <summary>A queue client that Base64-encodes message bodies, as the Functions queue extension expects.</summary>
    public QueueServiceClient CreateQueueServiceClient() => CreateQueueServiceClient(ApplyTo(new QueueClientOptions()), CreateCredential());

    public TableServiceClient CreateTableServiceClient() => CreateTableServiceClient(ApplyTo(new TableClientOptions()), CreateCredential());

    internal BlobServiceClient CreateBlobServiceClient(BlobClientOptions clientOptions, TokenCredential credential) =>
        UsesConnectionString
            ? new BlobServiceClient(ConnectionString, clientOptions)
            : new BlobServiceClient(Require(BlobServiceUri, "blobServiceUri"), credential, clientOptions);

    internal QueueServiceClient CreateQueueServiceClient(QueueClientOptions clientOptions, TokenCredential credential)
    {
        clientOptions.MessageEncoding = QueueMessageEncoding.Base64;
        return UsesConnectionString
            ? new QueueServiceClient(ConnectionString, clientOptions)
            : new QueueServiceClient(Require(QueueServiceUri, "queueServiceUri"), credential, clientOptions);
    }

    internal TableServiceClient CreateTableServiceClient(TableClientOptions clientOptions, TokenCredential credential) =>
        UsesConnectionString
            ? new TableServiceClient(ConnectionString, clientOptions)
            : new TableServiceClient(Require(TableServiceUri, "tableServiceUri"), credential, clientOptions);

    private TokenCredential? _credential;

    /// <summary>
    /// The identity for URI-based access: the app's managed identity (user-assigned when
    /// <see cref="ManagedIdentityClientId"/> is set) in Azure, developer credentials elsewhere. Created
    /// once and shared; it asks for nothing until a client needs a token.
    /// </summary>
    internal TokenCredential CreateCredential() => _credential ??= new DefaultAzureCredential(
        new DefaultAzureCredentialOptions { ManagedIdentityClientId = ManagedIdentityClientId });

    /// <summary>The SDK's transport retry (the only retry layer over storage calls) and the network timeout.</summary>
    internal T ApplyTo<T>(T clientOptions) where T : ClientOptions
    {
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = MaxRetries;
        clientOptions.Retry.Delay = RetryDelay;
        clientOptions.Retry.MaxDelay = MaxRetryDelay;
        clientOptions.Retry.NetworkTimeout = NetworkTimeout;
        return clientOptions;
    }

    private static Uri Require(Uri? uri, string name) =>
        uri ?? throw new InvalidOperationException($"{MissingConfigurationMessage} ({ConnectionName}__{name} is missing.)");

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
