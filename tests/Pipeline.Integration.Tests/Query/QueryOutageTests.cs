using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Hosting.Endpoints.Metrics;
using Pipeline.Core.Ingest;
using Pipeline.Core.Query;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Storage.Tables;

namespace Pipeline.Integration.Tests.Query;

/// <summary>The read endpoints answer a storage outage with 503 and Retry-After, not a 500.</summary>
public sealed class QueryOutageTests
{
    [Fact]
    public async Task Unreachable_storage_is_a_503_with_retry_after_on_both_read_endpoints()
    {
        var tables = UnreachableStorage.Options().CreateTableServiceClient();
        var readers = new ReadKeyAuthenticator(new IngestKeyCache(new TableIngestKeyStore(tables), TimeProvider.System), TimeProvider.System);
        var (key, _) = IngestKeys.Create("outage-reader", DateTimeOffset.UtcNow, ApiKeyKind.Read);

        var metrics = new MetricsQueryEndpoint(readers, new MetricQueryService(new TableMetricsReader(tables)), NullLogger<MetricsQueryEndpoint>.Instance);
        var restatements = new RestatementsEndpoint(new TableRestatementStore(tables), TimeProvider.System, readers, new RestatementAccess(CellSuppression.Off), NullLogger<RestatementsEndpoint>.Instance);
        foreach (var (handle, query) in new (Func<HttpRequest, Task<Pipeline.Hosting.Endpoints.Http.HttpReply>>, string)[]
        {
            (r => metrics.HandleAsync(r, CancellationToken.None), "?date=2026-11-21"),
            (r => restatements.HandleAsync(r, CancellationToken.None), "?since=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"))),
        })
        {
            var context = new DefaultHttpContext();
            context.Request.QueryString = new QueryString(query);
            context.Request.Headers[ReadKeyAuthenticator.Header] = key;

            var reply = await handle(context.Request);

            Assert.Equal(503, reply.Status);
            Assert.Contains("storage_unavailable", System.Text.Encoding.UTF8.GetString(reply.Body.Span));
            Assert.True(int.Parse(reply.Headers["Retry-After"]) > 0);
        }
    }
}
