using System.ComponentModel.DataAnnotations;

namespace Pipeline.Core;

/// <summary>
/// Settings of the pipeline, bound from configuration section <c>Pipeline</c> (app settings
/// <c>Pipeline__ReportingTimeZone</c> and so on) and validated at start-up.
/// </summary>
public sealed class PipelineOptions
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
}
