namespace Pipeline.Core.Catalog;

/// <summary>How a metric's value is formed; decides which rows exist (docs/metric-definitions.md, "Which rows exist").</summary>
public enum MetricKind
{
    /// <summary>A count: a <c>total</c> row always, other dimension values only when not 0.</summary>
    Count,
    /// <summary>A sum of a quantity (not money): like <see cref="Count"/>.</summary>
    Sum,
    /// <summary>Money in integer minor units, one row per currency, written only when not 0.</summary>
    Money,
    /// <summary>Numerator / denominator, written only when the denominator is not 0 (even when the value is 0).</summary>
    Ratio,
    /// <summary>A percentile (exact, nearest rank), written only when there is at least one value.</summary>
    Percentile,
}

/// <summary>Spellings of the catalog's tiers.</summary>
public static class MetricTiers
{
    public const string NorthStar = "northstar";
    public const string Core = "core";
    public const string Supporting = "supporting";
    public const string Guardrail = "guardrail";
}

/// <summary>Spellings of the catalog's dimensions (docs/metric-definitions.md, "Dimensions").</summary>
public static class Dimensions
{
    public const string Total = "total";
    public const string MiniProgram = "miniProgram";
    public const string Channel = "channel";
    public const string Source = "source";
    public const string Platform = "platform";
    public const string Currency = "currency";
    public const string MiniProgramCurrency = "miniProgram.currency";
    public const string MiniProgramPage = "miniProgram.page";
    public const string DurationBucket = "durationBucket";
    public const string DepthBucket = "depthBucket";
    public const string MiniProgramChannel = "miniProgram.channel";
    public const string MiniProgramSource = "miniProgram.source";
    public const string MiniProgramPlatform = "miniProgram.platform";
    public const string MiniProgramDurationBucket = "miniProgram.durationBucket";
    public const string MiniProgramDepthBucket = "miniProgram.depthBucket";
    public const string Event = "event";
    public const string MiniProgramEvent = "miniProgram.event";
    public const string MiniProgramReferrer = "miniProgram.referrer";
}

/// <summary>One metric of the catalog (docs/metric-definitions.md).</summary>
/// <param name="Id">The metric id, for example <c>users.dau</c>.</param>
/// <param name="Tier"><c>northstar</c>, <c>core</c>, <c>supporting</c> or <c>guardrail</c>.</param>
/// <param name="Unit">Unit of metric row values, for example <c>users</c> or <c>minor_units</c>.</param>
/// <param name="Kind">How the value is formed.</param>
/// <param name="Dimensions">The dimensions the metric is broken down by, in the spec's spelling and order.</param>
/// <param name="Meaning">One line for people.</param>
public sealed record MetricDefinition(
    string Id,
    string Tier,
    string Unit,
    MetricKind Kind,
    IReadOnlyList<string> Dimensions,
    string Meaning)
{
    /// <summary>The id's prefix: <c>northstar</c>, <c>users</c>, <c>developers</c>, <c>businesses</c>, <c>platform</c>, <c>risk</c>, <c>pages</c> or <c>custom</c>.</summary>
    public string Stakeholder { get; } = Id[..Id.IndexOf('.')];

    public bool HasDimension(string dimension)
    {
        foreach (var d in Dimensions)
            if (string.Equals(d, dimension, StringComparison.Ordinal)) return true;
        return false;
    }
}
