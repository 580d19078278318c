using System.Net;
using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.OpenApi.Readers;

namespace Pipeline.Integration.Tests.Query;

/// <summary>
/// <c>GET /api/v1/openapi.json</c> is served, is a valid OpenAPI 3 document by an independent reader
/// (Microsoft.OpenApi.Readers), and describes every HTTP route of the Functions app (the local host serves
/// the same endpoint classes), with the method the trigger accepts.
/// </summary>
public sealed class OpenApiDocumentTests(QueryFixture f) : IClassFixture<QueryFixture>
{
    [Fact]
    public async Task The_served_document_is_valid_and_describes_every_http_trigger()
    {
        var response = await f.Host.Http.GetAsync("/api/v1/openapi.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var stream = await response.Content.ReadAsStreamAsync();

        var document = new OpenApiStreamReader().Read(stream, out var diagnostic);

        Assert.True(diagnostic.Errors.Count == 0, string.Join("\n", diagnostic.Errors.Select(e => $"{e.Pointer}: {e.Message}")));
        Assert.Equal(Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_0, diagnostic.SpecificationVersion);

        var triggers = typeof(Pipeline.Functions.Triggers.QueryMetrics).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .SelectMany(m => m.GetParameters())
            .Select(p => p.GetCustomAttribute<HttpTriggerAttribute>())
            .Where(a => a is not null)
            .ToList();
        Assert.NotEmpty(triggers);
        foreach (var trigger in triggers)
        {
            var path = PathOf(trigger!.Route!);
            Assert.True(document.Paths.ContainsKey(path), $"the OpenAPI document has no path {path}");
            foreach (var method in trigger.Methods!)
                Assert.Contains(document.Paths[path].Operations.Keys, op => op.ToString().Equals(method, StringComparison.OrdinalIgnoreCase));
        }
        // And nothing it describes is missing from the app.
        foreach (var path in document.Paths.Keys)
            Assert.Contains(triggers, t => PathOf(t!.Route!) == path);

        // The stakeholder filter lists exactly the catalog's stakeholders (a new one, such as custom, must be added).
        var stakeholder = document.Paths["/v1/metrics"].Operations.Values.SelectMany(o => o.Parameters).Single(p => p.Name == "stakeholder");
        Assert.Equal(
            Pipeline.Core.Catalog.MetricCatalog.All.Select(m => m.Stakeholder).Distinct().Order(StringComparer.Ordinal),
            stakeholder.Schema.Enum.Select(e => ((Microsoft.OpenApi.Any.OpenApiString)e).Value).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// The OpenAPI path of a route: OpenAPI has no catch-all or optional parameters, so the dashboard's
    /// <c>dashboard/{*path}</c> is the path <c>/dashboard/{path}</c>.
    /// </summary>
    private static string PathOf(string route) =>
        "/" + System.Text.RegularExpressions.Regex.Replace(route, @"\{\*{1,2}([^}?]+)\??\}|\{([^}?]+)\?\}", m => "{" + m.Groups[1].Value + m.Groups[2].Value + "}");

    [Fact]
    public async Task A_broken_document_is_reported_by_the_same_reader()
    {
        // The check above can fail: a document without responses is refused by the reader.
        const string broken = """{"openapi":"3.0.3","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{}}}}""";
        new OpenApiStringReader().Read(broken, out var diagnostic);
        Assert.NotEmpty(diagnostic.Errors);
        await Task.CompletedTask;
    }
}
