using System.Globalization;
using System.Text;
using Pipeline.Core.Time;

namespace Pipeline.Local.Simulation;

/// <summary>
/// What a plan sends and what the pipeline must make of it. Built by walking the plan in send
/// order, so every figure is a count of what actually goes on the wire:
/// <list type="bullet">
/// <item>Every valid event is accepted at ingest each time it is sent (<see cref="ValidEventsSent"/>),
/// but counts once: <see cref="UniqueValidEvents"/>, on the reporting day of its first copy
/// (<see cref="UniqueValidByDay"/>). Exact duplicates and client retries are the difference.</item>
/// <item>Every invalid event is rejected each time it is sent, with its code (<see cref="ExpectedRejectionsByCode"/>).</item>
/// <item>Invalid requests are refused whole (400) and carry no events.</item>
/// </list>
/// The per-day figures assume the pipeline corrects clock skew with <c>sentAt</c> on the same clock
/// (the correction then moves an event by the network latency only): the generator keeps every
/// event at least two seconds from a local midnight, except the midnight retries' originals, which
/// sit a few ms after it, where latency can only push them further into their day.
/// </summary>
public sealed class SimulationLedger
{
    private SimulationLedger() { }

    /// <summary>The eventIds that must be counted exactly once.</summary>
    public IReadOnlySet<string> UniqueValidEventIds { get; private init; } = new HashSet<string>();

    public int UniqueValidEvents => UniqueValidEventIds.Count;

    /// <summary>Unique valid events by wire type (custom types by their full name).</summary>
    public IReadOnlyDictionary<string, int> UniqueValidByType { get; private init; } = new Dictionary<string, int>();

    /// <summary>Unique valid events by reporting day (of the first copy sent).</summary>
    public IReadOnlyDictionary<DateOnly, int> UniqueValidByDay { get; private init; } = new Dictionary<DateOnly, int>();

    /// <summary>Sessions on each day (each session has one <c>session_start</c>).</summary>
    public IReadOnlyDictionary<DateOnly, int> SessionsByDay { get; private init; } = new Dictionary<DateOnly, int>();

    /// <summary>Distinct users with a session on each day: the expected <c>users.dau</c> total.</summary>
    public IReadOnlyDictionary<DateOnly, int> ActiveUsersByDay { get; private init; } = new Dictionary<DateOnly, int>();

    /// <summary>Sends of valid events, copies included: what the 202 responses must add up to as <c>accepted</c>.</summary>
    public int ValidEventsSent { get; private init; }

    /// <summary>Sends of invalid events (one inside a duplicated batch counts twice).</summary>
    public int InvalidEventsSent { get; private init; }

    public IReadOnlyDictionary<InvalidEventKind, int> InvalidEventsByKind { get; private init; } = new Dictionary<InvalidEventKind, int>();

    /// <summary>Rejection code → rejections the responses must report.</summary>
    public IReadOnlyDictionary<string, int> ExpectedRejectionsByCode { get; private init; } = new Dictionary<string, int>();

    public int DuplicateBatchesSent { get; private init; }

    /// <summary>Valid events inside exact duplicate batches.</summary>
    public int DuplicateEventsSent { get; private init; }

    /// <summary>Client retries of valid events (same eventId, shifted timestamp).</summary>
    public int RetriesSent { get; private init; }

    /// <summary>Retries whose timestamp is on another reporting day than their original's.</summary>
    public int RetriesAcrossMidnight { get; private init; }

    /// <summary>Events sent after at least one later day's events.</summary>
    public int LateEventsSent => LateEventIds.Count;

    /// <summary>The eventIds of the late events.</summary>
    public IReadOnlySet<string> LateEventIds { get; private init; } = new HashSet<string>();

    public int InvalidRequestsSent { get; private init; }

    public int BatchesSent { get; private init; }

    /// <summary>Every event in every body, copies and invalid ones included.</summary>
    public int EventsSent { get; private init; }

