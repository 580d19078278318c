using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Hosting.Endpoints.OpenApi;

namespace Pipeline.Functions.Triggers;

/// <summary><c>GET /api/v1/openapi.json</c>: the API's OpenAPI document; public.</summary>
public sealed class QueryOpenApi(OpenApiEndpoint endpoint)
{
    [Function(nameof(QueryOpenApi))]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = OpenApiEndpoint.Route)] HttpRequest request)
        => endpoint.Handle(request);
}
