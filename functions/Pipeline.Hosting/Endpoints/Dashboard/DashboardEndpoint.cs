using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Pipeline.Hosting.Endpoints.Http;
using Pipeline.Core;

namespace Pipeline.Hosting.Endpoints.Dashboard;

/// <summary>
/// <c>GET /dashboard/{path}</c> (in Azure <c>/api/dashboard/{path}</c>): the web dashboard, a static page
/// built from <c>web/dashboard</c> at compile time and embedded in this assembly, so both hosts serve the same
/// bytes with no CDN and no file system. The page reads the query API with the reader's own key; this endpoint
/// serves no data, only the page, its assets and <c>config.json</c> (the reporting time zone, which the rows
/// do not carry). Every answer carries a strict Content-Security-Policy: scripts only from this origin, no
/// inline script, no connection anywhere but this origin.
/// </summary>
public sealed class DashboardEndpoint(PipelineOptions options)
{
    public const string Route = "dashboard/{*path}";

    /// <summary>Prefix of the embedded files' manifest names (see Pipeline.Hosting.csproj).</summary>
    internal const string ResourcePrefix = "Pipeline.Hosting.Endpoints.Dashboard/";

    /// <summary>
    /// Inline styles are allowed because ECharts positions its tooltips and colours their markers with style
    /// attributes; scripts, the real risk, are limited to the page's own bundle.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, (ReadOnlyMemory<byte> Body, string ContentType)> Files = Load();

    private readonly ReadOnlyMemory<byte> config = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["reportingTimeZone"] = options.ReportingTimeZone,
    }));

    public HttpReply Handle(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = FileName(request.Path.Value ?? "/");
        if (name is null)
        {
            // ".../dashboard" without the slash: the page's relative asset links need the folder form.
            return Secure(new HttpReply(301, ReadOnlyMemory<byte>.Empty, "text/plain; charset=utf-8")
                .WithHeader("Location", (request.PathBase + request.Path).Value + "/"));
        }
        if (name == "config.json")
            return Secure(ReadReplies.Finish(request, new HttpReply(200, config, HttpReply.Json), "no-cache"));
        if (!Files.TryGetValue(name, out var file))
            return Secure(HttpReply.Error(404, "not_found", $"The dashboard has no file '{name}'."));
        // File names carry no content hash, so browsers revalidate every load: a 304 when unchanged.
        return Secure(ReadReplies.Finish(request, new HttpReply(200, file.Body, file.ContentType), "no-cache"));
    }

    /// <summary>
    /// The file a request path names: what follows the <c>dashboard/</c> segment (<c>index.html</c> when
    /// nothing does), or null for the folder without its trailing slash.
    /// </summary>
    public static string? FileName(string path)
    {
        const string folder = "/dashboard";
        var at = path.LastIndexOf(folder + "/", StringComparison.OrdinalIgnoreCase);
        if (at < 0) return path.EndsWith(folder, StringComparison.OrdinalIgnoreCase) ? null : "index.html";
        var rest = path[(at + folder.Length + 1)..];
        return rest.Length == 0 ? "index.html" : rest;
    }

    private static HttpReply Secure(HttpReply reply) => reply
        .WithHeader("Content-Security-Policy", ContentSecurityPolicy)
        .WithHeader("X-Content-Type-Options", "nosniff")
        .WithHeader("Referrer-Policy", "no-referrer");

    private static FrozenDictionary<string, (ReadOnlyMemory<byte>, string)> Load()
    {
        var assembly = typeof(DashboardEndpoint).Assembly;
        var files = new Dictionary<string, (ReadOnlyMemory<byte>, string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var name = resource[ResourcePrefix.Length..].Replace('\\', '/');
            files[name] = (copy.ToArray(), ContentType(name));
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string name) => Path.GetExtension(name).ToLowerInvariant() switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".json" => HttpReply.Json,
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".ico" => "image/x-icon",
        ".map" => HttpReply.Json,
        ".txt" => "text/plain; charset=utf-8", // the bundled libraries' licence notices
        _ => "application/octet-stream",
    };
}
