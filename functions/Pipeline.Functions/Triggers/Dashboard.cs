using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Pipeline.Hosting.Endpoints.Dashboard;

namespace Pipeline.Functions.Triggers;

/// <summary><c>GET /api/dashboard/{path}</c>: the web dashboard's page and assets; public (the page asks for a read key and sends it to the query API).</summary>
public sealed class Dashboard(DashboardEndpoint endpoint)
{
    [Function(nameof(Dashboard))]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = DashboardEndpoint.Route)] HttpRequest request)
        => endpoint.Handle(request);
}
