using Pipeline.Core.Time;
using Pipeline.Local.Simulation;

namespace Pipeline.Benchmarks.Load;

/// <summary>
/// What the harness sent and what the server answered, request by request: status counts,
/// latencies, and, for the accepted events, the counts the stores must show per reporting day.
/// Thread-safe: requests complete concurrently.
/// </summary>
public sealed class LoadTally(ReportingCalendar calendar)
{
    private readonly Lock _lock = new();
    private readonly List<double> _latencies = [];
    private readonly Dictionary<int, long> _byStatus = [];
    private readonly Dictionary<DateOnly, DayExpectation> _days = [];
    // Session key (user, mini-program, session) -> earliest reporting day of its session_start.
    private readonly Dictionary<(string User, string MiniProgram, string Session), DateOnly> _sessionStarts = [];
    private long _accepted, _sent, _requests, _partial;

    public long AcceptedEvents { get { lock (_lock) return _accepted; } }

    public long SentEvents { get { lock (_lock) return _sent; } }

    public long Requests { get { lock (_lock) return _requests; } }

    /// <summary>Answers of 202 that accepted fewer events than the batch held.</summary>
    public long PartialAccepts { get { lock (_lock) return _partial; } }

    /// <summary>Requests answered 5xx, or not answered at all (status 0).</summary>
    public long FailedRequests { get { lock (_lock) return _byStatus.Where(kv => kv.Key is 0 or >= 500).Sum(kv => kv.Value); } }

    /// <param name="status">HTTP status; 0 when no answer came.</param>
    /// <param name="rejectedIndexes">Indexes of the batch's events the 202 listed as rejected.</param>
    public void Record(int status, double milliseconds, IReadOnlyList<SimulatedEvent> batch, IReadOnlyCollection<int> rejectedIndexes)
    {
        lock (_lock)
        {
            _latencies.Add(milliseconds);
            _byStatus[status] = _byStatus.GetValueOrDefault(status) + 1;
            _requests++;
            _sent += batch.Count;
            if (status != 202) return;
            if (rejectedIndexes.Count > 0) _partial++;
            for (var i = 0; i < batch.Count; i++)
            {
                if (rejectedIndexes.Contains(i)) continue;
                var e = batch[i];
                var day = calendar.DayOf(e.Time.ToUnixTimeMilliseconds());
                var expected = _days.TryGetValue(day, out var x) ? x : _days[day] = new DayExpectation();
                _accepted++;
                expected.Events++;
                switch (e.Type)
                {
                    case "page_view": expected.PageViews++; break;
                    case "share": expected.Shares++; break;
                    case "ad_impression": expected.AdImpressions++; break;
                    case "ad_click": expected.AdClicks++; break;
                    case "session_start":
                        var key = (e.UserId ?? "", e.MiniProgramId, e.SessionId ?? "");
                        if (!_sessionStarts.TryGetValue(key, out var first) || day < first) _sessionStarts[key] = day;
                        break;
                }
            }
        }
    }

    /// <summary>Forgets the latencies so far (the warm-up's); every count is kept.</summary>
    public void ClearLatencies() { lock (_lock) _latencies.Clear(); }

    public IReadOnlyDictionary<int, long> ByStatus() { lock (_lock) return new Dictionary<int, long>(_byStatus); }

    /// <summary>Per reporting day: accepted events and the event-counting metrics they must give.</summary>
    public IReadOnlyDictionary<DateOnly, DayExpectation> Expected()
    {
        lock (_lock)
        {
            var copy = _days.ToDictionary(kv => kv.Key, kv => kv.Value with { });
            // A session counts on the day of its earliest session_start (docs/metric-definitions.md, users.sessions).
            foreach (var day in _sessionStarts.Values)
                (copy.TryGetValue(day, out var x) ? x : copy[day] = new DayExpectation()).Sessions++;
            return copy;
        }
    }

    public double[] SortedLatencies()
    {
        lock (_lock)
        {
            var copy = _latencies.ToArray();
            Array.Sort(copy);
            return copy;
        }
    }
}

/// <summary>Counts of one reporting day: events, and the metrics that count events or sessions exactly.</summary>
public sealed record DayExpectation
{
    public long Events { get; set; }
    public long PageViews { get; set; }
    public long Shares { get; set; }
    public long AdImpressions { get; set; }
    public long AdClicks { get; set; }
    public long Sessions { get; set; }
}
