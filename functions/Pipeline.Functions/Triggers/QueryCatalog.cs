using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Hosting.Endpoints.Metrics;

namespace Pipeline.Functions.Triggers;

/// <summary><c>GET /api/v1/catalog</c>: the metric dictionary; public (it describes metrics, not data).</summary>
public sealed class QueryCatalog(CatalogEndpoint endpoint)
{
    [Function(nameof(QueryCatalog))]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = CatalogEndpoint.Route)] HttpRequest request)
        => endpoint.Handle(request);
}