    /// <summary>Walks <paramref name="stages"/> in send order. Throws if an event's first copy shares its stage with another copy (which arrives first would be undefined).</summary>
    internal static SimulationLedger Build(IReadOnlyList<SendStage> stages, ReportingCalendar calendar, IReadOnlySet<string> lateEventIds)
    {
        var unique = new HashSet<string>(StringComparer.Ordinal);
        var byType = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var byDay = new SortedDictionary<DateOnly, int>();
        var sessionsByDay = new SortedDictionary<DateOnly, int>();
        var usersByDay = new SortedDictionary<DateOnly, HashSet<string>>();
        var rejections = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var kinds = new SortedDictionary<InvalidEventKind, int>();
        int valid = 0, invalid = 0, dupBatches = 0, dupEvents = 0, retries = 0, retriesAcross = 0, invalidRequests = 0, batches = 0, events = 0;

        foreach (var stage in stages)
        {
            var inStage = new HashSet<string>(StringComparer.Ordinal);
            foreach (var request in stage.Requests)
            {
                switch (request.Kind)
                {
                    case PlannedRequestKind.InvalidRequest: invalidRequests++; break;
                    case PlannedRequestKind.ExactDuplicate: dupBatches++; batches++; break;
                    default: batches++; break;
                }
                foreach (var e in request.Events)
                {
                    events++;
                    if (!e.IsValid)
                    {
                        invalid++;
                        rejections[e.ExpectedRejection!] = rejections.GetValueOrDefault(e.ExpectedRejection!) + 1;
                        kinds[e.Invalid!.Value] = kinds.GetValueOrDefault(e.Invalid!.Value) + 1;
                        continue;
                    }
                    valid++;
                    // Copies may share a stage; but an event's first copy must be alone in its stage, or which one counts would be a race.
                    if (inStage.Contains(e.EventId))
                        throw new InvalidOperationException($"Event {e.EventId} is first sent twice in stage '{stage.Name}': the plan must put copies in later stages.");
                    if (request.Kind == PlannedRequestKind.ExactDuplicate) dupEvents++;
                    else if (e.RetryOf is not null)
                    {
                        retries++;
                        if (calendar.DayOf(e.Time) != calendar.DayOf(e.RetryOf.Time)) retriesAcross++;
                    }
                    if (!unique.Add(e.EventId)) continue;
                    inStage.Add(e.EventId);
                    var day = calendar.DayOf(e.Time);
                    byType[e.Type] = byType.GetValueOrDefault(e.Type) + 1;
                    byDay[day] = byDay.GetValueOrDefault(day) + 1;
                    if (e.Type == "session_start")
                    {
                        sessionsByDay[day] = sessionsByDay.GetValueOrDefault(day) + 1;
                        if (!usersByDay.TryGetValue(day, out var users)) usersByDay[day] = users = new HashSet<string>(StringComparer.Ordinal);
                        users.Add(e.UserId!);
                    }
                }
            }
        }

        return new SimulationLedger
        {
            UniqueValidEventIds = unique,
            UniqueValidByType = byType,
            UniqueValidByDay = byDay,
            SessionsByDay = sessionsByDay,
            ActiveUsersByDay = usersByDay.ToDictionary(p => p.Key, p => p.Value.Count),
            ValidEventsSent = valid,
            InvalidEventsSent = invalid,
            InvalidEventsByKind = kinds,
            ExpectedRejectionsByCode = rejections,
            DuplicateBatchesSent = dupBatches,
            DuplicateEventsSent = dupEvents,
            RetriesSent = retries,
            RetriesAcrossMidnight = retriesAcross,
            LateEventIds = new HashSet<string>(lateEventIds, StringComparer.Ordinal),
            InvalidRequestsSent = invalidRequests,
            BatchesSent = batches,
            EventsSent = events,
        };
    }

    /// <summary>A few lines: what was generated and which faults were injected.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"  unique valid events  {UniqueValidEvents:N0} over {UniqueValidByDay.Count} reporting days ({string.Join(", ", UniqueValidByDay.Select(p => $"{p.Key:yyyy-MM-dd}: {p.Value:N0}"))})");
        text.AppendLine(CultureInfo.InvariantCulture, $"  by type              {string.Join(", ", UniqueValidByType.Select(p => $"{p.Key} {p.Value:N0}"))}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  faults               {DuplicateBatchesSent} duplicate batches ({DuplicateEventsSent:N0} events), {RetriesSent} retries ({RetriesAcrossMidnight} across midnight), {LateEventsSent} late, {InvalidEventsSent} invalid events, {InvalidRequestsSent} invalid requests");
        return text.ToString();
    }
}
