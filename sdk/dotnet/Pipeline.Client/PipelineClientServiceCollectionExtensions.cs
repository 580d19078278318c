using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Pipeline.Client;

/// <summary>Registers <see cref="PipelineClient"/> with dependency injection.</summary>
public static class PipelineClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="PipelineClient"/> (also as <see cref="IPipelineClient"/>) as a
    /// singleton, on a named <see cref="HttpClient"/> (<see cref="PipelineClient.HttpClientName"/>)
    /// from the HTTP client factory, with the container's <see cref="TimeProvider"/> if it has one.
    /// The options are validated when the client is first resolved.
    /// </summary>
    /// <remarks>
    /// The client is only <see cref="IAsyncDisposable"/>: the container disposes it with
    /// <c>DisposeAsync</c> at shutdown (the generic host and ASP.NET Core do), which flushes the
    /// buffer for at most <see cref="PipelineClientOptions.ShutdownTimeout"/>. A container disposed
    /// synchronously (<c>ServiceProvider.Dispose()</c>) after resolving the client throws
    /// <see cref="InvalidOperationException"/> instead of blocking on that flush; dispose such a
    /// container with <c>DisposeAsync</c>.
    /// </remarks>
    /// <returns>The builder of the named HTTP client, to add handlers (proxies, logging) to it.</returns>
    /// <example>
    /// <code>
    /// services.AddPipelineClient(o =>
    /// {
    ///     o.Endpoint = new Uri("https://metrics.example.com");
    ///     o.ApiKey = configuration["Pipeline:IngestKey"]!;
    ///     o.MiniProgramId = "wx1234567890abcdef";
    /// });
    /// </code>
    /// </example>
    public static IHttpClientBuilder AddPipelineClient(this IServiceCollection services, Action<PipelineClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<PipelineClientOptions>().Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PipelineClientOptions>, OptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var factory = sp.GetRequiredService<IHttpClientFactory>();
            // A client per attempt lets the factory rotate handlers. While the container is being
            // disposed (when the client flushes) the factory can no longer build a handler, so the
            // last client is kept to send the final batches.
            var last = factory.CreateClient(PipelineClient.HttpClientName);
            return new PipelineClient(
                () =>
                {
                    try
                    {
                        return last = factory.CreateClient(PipelineClient.HttpClientName);
                    }
                    catch (ObjectDisposedException)
                    {
                        return last;
                    }
                },
                sp.GetRequiredService<IOptions<PipelineClientOptions>>().Value,
                sp.GetService<ILogger<PipelineClient>>(),
                sp.GetService<TimeProvider>());
        });
        services.TryAddSingleton<IPipelineClient>(sp => sp.GetRequiredService<PipelineClient>());
        return services.AddHttpClient(PipelineClient.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan);
    }

    private sealed class OptionsValidator : IValidateOptions<PipelineClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, PipelineClientOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
