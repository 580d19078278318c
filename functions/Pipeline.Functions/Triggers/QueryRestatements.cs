using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Hosting.Endpoints.Metrics;

namespace Pipeline.Functions.Triggers;

/// <summary><c>GET /api/v1/restatements</c>, for analysts: what re-rolls changed since a time. Anonymous at the host: the endpoint requires a read key.</summary>
public sealed class QueryRestatements(RestatementsEndpoint endpoint)
{
    [Function(nameof(QueryRestatements))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = RestatementsEndpoint.Route)] HttpRequest request,
        CancellationToken cancellationToken)
        => await endpoint.HandleAsync(request, cancellationToken);
}
