using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Pipeline.Hosting.Endpoints.Http;
using Pipeline.Hosting.Endpoints.Metrics;
using Pipeline.Core;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Pipeline.Core.Query;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage.Blobs;
using Pipeline.Storage.Queues;
using Pipeline.Storage.Tables;

namespace Pipeline.Integration.Tests.Query;

/// <summary>
/// A bug is not an outage: an exception other than <see cref="StorageUnavailableException"/> is answered
/// <c>500 internal_error</c> with a correlation id that is also in the log with the exception (never
/// <c>503</c>, which clients retry forever), on the ingest endpoint and on both read endpoints.
/// </summary>
public sealed class UnexpectedFailureTests
{
    /// <summary>A key store with a bug in it: every look-up throws, as a NullReferenceException in its code would.</summary>
    private sealed class BuggyKeyStore : IIngestKeyStore
    {
        private static Exception Bug() => new InvalidOperationException("a bug in the key store");
        public Task<IngestKeyRecord?> FindKeyAsync(string keyId, CancellationToken cancellationToken) => throw Bug();
        public Task<SourceRegistration?> FindSourceAsync(string source, CancellationToken cancellationToken) => throw Bug();
        public Task SaveSourceAsync(SourceRegistration source, CancellationToken cancellationToken) => throw Bug();
        public Task<SourceRegistration?> FindReaderAsync(string reader, CancellationToken cancellationToken) => throw Bug();
        public Task SaveReaderAsync(SourceRegistration reader, CancellationToken cancellationToken) => throw Bug();
        public Task SaveKeyAsync(IngestKeyRecord key, CancellationToken cancellationToken) => throw Bug();
        public Task<IReadOnlyList<IngestKeyRecord>> ListKeysAsync(CancellationToken cancellationToken) => throw Bug();
    }

    private static void AssertInternalError<T>(HttpReply reply, ListLogger<T> logger)
    {
        Assert.Equal(500, reply.Status);
        var body = Encoding.UTF8.GetString(reply.Body.Span);
        Assert.Contains("\"internal_error\"", body);
        Assert.DoesNotContain("a bug in the key store", body); // nothing of the exception reaches the client
        var id = reply.Headers["X-Correlation-Id"];
        Assert.Contains(id, body);
        var entry = Assert.Single(logger.Entries, e => e.Level == LogLevel.Error);
        Assert.Contains(id, entry.Message);
        Assert.IsType<InvalidOperationException>(entry.Exception);
    }

    private static HttpRequest Request(string key, string query, string? body = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["X-Api-Key"] = key;
        context.Request.QueryString = new QueryString(query);
        if (body is not null)
        {
            context.Request.ContentType = "application/json";
            context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        }
        return context.Request;
    }

    [Fact]
    public async Task A_bug_on_the_read_endpoints_is_a_logged_500_with_a_correlation_id()
    {
        var tables = UnreachableStorage.Options().CreateTableServiceClient(); // never reached: the key store fails first
        var readers = new ReadKeyAuthenticator(new IngestKeyCache(new BuggyKeyStore(), TimeProvider.System), TimeProvider.System);
        var (key, _) = IngestKeys.Create("reader", DateTimeOffset.UtcNow, ApiKeyKind.Read);

        var metricsLog = new ListLogger<MetricsQueryEndpoint>();
        var metrics = new MetricsQueryEndpoint(readers, new MetricQueryService(new TableMetricsReader(tables)), metricsLog);
        AssertInternalError(await metrics.HandleAsync(Request(key, "?date=2026-11-21"), CancellationToken.None), metricsLog);

        var restatementsLog = new ListLogger<RestatementsEndpoint>();
        var restatements = new RestatementsEndpoint(new TableRestatementStore(tables), TimeProvider.System, readers, new RestatementAccess(CellSuppression.Off), restatementsLog);
        AssertInternalError(await restatements.HandleAsync(Request(key, "?since=2026-11-30"), CancellationToken.None), restatementsLog);
    }

    [Fact]
    public async Task A_bug_on_the_ingest_endpoint_is_a_logged_500_not_a_503()
    {
        var storage = UnreachableStorage.Options();
        var handler = new IngestHandler(new IngestKeyCache(new BuggyKeyStore(), TimeProvider.System), new BlobLandingStore(storage.CreateBlobServiceClient()),
            new QueueProcessingQueue(storage.CreateQueueServiceClient()), new BlobRejectedEventStore(storage.CreateBlobServiceClient()),
            new TableIngestReceiptLedger(storage.CreateTableServiceClient()), new PipelineOptions { PseudonymisationKey = new string('k', 32) }, TimeProvider.System);
        var log = new ListLogger<IngestEndpoint>();
        var (key, _) = IngestKeys.Create("sdk", DateTimeOffset.UtcNow);

        var reply = await new IngestEndpoint(handler, log).HandleAsync(Request(key, "", """{"events":[]}"""), CancellationToken.None);

        AssertInternalError(reply, log);
    }
}
