using System.ComponentModel.DataAnnotations;
using Pipeline.Core.Ingest;

namespace Pipeline.Core;

/// <summary>
/// Settings of the pipeline, bound from configuration section <c>Pipeline</c> (app settings
/// <c>Pipeline__ReportingTimeZone</c> and so on) and validated at start-up.
/// </summary>
public sealed class PipelineOptions : IValidatableObject
{
    public const string Section = "Pipeline";

    /// <summary>IANA time zone whose calendar days are the reporting days.</summary>
    [Required]
    public string ReportingTimeZone { get; set; } = "Asia/Shanghai";

    /// <summary>Secret key of the HMAC-SHA-256 that pseudonymises <c>userId</c> (at least 32 characters). Changing it splits every user in two: see docs.</summary>
    [Required, MinLength(32)]
    public string PseudonymisationKey { get; set; } = "";

    /// <summary>Platform commission on GMV, as a fraction (0.006 = 0.6 %).</summary>
    [Range(0.0, 1.0)]
    public double CommissionRate { get; set; } = 0.006;

    /// <summary>Number of user shards of the event store and rollup. Changing it needs a full re-roll.</summary>
    [Range(1, 256)]
    public int EventStoreShards { get; set; } = 16;

    /// <summary>
    /// How many instances of the app may serve ingest at once (set it to the Function app's
    /// <c>maximumInstanceCount</c>). Each instance enforces <c>1/MaxInstances</c> of every source's
    /// rate limit, so that the whole app never admits more than the configured rate; see
    /// docs/security.md, "Rate limiting". 1 (the default) suits the local runner.
    /// </summary>
    [Range(1, 1000)]
    public int MaxInstances { get; set; } = 1;

    /// <summary>Per-source rate limit of the ingest endpoint (section <c>Pipeline:RateLimit</c>); its members are validated too.</summary>
    [Required]
    [Microsoft.Extensions.Options.ValidateObjectMembers]
    public RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>The read API's settings (section <c>Pipeline:Query</c>): small-cell suppression for developers' keys.</summary>
    [Required]
    [Microsoft.Extensions.Options.ValidateObjectMembers]
    public Query.QueryOptions Query { get; set; } = new();

    /// <summary>
    /// What attributes cannot say: the reporting time zone must exist on this machine, and the per-source
    /// overrides must be in range. Called by the source-generated validator (Pipeline.Storage's
    /// <c>PipelineOptionsValidator</c>) after the attributes, so every rule of these settings is here or on them.
    /// </summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        string? zoneProblem = null;
        try
        {
            _ = new Time.ReportingCalendar(ReportingTimeZone);
        }
        catch (ArgumentException e)
        {
            zoneProblem = $"Pipeline__ReportingTimeZone: {e.Message}";
        }
        if (zoneProblem is not null) yield return new ValidationResult(zoneProblem, [nameof(ReportingTimeZone)]);
        if (RateLimit is null) yield break;
        foreach (var problem in RateLimit.Problems())
            yield return new ValidationResult(problem, [nameof(RateLimit)]);
    }
}
