using System.Net;
using System.Net.Http.Headers;
using Pipeline.Hosting.Endpoints.Dashboard;

namespace Pipeline.Integration.Tests.Query;

/// <summary>
/// The dashboard as the local runner serves it (the Functions trigger calls the same endpoint): the embedded
/// page and bundle with their content types, a strict Content-Security-Policy, ETags that revalidate to 304,
/// the reporting time zone in config.json, and the redirects that give the page's relative links their folder.
/// The page itself is tested in a browser by tests/Pipeline.Browser.Tests.
/// </summary>
public sealed class DashboardEndpointTests(QueryFixture f) : IClassFixture<QueryFixture>
{
    // The built bundle is embedded: each of its files is served below with its own content.
    [Theory]
    [InlineData("/dashboard/", "text/html", "<script src=\"app.js\"")]
    [InlineData("/dashboard/index.html", "text/html", "<link rel=\"stylesheet\" href=\"app.css\">")]
    [InlineData("/dashboard/app.js", "text/javascript", "X-Api-Key")]
    [InlineData("/dashboard/app.css", "text/css", ".tile")]
    [InlineData("/dashboard/config.json", "application/json", "\"reportingTimeZone\":\"Asia/Shanghai\"")]
    public async Task Files_are_served_with_their_type_and_a_strict_policy(string path, string type, string content)
    {
        var response = await f.Host.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(content, await response.Content.ReadAsStringAsync());
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self';", policy);
        Assert.DoesNotContain("unsafe-eval", policy);
        Assert.Contains("connect-src 'self'", policy);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task An_unchanged_file_revalidates_to_304()
    {
        var first = await f.Host.Http.GetAsync("/dashboard/app.js");
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/app.js");
        request.Headers.IfNoneMatch.Add(etag);
        var second = await f.Host.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task The_root_and_the_folder_without_a_slash_redirect_to_the_page_and_unknown_files_are_404()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = f.Host.Http.BaseAddress };
        var root = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/dashboard/", root.Headers.Location!.OriginalString);
        var folder = await client.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.MovedPermanently, folder.StatusCode);
        Assert.Equal("/dashboard/", folder.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/dashboard/nothing.js")).StatusCode);
    }

    [Theory]
    [InlineData("/dashboard/", "index.html")]
    [InlineData("/api/dashboard/", "index.html")]
    [InlineData("/api/dashboard/app.js", "app.js")]
    [InlineData("/dashboard", null)]
    [InlineData("/api/dashboard", null)]
    public void The_file_is_what_follows_the_dashboard_folder_in_either_host(string path, string? file) =>
        Assert.Equal(file, DashboardEndpoint.FileName(path));
}
