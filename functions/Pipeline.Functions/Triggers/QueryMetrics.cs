using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Hosting.Endpoints.Metrics;

namespace Pipeline.Functions.Triggers;

/// <summary>
/// <c>GET /api/v1/metrics</c>, for analysts, dashboards and developers. Anonymous at the host: the
/// endpoint itself requires a read key (<c>X-Api-Key: mrk_…</c>), which is the boundary, since it decides
/// which mini-programs' rows the caller sees (a function key would let its holder see everything).
/// </summary>
public sealed class QueryMetrics(MetricsQueryEndpoint endpoint)
{
    [Function(nameof(QueryMetrics))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = MetricsQueryEndpoint.Route)] HttpRequest request,
        CancellationToken cancellationToken)
        => await endpoint.HandleAsync(request, cancellationToken);
}
