using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Ingest;

namespace Pipeline.Hosting.Endpoints.Http;

/// <summary><c>POST /api/v1/events</c>: hands the request to <see cref="IngestHandler"/> and maps its outcome to HTTP.</summary>
public sealed class IngestEndpoint(IngestHandler handler, ILogger<IngestEndpoint> logger)
{
    public const string Route = "v1/events";

    public async Task<HttpReply> HandleAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        IngestOutcome outcome;
        try
        {
            outcome = await handler.HandleAsync(
                new IngestRequest(
                    request.Headers["X-Api-Key"].FirstOrDefault(),
                    request.ContentType,
                    request.Headers.ContentEncoding.FirstOrDefault(),
                    request.Body),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HttpReply.InternalError(logger, e, "Ingest");
        }

        var reply = IngestReplies.ToReply(outcome);
        if (outcome.Kind == IngestResultKind.Unavailable)
            logger.LogWarning(outcome.Failure, "Ingest {Status} {ErrorCode}: nothing acknowledged (source {Source})", reply.Status, outcome.ErrorCode, outcome.Source);
        else
            logger.LogInformation("Ingest {Status} batch {BatchId} source {Source}: {Accepted} accepted, {Rejected} rejected {ErrorCode}",
                reply.Status, outcome.BatchId, outcome.Source, outcome.Accepted, outcome.Rejected, outcome.ErrorCode);
        return reply;
    }
}
