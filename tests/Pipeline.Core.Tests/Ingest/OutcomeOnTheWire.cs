using Pipeline.Hosting.Endpoints.Http;
using Pipeline.Core.Ingest;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>
/// What the HTTP endpoint answers for an outcome, through the one mapping it uses
/// (<see cref="IngestReplies"/>): so the ingest tests go on checking the contract's status codes and
/// bodies while Core itself returns only a typed <see cref="IngestOutcome"/>.
/// </summary>
internal static class OutcomeOnTheWire
{
    extension(IngestOutcome outcome)
    {
        /// <summary>The HTTP status the endpoint sends.</summary>
        public int Status => IngestReplies.StatusOf(outcome.Kind);

        /// <summary>The JSON body the endpoint sends.</summary>
        public byte[] Body => IngestReplies.ToReply(outcome).Body.ToArray();
    }
}
