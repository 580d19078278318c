using System.Globalization;
using System.Text;

namespace Pipeline.Local.Simulation;

/// <summary>What a run sent, what the endpoint answered, and what the pipeline must end up counting.</summary>
public sealed class SimulationReport
{
    /// <summary>Requests of the plan (batches, duplicate batches and invalid requests), each counted once however often it was retried.</summary>
    public required int RequestsPlanned { get; init; }

    /// <summary>HTTP requests made, retries after 429/503 included.</summary>
    public required int RequestsSent { get; init; }

    /// <summary>HTTP status → responses (every attempt; 0 for a connection that failed).</summary>
    public required IReadOnlyDictionary<int, int> ResponsesByStatus { get; init; }

    /// <summary>Planned requests whose final answer was not the expected status (202 for a batch, 400 for an invalid request), or that never got an answer.</summary>
    public required int RequestsFailed { get; init; }

    /// <summary>Planned requests answered with the expected status but other accepted or rejected counts than their events call for.</summary>
    public required int RequestsWithUnexpectedCounts { get; init; }

    /// <summary>429 and 503 answers, each followed by a wait for Retry-After.</summary>
    public required int Throttled { get; init; }

    /// <summary>Events in the bodies of the planned requests (copies and invalid ones included).</summary>
    public required int EventsSent { get; init; }

    /// <summary>Sum of <c>accepted</c> over the final answers.</summary>
    public required int EventsAccepted { get; init; }

    public required int EventsRejected { get; init; }

    /// <summary>Rejection code → rejected events, from the <c>rejected</c> arrays of the final answers.</summary>
    public required IReadOnlyDictionary<string, int> RejectedByCode { get; init; }

    /// <summary><c>error.code</c> of the 400 answers → count.</summary>
    public required IReadOnlyDictionary<string, int> RequestErrorsByCode { get; init; }

    /// <summary>The first problems met (unexpected statuses or counts), one line each.</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    public required TimeSpan Elapsed { get; init; }

    public required SimulationLedger Ledger { get; init; }

    /// <summary>Events the pipeline must count exactly once.</summary>
    public int UniqueValidEventsExpected => Ledger.UniqueValidEvents;

    /// <summary>Copies of valid events sent: events in exact duplicate batches plus client retries. None of them may be counted.</summary>
    public int DuplicatesSent => Ledger.DuplicateEventsSent + Ledger.RetriesSent;

    /// <summary>Reporting day (in the reporting time zone) → unique valid events the event store must hold for it.</summary>
    public IReadOnlyDictionary<DateOnly, int> ExpectedByDay => Ledger.UniqueValidByDay;

    public double EventsPerSecond => Elapsed > TimeSpan.Zero ? EventsSent / Elapsed.TotalSeconds : 0;

    /// <summary>True when every answer is what the contract prescribes for what was sent.</summary>
    public bool MatchesExpectations =>
        RequestsFailed == 0 && RequestsWithUnexpectedCounts == 0 && EventsAccepted == Ledger.ValidEventsSent &&
        RejectedByCode.Count == Ledger.ExpectedRejectionsByCode.Count &&
        RejectedByCode.All(p => Ledger.ExpectedRejectionsByCode.GetValueOrDefault(p.Key) == p.Value);

    public string Describe()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Simulation: {RequestsPlanned:N0} requests ({RequestsSent:N0} sent, {Throttled} throttled and retried), {EventsSent:N0} events in {Elapsed.TotalSeconds:0.0} s ({EventsPerSecond:N0} events/s)");
        text.AppendLine(c, $"  responses            {Join(ResponsesByStatus.OrderBy(p => p.Key).Select(p => $"{(p.Key == 0 ? "no answer" : p.Key.ToString(c))}: {p.Value:N0}"))}");
        text.AppendLine(c, $"  accepted             {EventsAccepted:N0} (expected {Ledger.ValidEventsSent:N0}: {Ledger.UniqueValidEvents:N0} unique + {DuplicatesSent:N0} copies that must count once)");
        text.AppendLine(c, $"  rejected             {EventsRejected:N0} (expected {Ledger.InvalidEventsSent:N0}){(RejectedByCode.Count > 0 ? ": " : "")}{Join(RejectedByCode.Select(p => $"{p.Key} {p.Value}"))}");
        if (RequestErrorsByCode.Count > 0)
            text.AppendLine(c, $"  refused requests     {Join(RequestErrorsByCode.Select(p => $"{p.Key} {p.Value}"))} (expected {Ledger.InvalidRequestsSent} invalid requests)");
        text.Append(Ledger.Describe());
        text.AppendLine(c, $"  expected per day     {Join(ExpectedByDay.Select(p => $"{p.Key:yyyy-MM-dd} {p.Value:N0}"))}");
        text.Append(MatchesExpectations ? "  result               every answer as expected" : $"  result               {RequestsFailed} failed requests, {RequestsWithUnexpectedCounts} with unexpected counts");
        foreach (var problem in Problems) text.Append(c, $"{Environment.NewLine}    - {problem}");
        return text.ToString();
    }

    public override string ToString() => Describe();

    private static string Join(IEnumerable<string> parts) => string.Join(", ", parts);
}
