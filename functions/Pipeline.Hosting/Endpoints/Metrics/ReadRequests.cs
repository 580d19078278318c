using Microsoft.AspNetCore.Http;

namespace Pipeline.Hosting.Endpoints.Metrics;

/// <summary>The query string as the host-neutral parsers in Core take it: name → values, names compared ignoring case.</summary>
internal static class ReadRequests
{
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Parameters(HttpRequest request)
    {
        var parameters = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Query)
            parameters[name] = values.Where(v => v is not null).Select(v => v!).ToList();
        return parameters;
    }
}
