using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Hosting.Endpoints.Http;

namespace Pipeline.Functions.Triggers;

/// <summary><c>POST /api/v1/events</c>. Anonymous at the Functions level: the ingest key in <c>X-Api-Key</c> is the authentication.</summary>
public sealed class IngestEvents(IngestEndpoint endpoint)
{
    [Function(nameof(IngestEvents))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = IngestEndpoint.Route)] HttpRequest request,
        CancellationToken cancellationToken)
        => await endpoint.HandleAsync(request, cancellationToken);
}
