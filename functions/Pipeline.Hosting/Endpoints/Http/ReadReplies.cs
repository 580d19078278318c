using System.Globalization;
using System.IO.Compression;
using System.IO.Hashing;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Pipeline.Core.Ports;
using Pipeline.Core.Query;

namespace Pipeline.Hosting.Endpoints.Http;

/// <summary>
/// What every read endpoint does to a finished <c>200</c> answer: an <c>ETag</c> (a hash of the
/// body, so it changes exactly when the rows do: a day's rows change only when it is re-rolled; weak,
/// because the gzip and the plain answer are the same content but not the same bytes), a
/// <c>304</c> for a matching <c>If-None-Match</c>, and gzip when the client accepts it. Conditional and
/// compressed answers are computed from the same body, so both hosts answer alike.
/// </summary>
public static class ReadReplies
{
    /// <summary>How many rows small-cell suppression withheld from the page (developers' keys; absent when none).</summary>
    public const string WithheldHeader = "X-Withheld-Rows";

    /// <summary>Answers smaller than this are not worth compressing.</summary>
    private const int CompressAbove = 1024;

    public static HttpReply Finish(HttpRequest request, HttpReply reply, string cacheControl = "private, no-cache")
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(reply);
        if (reply.Status != 200) return reply;

        // The body and what travels beside it in headers (a CSV page's continuation and missing days): a 304 must
        // never stand for an answer whose paging changed while its body did not.
        var hash = new XxHash128();
        hash.Append(reply.Body.Span);
        foreach (var name in new[] { "X-Continuation", "X-Missing-Days", WithheldHeader })
            hash.Append(System.Text.Encoding.UTF8.GetBytes("\n" + name + ":" + (reply.Headers.TryGetValue(name, out var v) ? v : "")));
        var tag = "\"" + hash.GetCurrentHashAsUInt128().ToString("x32", CultureInfo.InvariantCulture) + "\"";
        var etag = "W/" + tag;
        var vary = "Accept-Encoding, X-Api-Key";
        if (Matches(request.Headers.IfNoneMatch, tag))
        {
            var notModified = new HttpReply(304, ReadOnlyMemory<byte>.Empty, reply.ContentType);
            foreach (var (name, value) in reply.Headers) notModified.WithHeader(name, value);
            return notModified.WithHeader("ETag", etag).WithHeader("Vary", vary).WithHeader("Cache-Control", cacheControl);
        }

        var answer = reply;
        if (reply.Body.Length > CompressAbove && AcceptsGzip(request.Headers.AcceptEncoding))
        {
            using var buffer = new MemoryStream(reply.Body.Length / 4 + 64);
            using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
                gzip.Write(reply.Body.Span);
            answer = new HttpReply(200, buffer.ToArray(), reply.ContentType).WithHeader("Content-Encoding", "gzip");
            foreach (var (name, value) in reply.Headers) answer.WithHeader(name, value);
        }
        return answer.WithHeader("ETag", etag).WithHeader("Vary", vary).WithHeader("Cache-Control", cacheControl);
    }

    public static HttpReply Error(QueryError error) => HttpReply.Error(error.Status, error.Code, error.Message, error.Parameter);

    /// <summary>
    /// Runs a read endpoint's handler; storage that cannot be reached (which Storage reports as
    /// <see cref="StorageUnavailableException"/> at its boundary) is a <c>503 storage_unavailable</c> with
    /// <c>Retry-After</c>, as on the write path, so clients back off and retry; anything else is a bug:
    /// logged with a correlation id and answered <c>500</c> (<see cref="HttpReply.InternalError"/>).
    /// </summary>
    public static async Task<HttpReply> GuardAsync(Func<Task<HttpReply>> handle, Microsoft.Extensions.Logging.ILogger logger, string operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        try
        {
            return await handle().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not StorageUnavailableException && (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested))
        {
            return HttpReply.InternalError(logger, e, operation);
        }
        catch (StorageUnavailableException e)
        {
            return HttpReply.Error(503, "storage_unavailable", "Storage could not be reached, so nothing could be read; try again after Retry-After seconds.")
                .WithHeader("Retry-After", Math.Max(1, (int)Math.Ceiling(e.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
        }
    }

    // If-None-Match compares weakly (RFC 9110, 13.1.2): the quoted tag, with or without W/.
    private static bool Matches(Microsoft.Extensions.Primitives.StringValues ifNoneMatch, string tag)
    {
        if (ifNoneMatch.Count == 0) return false;
        if (!EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags)) return false;
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Tag.Equals(tag, StringComparison.Ordinal));
    }

    private static bool AcceptsGzip(Microsoft.Extensions.Primitives.StringValues acceptEncoding)
    {
        if (acceptEncoding.Count == 0 || !StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var codings)) return false;
        return codings.Any(c => (c.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase) || c.Value.Equals("*", StringComparison.Ordinal)) && (c.Quality ?? 1) > 0);
    }
}
