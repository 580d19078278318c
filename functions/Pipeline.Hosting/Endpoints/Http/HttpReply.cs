using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Pipeline.Hosting.Endpoints.Http;

/// <summary>
/// A finished HTTP answer (status, headers, body) that both hosts can return: the local
/// runner's minimal API takes it as an <see cref="IResult"/>, the Functions app as an
/// <see cref="IActionResult"/>, so neither host formats responses itself.
/// </summary>
public sealed class HttpReply(int status, ReadOnlyMemory<byte> body, string contentType) : IResult, IActionResult
{
    public const string Json = "application/json; charset=utf-8";
    public const string Csv = "text/csv; charset=utf-8";

    public int Status { get; } = status;
    public ReadOnlyMemory<byte> Body { get; } = body;
    public string ContentType { get; } = contentType;
    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    public HttpReply WithHeader(string name, string value)
    {
        Headers[name] = value;
        return this;
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = Status;
        if (Status != 304) // a 304 describes the stored 200; it has no body of its own
        {
            response.ContentType = ContentType;
            response.ContentLength = Body.Length;
        }
        foreach (var (name, value) in Headers)
            response.Headers[name] = value;
        await response.Body.WriteAsync(Body, httpContext.RequestAborted).ConfigureAwait(false);
    }

    Task IActionResult.ExecuteResultAsync(ActionContext context) => ExecuteAsync(context.HttpContext);

    /// <summary>
    /// A failure that is not the caller's and not a storage outage (a bug): logged with its exception and a
    /// correlation id, answered <c>500 internal_error</c> with the same id, so an operator finds the log line
    /// from what the client reports. Nothing of the exception goes to the client.
    /// </summary>
    public static HttpReply InternalError(Microsoft.Extensions.Logging.ILogger logger, Exception exception, string operation)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var correlationId = System.Diagnostics.Activity.Current?.TraceId.ToString() ?? Guid.NewGuid().ToString("N");
        Microsoft.Extensions.Logging.LoggerExtensions.LogError(logger, exception, "{Operation} failed unexpectedly; correlation id {CorrelationId}", operation, correlationId);
        return Error(500, "internal_error", $"The request failed unexpectedly; nothing was acknowledged. Quote correlation id {correlationId} to the pipeline's operators.")
            .WithHeader("X-Correlation-Id", correlationId);
    }

    /// <summary><c>{"error":{"code":"…","message":"…"[,"parameter":"…"]}}</c>, the contract's error shape; <paramref name="parameter"/> names the query parameter at fault.</summary>
    public static HttpReply Error(int status, string code, string message, string? parameter = null, Action<System.Text.Json.Utf8JsonWriter>? extra = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("code", code);
            writer.WriteString("message", message);
            if (parameter is not null) writer.WriteString("parameter", parameter);
            writer.WriteEndObject();
            extra?.Invoke(writer); // members beside "error", such as ingest's "rejected"
            writer.WriteEndObject();
        }
        return new HttpReply(status, buffer.WrittenMemory, Json);
    }
}
