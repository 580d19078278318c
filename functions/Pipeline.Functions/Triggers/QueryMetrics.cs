using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Api.Metrics;

namespace Pipeline.Functions.Triggers;

/// <summary><c>GET /api/v1/metrics</c>, for analysts and dashboards; needs a function key.</summary>
public sealed class QueryMetrics(MetricsQueryEndpoint endpoint)
{
    [Function(nameof(QueryMetrics))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = MetricsQueryEndpoint.Route)] HttpRequest request,
        CancellationToken cancellationToken)
        => await endpoint.HandleAsync(request, cancellationToken);
}
