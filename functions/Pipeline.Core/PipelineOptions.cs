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

    /// <summary>Per-source rate limit of the ingest endpoint (section <c>Pipeline:RateLimit</c>).</summary>
    [Required]
    public RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>Validates the nested <see cref="RateLimit"/> section (data annotations do not recurse).</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (RateLimit is null) yield break;
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(RateLimit, new ValidationContext(RateLimit), results, validateAllProperties: true);
        foreach (var r in results)
            yield return new ValidationResult("Pipeline:RateLimit: " + r.ErrorMessage, r.MemberNames.Select(m => nameof(RateLimit) + "." + m));
        foreach (var problem in RateLimit.Problems())
            yield return new ValidationResult(problem, [nameof(RateLimit)]);
    }
}
