using Microsoft.AspNetCore.Http;
using Pipeline.Hosting.Endpoints.Http;

namespace Pipeline.Hosting.Endpoints.OpenApi;

/// <summary>
/// <c>GET /api/v1/openapi.json</c>: the OpenAPI 3.0 document of the write and read endpoints. Written by
/// hand next to the endpoints (it is the contract, reviewed like code) and embedded in the assembly;
/// the tests validate it with an OpenAPI reader and check that it names every route both hosts serve.
/// </summary>
public sealed class OpenApiEndpoint
{
    public const string Route = "v1/openapi.json";

    public static ReadOnlyMemory<byte> Document { get; } = Load();

    public HttpReply Handle(HttpRequest request) =>
        ReadReplies.Finish(request, new HttpReply(200, Document, HttpReply.Json), "public, max-age=300");

    private static byte[] Load()
    {
        using var stream = typeof(OpenApiEndpoint).Assembly.GetManifestResourceStream("Pipeline.Hosting.Endpoints.OpenApi.openapi.json")
            ?? throw new InvalidOperationException("The OpenAPI document is not embedded in Pipeline.Hosting.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
