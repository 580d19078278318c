using System.ComponentModel.DataAnnotations;

namespace Pipeline.Core.Ingest;

/// <summary>
/// Per-source rate limit of <c>POST /api/v1/events</c>, bound from <c>Pipeline:RateLimit</c>
/// (app settings <c>Pipeline__RateLimit__EventsPerSecond</c>, <c>Pipeline__RateLimit__Burst</c>, …).
/// The limit counts <b>events</b> (every event of a parsed batch, accepted or not), not requests:
/// a 1000-event batch costs 1000 tokens, a batch that is not even JSON costs 1. Both figures are
/// for the whole app; each instance enforces its share, <see cref="PipelineOptions.MaxInstances"/>
/// (see <see cref="IngestRateLimiter"/> and docs/security.md, "Rate limiting").
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>False turns the limit off (every source unlimited).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Sustained events per second one source may send to the whole app.</summary>
    [Range(0.001, 1_000_000_000)]
    public double EventsPerSecond { get; set; } = 5_000;

    /// <summary>Events one source may send at once after being idle (the bucket's capacity), for the whole app.</summary>
    [Range(1, 1_000_000_000)]
    public double Burst { get; set; } = 20_000;

    /// <summary>
    /// Per-source overrides by source name (<c>Pipeline__RateLimit__Sources__payments__EventsPerSecond</c>);
    /// a value left out falls back to the global one.
    /// </summary>
    public Dictionary<string, SourceRateLimit> Sources { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The whole-app limit of <paramref name="source"/>: its override where set, else the global figures.</summary>
    public (double EventsPerSecond, double Burst) For(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Sources.TryGetValue(source, out var o)
            ? (o.EventsPerSecond ?? EventsPerSecond, o.Burst ?? Burst)
            : (EventsPerSecond, Burst);
    }

    /// <summary>Problems of these settings, for start-up validation (empty when valid).</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var (name, o) in Sources)
        {
            // Configuration keys keep the case they were written in; source names are lowercase, and the
            // lookup ignores case, so the rule is checked on the lowercase name. A key that is no source's
            // name would silently never apply: a typo must stop the start, not pass unnoticed.
            if (!SourceNames.IsValid(name.ToLowerInvariant()))
                yield return $"Pipeline:RateLimit:Sources:{name} is not a source name ({SourceNames.Rule}), so its limit would never apply.";
            if (o is null) continue;
            if (o.EventsPerSecond is { } r && !(r >= 0.001 && r <= 1_000_000_000))
                yield return $"Pipeline:RateLimit:Sources:{name}:EventsPerSecond must be between 0.001 and 1e9 (was {r}).";
            if (o.Burst is { } b && !(b >= 1 && b <= 1_000_000_000))
                yield return $"Pipeline:RateLimit:Sources:{name}:Burst must be between 1 and 1e9 (was {b}).";
        }
    }
}

/// <summary>A source's own limit (whole app); null fields use the global value.</summary>
public sealed class SourceRateLimit
{
    public double? EventsPerSecond { get; set; }
    public double? Burst { get; set; }
}
